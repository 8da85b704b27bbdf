"""Batch-locate bodies and the shared coordinate checks (no database, no grids)."""

from __future__ import annotations

import pytest

from gis_core.batch.coordinates import (
    MISSING,
    NOT_A_NUMBER,
    NOT_FINITE,
    OUT_OF_RANGE,
    read_coordinates,
)
from gis_core.batch.points import BatchTooLarge, InvalidBatch, UnreadableBatch, read_batch


def test_json_array_object_and_csv_bodies() -> None:
    batch = read_batch(
        b'[[117.3, 31.8], {"x": "117.3", "y": 31.8, "id": 7}, 5]', "application/json"
    )
    assert batch.lons == [117.3, "117.3", None] and batch.ids == [None, 7, None]
    assert batch.crs is None
    batch = read_batch(b'{"crs": "gcj02", "points": [[1, 2]]}', "application/json")
    assert batch.crs == "gcj02" and len(batch) == 1
    batch = read_batch("\ufeffLng,Y,id\n117.3,31.8,a\n".encode(), "text/csv; charset=utf-8")
    assert (batch.lons, batch.lats, batch.ids) == (["117.3"], ["31.8"], ["a"])


@pytest.mark.parametrize(
    ("body", "content_type", "error"),
    [
        (b"{", "application/json", UnreadableBatch),
        (b'{"points": 3}', "application/json", InvalidBatch),
        (b"\xff\xfe", "text/csv", UnreadableBatch),
        (b"a,b\n1,2\n", "text/csv", InvalidBatch),
        (b"[[1, 2], [3, 4]]", "application/json", BatchTooLarge),
    ],
)
def test_unusable_bodies(body: bytes, content_type: str, error: type[Exception]) -> None:
    with pytest.raises(error) as info:
        read_batch(body, content_type, max_points=1)
    assert info.value.field == "body"  # type: ignore[attr-defined]


def test_one_reason_per_unusable_point() -> None:
    lons = [117.3, None, "", "east", "nan", "inf", True, 200, "117.3"]
    lats = [31.8] * len(lons)
    x, _, reason = read_coordinates(lons, lats, "wgs84")
    assert list(reason) == [
        None,
        MISSING,
        MISSING,
        NOT_A_NUMBER,
        NOT_FINITE,
        NOT_FINITE,
        NOT_A_NUMBER,
        OUT_OF_RANGE,
        None,
    ]
    assert x[0] == x[-1] == 117.3
    _, _, projected = read_coordinates([500_000.0], [3_500_000.0], "EPSG:4547")
    assert list(projected) == [None]  # no lon/lat range in a projected CRS
