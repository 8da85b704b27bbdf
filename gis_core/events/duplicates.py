"""Possible duplicates: ONE rule for single and bulk intake.

A new report is a possible duplicate of an open event of the same class reported within
50 m and 2 hours of it. Duplicates are linked (``duplicate_of`` and
``routing.possible_duplicates``, oldest first), never dropped. Bulk intake applies the
rule one report after the other, so the candidates of a report are the stored open events
plus the earlier reports of the same batch; a single report is a batch of one.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import orjson
from sqlalchemy import Connection, Row, Select, bindparam, select, text
from sqlalchemy.orm import Session

from gis_core.spatial.crs import Projector
from gis_core.storage.engine import driver_errors
from gis_core.storage.models import Event
from gis_core.storage.models.events import OPEN_CONDITION

DUPLICATE_RADIUS_M = 50.0
DUPLICATE_WINDOW = timedelta(hours=2)
_DEG_LAT_M = 110_574.0  # metres per degree of latitude: the bounding box of the SQL query
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_BATCH_ORDER = 2**62  # a batch report sorts after a stored event reported at the same time

Ref = tuple[str, int]
"""A candidate: ``("db", event id)`` or ``("batch", index of an earlier new event)``."""


def _micros(moment: datetime) -> int:
    """Exact integer microseconds, so the window test agrees with the SQL one."""
    return (moment - _EPOCH) // timedelta(microseconds=1)


_T = Event.__table__


def _statement(cats: Any, lat0: Any, lat1: Any, lon0: Any, lon1: Any, t0: Any, t1: Any) -> Any:
    """The candidate query over values or bind parameters (one text for both uses)."""
    return (
        select(_T.c.id, _T.c.category_code, _T.c.lon, _T.c.lat, _T.c.reported_at)
        .where(
            _T.c.category_code.in_(cats),
            OPEN_CONDITION,  # literal, as in the index: SQLite matches partial indexes by text
            _T.c.lat.between(lat0, lat1),
            _T.c.lon.between(lon0, lon1),
            _T.c.reported_at >= t0,
            _T.c.reported_at <= t1,
        )
        .order_by(_T.c.reported_at, _T.c.id)
    )


_NAMES = ("lat0", "lat1", "lon0", "lon1", "t0", "t1")
_CANDIDATES: Select[Any] = _statement(
    bindparam("cats", expanding=True), *(bindparam(n) for n in _NAMES)
)
"""Stored open events of some classes in a time window and a bounding box, built once
(building it per batch cost more CPU than running it). Served by the partial index
``ix_events_open_dup`` (class, then a latitude band of ~100 m), so its cost does not grow
with the open events of the class in the window."""


_PER_REPORT_SQL = (
    "SELECT DISTINCT e.id, e.category_code, e.lon, e.lat, e.reported_at"
    " FROM json_to_recordset(CAST(:boxes AS json)) AS q(cat varchar, lat0 float8,"
    " lat1 float8, lon0 float8, lon1 float8, t0 timestamptz, t1 timestamptz)"
    " CROSS JOIN LATERAL (SELECT id, category_code, lon, lat, reported_at FROM events"
    " WHERE category_code = q.cat AND lat BETWEEN q.lat0 AND q.lat1"
    " AND lon BETWEEN q.lon0 AND q.lon1 AND reported_at BETWEEN q.t0 AND q.t1"
    f" AND {OPEN_CONDITION.text} OFFSET 0) AS e"
)
_PER_REPORT = text(_PER_REPORT_SQL + " ORDER BY e.reported_at, e.id").columns(
    _T.c.id, _T.c.category_code, _T.c.lon, _T.c.lat, _T.c.reported_at
)
"""PostgreSQL: the candidates of a whole batch in ONE statement, a box per report (the
boxes as one JSON document that orjson writes: psycopg dumped parallel arrays element by
element in Python; one statement text whatever the batch size, so it stays
prepared; LATERAL, so even the generic plan of the prepared statement on a table without
statistics yet probes the index per report instead of hashing the whole table). One box
around the whole batch spanned the district once batches grew, and read every open
event of its classes in the window: its cost grew with the store."""


_WITH_IDS = re.sub(
    r"(?<!:):(\w+)",
    r"%(\1)s",
    f"SELECT c.*, false AS new FROM ({_PER_REPORT_SQL}) AS c UNION ALL"
    " SELECT nextval(pg_get_serial_sequence('events', 'id')), NULL::varchar, NULL::float8,"
    " NULL::float8, NULL::timestamptz, true FROM generate_series(1, :n)"
    " ORDER BY new, reported_at, id",
)
"""PostgreSQL, for psycopg itself: :data:`_PER_REPORT` and ``n`` new event ids from the
events sequence in ONE round trip (the ids last, ascending): intake's writer needs both
before it inserts. Sent in a pipeline with the transaction's BEGIN (see
:func:`_candidates_and_ids`), so the batch's first statement costs one round trip."""


@dataclass
class Prefetch:
    """A read that rides in the duplicate query's round trip (PostgreSQL, ids drawn):
    psycopg SQL and parameters in, ``rows`` (named tuples) filled. Intake's writer reads
    the outbox targets of its sources this way: one round trip fewer per batch."""

    sql: str
    params: dict[str, Any]
    rows: list[Any] | None = None


def _candidates_and_ids(
    conn: Connection, params: dict[str, Any], prefetch: Sequence[Prefetch] = ()
) -> list[Any]:
    """Rows of :data:`_WITH_IDS` (attributes as a Row's), through the session's psycopg
    connection: SQLAlchemy reads a result as soon as it executes, which would end the
    pipeline that lets psycopg send its implicit BEGIN with the query. ``prefetch``
    statements go in the same pipeline. An error is raised as SQLAlchemy raises it (the
    session's rollback then sees a lost connection)."""
    from psycopg.rows import namedtuple_row  # PostgreSQL only (SQLite needs no psycopg)

    driver: Any = conn.connection.driver_connection
    with driver_errors(conn, _WITH_IDS):
        with driver.pipeline():
            cursor = driver.cursor(row_factory=namedtuple_row)
            cursor.execute(_WITH_IDS, params)
            others = [driver.cursor(row_factory=namedtuple_row) for _ in prefetch]
            for other, read in zip(others, prefetch, strict=True):
                other.execute(read.sql, read.params)
        for other, read in zip(others, prefetch, strict=True):
            with other:
                read.rows = other.fetchall()
        with cursor:
            return cursor.fetchall()


def _q(i: int) -> str:
    return f"json_extract(q.value, '$[{i}]')"


_SQLITE_PER_REPORT = text(
    "SELECT DISTINCT e.id, e.category_code, e.lon, e.lat, e.reported_at"
    " FROM json_each(:q) AS q CROSS JOIN events AS e"
    f" WHERE e.category_code = {_q(0)} AND {OPEN_CONDITION.text}"
    f" AND e.lat BETWEEN {_q(1)} AND {_q(2)} AND e.lon BETWEEN {_q(3)} AND {_q(4)}"
    f" AND e.reported_at BETWEEN {_q(5)} AND {_q(6)}"
    " ORDER BY e.reported_at, e.id"
).columns(_T.c.id, _T.c.category_code, _T.c.lon, _T.c.lat, _T.c.reported_at)
"""SQLite: the candidates of a whole batch in ONE statement, as :data:`_PER_REPORT` on
PostgreSQL: the reports' boxes as a JSON array (``json_each``, one statement text
whatever the batch size), each probing the partial index ``ix_events_open_dup`` (the
CROSS JOIN keeps the boxes the outer loop). A statement per report cost SQLAlchemy's
per-execution work each time: the largest part of the writer's CPU on SQLite."""


def _boxes(events: Sequence[Event], located: list[int]) -> list[dict[str, Any]]:
    """Per report: its class and a box of 50 m and 2 hours around it (query parameters)."""
    dlat = DUPLICATE_RADIUS_M / _DEG_LAT_M
    boxes = []
    for i in located:
        e = events[i]
        lon, lat, at = float(e.lon), float(e.lat), e.reported_at  # type: ignore[arg-type]
        dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
        boxes.append(
            candidate_params(
                {e.category_code or ""},
                (at - DUPLICATE_WINDOW, at + DUPLICATE_WINDOW),
                (lon - dlon, lon + dlon),
                (lat - dlat, lat + dlat),
            )
        )
    return boxes


def _json_boxes(events: Sequence[Event], located: list[int]) -> str:
    """The boxes of :func:`_boxes` as the JSON document :data:`_PER_REPORT` reads."""
    docs = [{"cat": b["cats"][0], **{n: b[n] for n in _NAMES}} for b in _boxes(events, located)]
    return orjson.dumps(docs).decode()


def stored_candidates(
    conn: Connection,
    events: Sequence[Event],
    located: list[int],
    new_ids: list[int] | None = None,
    prefetch: Sequence[Prefetch] = (),
) -> list[Row]:
    """Open stored events within a report's box for any of the reports at ``located``
    (each once, by time then id): an index probe per report, independent of store size.

    ``new_ids`` (PostgreSQL): filled with ``len(events)`` ids drawn from the events
    sequence by the same statement (ascending), else left empty; then ``prefetch`` reads
    ride along (else their ``rows`` stay None)."""
    if conn.dialect.name == "postgresql":
        params = {"boxes": _json_boxes(events, located)}
        if new_ids is None:
            return list(conn.execute(_PER_REPORT, params).all())
        rows = _candidates_and_ids(conn, params | {"n": len(events)}, prefetch)
        new_ids.extend(int(r.id) for r in rows if r.new)
        return [r for r in rows if not r.new]
    boxes = _boxes(events, located)
    return list(conn.execute(_SQLITE_PER_REPORT, {"q": _sqlite_boxes(conn, boxes)}).all())


def _sqlite_boxes(conn: Connection, boxes: list[dict[str, Any]]) -> str:
    """The boxes as :data:`_SQLITE_PER_REPORT`'s JSON array, times as SQLite stores them."""
    stored = _T.c.reported_at.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    assert stored is not None
    keys = ("lat0", "lat1", "lon0", "lon1")
    return json.dumps(
        [[b["cats"][0], *(b[k] for k in keys), stored(b["t0"]), stored(b["t1"])] for b in boxes]
    )


def candidate_params(
    categories: set[str],
    when: tuple[datetime, datetime],
    lons: tuple[float, float],
    lats: tuple[float, float],
) -> dict[str, Any]:
    """The parameters of :data:`_CANDIDATES`."""
    return {
        "cats": sorted(categories),
        "lat0": float(lats[0]),
        "lat1": float(lats[1]),
        "lon0": float(lons[0]),
        "lon1": float(lons[1]),
        "t0": when[0],
        "t1": when[1],
    }


def candidate_query(
    categories: set[str],
    when: tuple[datetime, datetime],
    lons: tuple[float, float],
    lats: tuple[float, float],
) -> Select[Any]:
    """The candidate query with its values in it (to run or explain it alone)."""
    p = candidate_params(categories, when, lons, lats)
    return _statement(p["cats"], *(p[n] for n in _NAMES))  # type: ignore[no-any-return]


def possible_duplicates(
    session: Session,
    projector_for: Callable[[float], Projector],
    events: Sequence[Event],
    new_ids: list[int] | None = None,
    prefetch: Sequence[Prefetch] = (),
) -> dict[int, list[Ref]]:
    """For each new event (its index in ``events``) with possible duplicates: the
    candidates, oldest first. Events without a location or a class are not checked.

    One query fetches the stored candidates of the whole batch (a box of 50 m and two
    hours around each report: :func:`stored_candidates`); distances are measured in
    metres in ``projector_for(lon)``. ``new_ids`` and ``prefetch``: as in
    :func:`stored_candidates` (left empty, unread, when no event is checked).
    """
    located = checked(events)
    if not located:
        return {}
    rows = stored_candidates(session.connection(), events, located, new_ids, prefetch)
    return match(events, located, rows, projector_for)


def checked(events: Sequence[Event]) -> list[int]:
    """The positions of the events the rule checks (located, with a class)."""
    return [i for i, e in enumerate(events) if e.lon is not None and e.category_code]


def candidates_with_ids(events: Sequence[Event], located: list[int]) -> tuple[str, dict[str, Any]]:
    """PostgreSQL, psycopg's SQL and parameters: the stored candidates of the reports at
    ``located`` and ``len(events)`` new event ids (rows with ``new`` true, last), for a
    writer that sends the statement itself (:mod:`gis_core.storage.pg_script`)."""
    return _WITH_IDS, {"boxes": _json_boxes(events, located), "n": len(events)}


def match(
    events: Sequence[Event],
    located: list[int],
    rows: Sequence[Any],
    projector_for: Callable[[float], Projector],
) -> dict[int, list[Ref]]:
    """:func:`possible_duplicates` once the stored candidates ``rows`` are read (attributes
    ``id, category_code, lon, lat, reported_at``, by time then id)."""
    if not located:
        return {}
    lon = np.array([events[i].lon for i in located], dtype=float)
    lat = np.array([events[i].lat for i in located], dtype=float)
    when = [events[i].reported_at for i in located]
    projector = projector_for(float(lon.mean()))
    bx, by = projector.to_metres(lon, lat)
    bt = np.array([_micros(t) for t in when], dtype=np.int64)
    window = DUPLICATE_WINDOW // timedelta(microseconds=1)
    # Stored candidates per class: ids, times, metres (rows come sorted by time, id).
    stored: dict[str, tuple[list[int], np.ndarray, np.ndarray, np.ndarray]] = {}
    if rows:
        sx, sy = projector.to_metres([r.lon for r in rows], [r.lat for r in rows])
        st = np.array([_micros(r.reported_at) for r in rows], dtype=np.int64)
        cats = np.array([r.category_code for r in rows], dtype=object)
        for cat in set(cats.tolist()):
            sel = np.flatnonzero(cats == cat)
            stored[cat] = ([int(rows[j].id) for j in sel], st[sel], sx[sel], sy[sel])
    links: dict[int, list[Ref]] = {}
    earlier: dict[str, list[int]] = {}  # class -> positions k of earlier batch reports
    for k, i in enumerate(located):
        cat = events[i].category_code or ""
        found: list[tuple[int, int, Ref]] = []
        if cat in stored:
            ids, st_c, sx_c, sy_c = stored[cat]
            near = (np.abs(st_c - bt[k]) <= window) & (
                np.hypot(sx_c - bx[k], sy_c - by[k]) <= DUPLICATE_RADIUS_M
            )
            found += [(int(st_c[j]), ids[j], ("db", ids[j])) for j in np.flatnonzero(near)]
        prev = earlier.setdefault(cat, [])
        if prev:
            pk = np.array(prev)
            near = (np.abs(bt[pk] - bt[k]) <= window) & (
                np.hypot(bx[pk] - bx[k], by[pk] - by[k]) <= DUPLICATE_RADIUS_M
            )
            found += [(int(bt[m]), _BATCH_ORDER + int(m), ("batch", located[m])) for m in pk[near]]
        prev.append(k)
        if found:
            found.sort(key=lambda f: (f[0], f[1]))
            links[i] = [f[2] for f in found]
    return links


def link(event: Event, ids: list[int]) -> None:
    """Mark ``event`` as a possible duplicate of ``ids`` (the oldest is ``duplicate_of``)."""
    event.duplicate_of = ids[0]
    event.routing = (event.routing or {}) | {"possible_duplicates": ids}


__all__ = [
    "DUPLICATE_RADIUS_M",
    "DUPLICATE_WINDOW",
    "Prefetch",
    "candidates_with_ids",
    "checked",
    "link",
    "match",
    "possible_duplicates",
    "stored_candidates",
]
