"""Cluster tiles counted from the kept arrays equal the SQL counts, on SQLite and PostGIS,
and stay equal after inserts, status changes, relocations and late commits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import select, update

from gis_core.cases.vocab import STATUS_VALUES
from gis_core.events.loader import reports_from_frame
from gis_core.events.service import EventService
from gis_core.sample_data.events import generate_events
from gis_core.sample_data.seeding import seed_store
from gis_core.storage import Store
from gis_core.storage.features import FeatureQuery, point_cells
from gis_core.storage.models import Event
from layers import cluster_points
from layers.clusters import CELLS
from layers.mvt import tile_query
from layers.registry import LAYERS
from tests.db_fixtures import postgis_schema
from tests.layers.test_clusters import centre, tile_at

EVENTS = LAYERS["events"]
NOW = datetime.now(UTC)


def build(url: object) -> Store:
    s = Store(url)  # type: ignore[arg-type]
    seed_store(s, components=False)
    EventService(s).submit_many(list(reports_from_frame(generate_events(n=300, year=2025, seed=4))))
    with s.session() as session:
        for i, event_id in enumerate(session.scalars(select(Event.id)).all()):
            values = {"status": STATUS_VALUES[i % len(STATUS_VALUES)]}
            if i % 3:
                values["deadline_at"] = NOW + timedelta(hours=(i * 37) % 100 - 50)
            session.execute(update(Event).where(Event.id == event_id).values(**values))
    return s


@pytest.fixture(params=["sqlite", "postgis"])
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    cluster_points.forget()
    if request.param == "sqlite":
        s = build(f"sqlite:///{tmp_path_factory.mktemp('kept') / 'k.sqlite'}")
        yield s
        s.dispose()
    else:
        with postgis_schema(request.getfixturevalue("postgis_url"), "kept") as url:
            s = build(url)
            yield s
            s.dispose()
    cluster_points.forget()


def by_cell(cells: dict[str, np.ndarray]) -> dict[tuple[int, int], tuple]:
    return {
        (int(cx), int(cy)): (int(n), int(o), int(d), round(float(x), 9), round(float(y), 9))
        for cx, cy, n, o, d, x, y in zip(
            *(cells[k] for k in ("cx", "cy", "count", "open", "overdue", "lon", "lat")), strict=True
        )
    }


def assert_same_as_sql(store: Store) -> int:
    """Kept counts == SQL counts on the tiles around the events' centre; the events seen."""
    lon, lat = centre(store)
    seen = 0
    for z in (11, 12, 13):
        for dx in (-1, 0, 1):
            tile = tile_at(lon, lat, z)
            tile = type(tile)(z, tile.x + dx, tile.y)
            for query in (FeatureQuery(), FeatureQuery(area_prefix="340111001")):
                q = tile_query(tile, query)
                expected = by_cell(point_cells(store, EVENTS.source, q, NOW, CELLS))
                kept = cluster_points.current(store, EVENTS.source)
                got = by_cell(cluster_points.cells(kept, q, NOW, CELLS))
                assert got == expected
                seen += sum(v[0] for v in got.values())
    return seen


def test_kept_counts_equal_sql(store: Store) -> None:
    assert cluster_points.usable(EVENTS.source, FeatureQuery(area_prefix="3401"))
    assert not cluster_points.usable(EVENTS.source, FeatureQuery(equals={"status": "closed"}))
    assert assert_same_as_sql(store) > 100


def test_changes_show_on_the_next_tile(store: Store) -> None:
    assert_same_as_sql(store)
    with store.session() as session:
        ids = session.scalars(select(Event.id).order_by(Event.id)).all()
        session.execute(update(Event).where(Event.id.in_(ids[:40])).values(status="closed"))
        session.execute(
            update(Event).where(Event.id.in_(ids[40:60])).values(deadline_at=NOW - timedelta(1))
        )
        session.execute(update(Event).where(Event.id.in_(ids[60:70])).values(lon=None, lat=None))
    EventService(store).submit_many(
        list(reports_from_frame(generate_events(n=50, year=2025, seed=5)))
    )
    assert assert_same_as_sql(store) > 100


def test_a_late_commit_with_an_older_stamp_shows_after_the_recheck(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert_same_as_sql(store)
    with store.session() as session:
        newest = session.scalar(select(Event.updated_at).order_by(Event.updated_at.desc()))
        first = session.scalar(select(Event.id).order_by(Event.id))
        # Stamped before the newest change, committed after it: the version does not move.
        session.execute(
            update(Event)
            .where(Event.id == first)
            .values(lon=117.3, lat=31.8, status="closed", updated_at=newest - timedelta(seconds=1))
        )
    monkeypatch.setattr(cluster_points, "RECHECK_S", 0.0)
    monkeypatch.setattr(cluster_points, "LOOKBACK", timedelta(hours=1))  # a slow test run
    assert assert_same_as_sql(store) > 100


def test_no_rows_are_read_while_nothing_changes(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the lookback an unchanged version means unchanged points: the tile reads two
    maxima, not the rows."""
    first = cluster_points.current(store, EVENTS.source)
    reads: list[tuple] = []
    real = cluster_points._rows
    monkeypatch.setattr(cluster_points, "_rows", lambda *a: reads.append(a) or real(*a))
    monkeypatch.setattr(cluster_points, "RECHECK_S", 0.0)
    monkeypatch.setattr(cluster_points, "LOOKBACK", timedelta(0))
    assert cluster_points.current(store, EVENTS.source) is first
    assert reads == []
    with store.session() as session:
        session.execute(update(Event).where(Event.id == int(first.ids[0])).values(status="closed"))
    after = cluster_points.current(store, EVENTS.source)
    assert len(reads) == 1 and after is not first
    assert not after.open[0] and first.ids[0] == after.ids[0]


def test_a_version_going_back_reloads_everything(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A re-seeded table (its newest id lower than seen): a full reload, not a merge."""
    first = cluster_points.current(store, EVENTS.source)
    reads: list[tuple] = []
    real = cluster_points._rows
    monkeypatch.setattr(cluster_points, "_rows", lambda *a: reads.append(a) or real(*a))
    last_id, last_stamp = first.version
    monkeypatch.setattr(cluster_points, "_version", lambda *a: (last_id - 1, last_stamp))
    again = cluster_points.current(store, EVENTS.source)
    assert len(reads) == 1 and len(reads[0]) == 2  # (store, source): no "since" clause
    assert again is not first and again.version == (last_id - 1, last_stamp)


def test_warm_loads_the_points_before_the_first_tile(store: Store) -> None:
    """A server's start preloads the kept points (``api.app``'s lifespan): the arrays are
    there before any tile asks, and equal to what a tile would have loaded."""
    cluster_points.warm(store, [EVENTS.source]).join(timeout=60)
    key = (str(store.engine.url), EVENTS.source.sql_table.name)
    warmed = cluster_points._CACHE[key]
    with store.session() as session:
        stored = session.scalars(select(Event.id).order_by(Event.id)).all()
    assert warmed.ids.tolist() == stored
    assert cluster_points.current(store, EVENTS.source) is warmed  # reused, not reloaded
    assert_same_as_sql(store)


def test_warm_skips_what_a_tile_would_not_count_from_arrays(store: Store) -> None:
    grids = LAYERS["grids"].source  # generation-bound: counted in SQL, never kept
    cluster_points.warm(store, [grids]).join(timeout=60)
    assert cluster_points._CACHE == {}
