"""Batch-locate request bodies: a JSON array of points, ``{crs, points}``, or CSV text.

The HTTP layer hands over the raw body; what comes back is the points in input order
(values not yet checked: :func:`gis_core.batch.coordinates.read_coordinates` does that),
their ids and the CRS the body names. A body that cannot be read at all raises
:class:`UnreadableBatch`, one of the wrong shape :class:`InvalidBatch`, one over the size
limit :class:`BatchTooLarge`.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from gis_core.batch.coordinates import MISSING, NOT_A_NUMBER, NOT_FINITE, OUT_OF_RANGE

POINT_ERRORS = {
    MISSING: "missing or non-numeric coordinate",
    NOT_A_NUMBER: "missing or non-numeric coordinate",
    NOT_FINITE: "missing or non-numeric coordinate",
    OUT_OF_RANGE: "coordinate out of range",
}
"""How a batch-locate answer words a point it could not use."""


class BatchError(ValueError):
    """A batch body that cannot be used; ``title`` is a short name of the problem."""

    field = "body"

    def __init__(self, title: str, detail: str) -> None:
        super().__init__(detail)
        self.title = title


class UnreadableBatch(BatchError):
    """Not valid JSON or CSV text."""


class InvalidBatch(BatchError):
    """Readable, but not points: no lon/lat columns, not an array or {crs, points}."""


class BatchTooLarge(BatchError):
    """More points than the service takes in one request."""


@dataclass(frozen=True)
class PointBatch:
    """Raw lon/x and lat/y values, ids (None where absent) and the body's CRS, if named."""

    lons: list[Any]
    lats: list[Any]
    ids: list[Any]
    crs: str | None = None

    def __len__(self) -> int:
        return len(self.lons)


def read_batch(body: bytes, content_type: str, max_points: int | None = None) -> PointBatch:
    """The points of a CSV (``text/csv``) or JSON body; BatchError when unusable."""
    batch = _read_csv(body) if content_type.startswith("text/csv") else _read_json(body)
    if max_points is not None and len(batch) > max_points:
        raise BatchTooLarge("Batch too large", f"{len(batch)} points; the limit is {max_points}")
    return batch


def _read_csv(body: bytes) -> PointBatch:
    try:
        reader = csv.DictReader(io.StringIO(body.decode("utf-8-sig")))
        rows = list(reader)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise UnreadableBatch("Unreadable CSV", str(exc)) from exc
    fields = {f.lower(): f for f in reader.fieldnames or []}
    lon_f = fields.get("lon") or fields.get("lng") or fields.get("x")
    lat_f = fields.get("lat") or fields.get("y")
    if lon_f is None or lat_f is None:
        raise InvalidBatch("Missing columns", "CSV needs lon and lat (or x and y) columns")
    id_f = fields.get("id")
    return PointBatch(
        [r[lon_f] for r in rows],
        [r[lat_f] for r in rows],
        [r[id_f] if id_f else None for r in rows],
    )


def _read_json(body: bytes) -> PointBatch:
    try:
        data = json.loads(body or b"null")
    except ValueError as exc:
        raise UnreadableBatch("Malformed JSON", str(exc)) from exc
    crs = None
    if isinstance(data, dict):
        crs = data.get("crs")
        data = data.get("points")
    if not isinstance(data, list):
        raise InvalidBatch(
            "Invalid body",
            "expected a JSON array of points, an object {crs, points} or a CSV body",
        )
    lons, lats, ids = [], [], []
    for item in data:
        if isinstance(item, dict):
            lons.append(item.get("lon", item.get("x")))
            lats.append(item.get("lat", item.get("y")))
            ids.append(item.get("id"))
        elif isinstance(item, list | tuple) and len(item) >= 2:
            lons.append(item[0])
            lats.append(item[1])
            ids.append(None)
        else:
            lons.append(None)
            lats.append(None)
            ids.append(None)
    return PointBatch(lons, lats, ids, None if crs is None else str(crs))
