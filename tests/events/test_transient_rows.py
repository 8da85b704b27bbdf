"""`insert_rows.transient`: the unsaved objects intake builds without the ORM constructor."""

from datetime import UTC, datetime

import pytest
import shapely
from sqlalchemy import inspect

from gis_core.events.insert_rows import transient
from gis_core.storage.models import Attachment, Event, EventHistory


def _values() -> dict:
    return dict(
        source="app",
        category_code="0101",
        description="street light out",
        priority="normal",
        lon=116.3,
        lat=39.9,
        geom=shapely.Point(116.3, 39.9),
        status="filed",
        routing={"queue": "unit"},
        reported_at=datetime(2026, 3, 1, 8, 0, tzinfo=UTC),
        time_limit_value=2,
        time_limit_unit="hours",
    )


def test_a_transient_event_reads_as_a_constructed_one() -> None:
    values = _values()
    built, fast = Event(**values), transient(Event, values)
    names = [a.key for a in inspect(Event).column_attrs]
    assert [getattr(fast, n) for n in names] == [getattr(built, n) for n in names]
    assert fast.dispatched_at is None and fast.id is None  # unset: None, as constructed
    assert inspect(fast).transient
    fast.id = 7  # instrumented attributes still work
    assert fast.id == 7 and fast.__dict__["id"] == 7


def test_history_and_attachment_rows() -> None:
    h = transient(EventHistory, {"event_id": 3, "seq": 1, "action": "open"})
    a = transient(Attachment, {"event_id": 3, "kind": "photo", "url": "https://x/p.jpg"})
    assert (h.event_id, h.seq, h.action) == (3, 1, "open")
    assert (a.event_id, a.kind, a.url, a.filename) == (3, "photo", "https://x/p.jpg", None)


def test_an_unknown_key_is_a_type_error_as_with_the_constructor() -> None:
    with pytest.raises(TypeError):
        Event(nonsense=1)
    with pytest.raises(TypeError, match="nonsense"):
        transient(Event, {"nonsense": 1})
