"""The direct point encoder writes byte for byte what mapbox_vector_tile writes."""

from __future__ import annotations

import mapbox_vector_tile
import numpy as np
import pytest
import shapely

from layers.mvt_points import encode_points, varint


def reference(x: np.ndarray, y: np.ndarray, props: dict[str, list]) -> bytes:
    features = [
        {
            "geometry": shapely.Point(float(x[i]), float(y[i])),
            "properties": {k: v[i] for k, v in props.items()},
        }
        for i in range(len(x))
    ]
    return mapbox_vector_tile.encode(
        {"name": "events", "features": features},
        default_options={"extents": 4096, "y_coord_down": True},
    )


@pytest.mark.parametrize("n", [1, 7, 1156])
def test_same_bytes_as_mapbox_vector_tile(n: int) -> None:
    rng = np.random.default_rng(n)
    x, y = rng.integers(-64, 4161, n), rng.integers(-64, 4161, n)
    props = {
        "cluster": [True] * n,
        "count": rng.integers(1, 100_000, n).tolist(),  # multi-byte varints
        "open": rng.integers(0, 3, n).tolist(),  # 1 and True are different values
        "overdue": rng.integers(0, 2, n).tolist(),
    }
    assert encode_points("events", x, y, props) == reference(x, y, props)


def test_decodes_to_the_points_and_properties() -> None:
    data = encode_points("events", [0, 4096, -5], [10, 0, 4100], {"count": [1, 2, 300]})
    feats = mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})["events"]
    assert [f["geometry"]["coordinates"] for f in feats["features"]] == [
        [0, 10],
        [4096, 0],
        [-5, 4100],
    ]
    assert [f["properties"]["count"] for f in feats["features"]] == [1, 2, 300]
    assert encode_points("events", [], [], {"count": []}) == b""


def test_varint() -> None:
    assert varint(0) == b"\x00"
    assert varint(300) == b"\xac\x02"
    assert varint(2**20) == b"\x80\x80\x40"
    assert len(varint(-1)) == 10
