"""The list caches' data version without a query per hit: the write mark moves after a
committed write to the events tables of this process (ORM or Core, any Store), not for
reads or other tables; the clock re-reads the data version when the mark moved or its
ttl passed, and only then. On SQLite and PostGIS."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, select, update

from gis_core.auth.accounts import Accounts
from gis_core.events.version_clock import VersionClock
from gis_core.storage import Store
from gis_core.storage.models import Event
from gis_core.storage.write_marks import bump, mark


def _event_row(n: int) -> dict[str, object]:
    now = datetime.now(UTC)
    return {
        "public_id": f"T-{n}",
        "source": "hotline",
        "status": "reported",
        "priority": "normal",
        "lon": 117.3,
        "lat": 31.8,
        "input_crs": "wgs84",
        "reported_at": now,
        "updated_at": now,
        "description": "",
    }


def test_the_mark_moves_after_event_writes_only(store: Store) -> None:
    before = mark()
    with store.session(write=False) as s:
        s.execute(select(Event.id)).all()
    Accounts(store).create_key("mark-test", ["locate"])  # another table
    assert mark() == before
    with store.connection() as conn:  # Core insert
        conn.execute(insert(Event).values(**_event_row(1)))
        assert mark() == before  # not before the commit
    core = mark()
    assert core != before
    with store.session() as s:  # ORM update
        s.execute(update(Event).values(priority="urgent"))
    assert mark() != core
    with Store(store.url) as other:  # another Store of this process
        seen = mark()
        with other.session() as s:
            s.add(Event(**_event_row(2)))
        assert mark() != seen


def test_the_clock_reads_only_when_needed() -> None:
    reads: list[int] = []

    def query() -> int:
        reads.append(1)
        return len(reads)

    clock = VersionClock(ttl=3600.0)
    assert clock.peek() is None
    first = clock.read(query)
    assert clock.read(query) == first == clock.peek() and len(reads) == 1
    bump()  # this process wrote: the next reader queries again
    assert clock.peek() is None
    second = clock.read(query)
    assert second != first and len(reads) == 2
    clock.ttl = 0.0  # another process's write: seen after ttl; 0 reads every time
    clock.read(query)
    clock.read(query)
    assert len(reads) == 4 and clock.peek() is None


def test_which_statements_count_as_writes() -> None:
    from gis_core.storage.write_marks import _written

    assert _written("SELECT max(id) FROM events") == []
    assert _written("WITH t AS (SELECT id FROM events) SELECT count(*) FROM t") == []
    assert _written("INSERT INTO events (source) VALUES (?)") == ["events"]
    assert _written("with t as (select 1) update events set status = 'closed'") == ["events"]
    assert _written("UPDATE device_alarms SET alarm_count = 2") == ["events"]
    assert _written("UPDATE users SET token_version = 2") == ["users"]
    assert _written("INSERT INTO event_history (seq) VALUES (1)") == []
