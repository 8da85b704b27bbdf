"""Batch locate with columnar bodies (Arrow IPC, Parquet, GeoParquet, CSV answered as CSV):
the same answer, point by point, as the JSON batch endpoint; bad bodies are problems."""

from __future__ import annotations

import io

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
import shapely
from fastapi.testclient import TestClient

from api.settings import BatchSettings, get_batch_settings

N = 3000
ARROW = "application/vnd.apache.arrow.stream"
PARQUET = "application/vnd.apache.parquet"


@pytest.fixture(scope="module")
def points() -> pa.Table:
    """Points around the sample district: inside, outside, out of range and missing."""
    rng = np.random.default_rng(15)
    lon = rng.uniform(117.22, 117.42, N)
    lat = rng.uniform(31.70, 31.86, N)
    lon[::97] = np.nan  # missing
    lat[5::101] = 95.0  # out of range
    return pa.table({"id": [f"p{i}" for i in range(N)], "lon": lon, "lat": lat})


@pytest.fixture(scope="module")
def expected(api_client: TestClient, points: pa.Table) -> list[tuple]:
    """(grid_code, street_code, error) per point from the JSON endpoint (the oracle)."""
    lon, lat = points["lon"].to_pylist(), points["lat"].to_pylist()
    body = [[x if x == x else None, y] for x, y in zip(lon, lat, strict=True)]
    answer = api_client.post("/v1/locate", json=body).json()
    return [(r.get("grid_code"), r.get("street_code"), r.get("error")) for r in answer["results"]]


def arrow_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table, max_chunksize=700)  # several batches
    return sink.getvalue()


def parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=1000)
    return sink.getvalue()


def rows(table: pa.Table) -> list[tuple]:
    cols = [table[c].to_pylist() for c in ("grid_code", "street_code", "error")]
    return list(zip(*cols, strict=True))


def test_arrow_parquet_and_geoparquet_answer_like_json(
    api_client: TestClient, points: pa.Table, expected: list[tuple]
) -> None:
    geo = pa.table(
        {
            "id": points["id"],
            "geometry": shapely.to_wkb(
                shapely.points(points["lon"].to_numpy(), points["lat"].to_numpy())
            ),
        }
    )
    cases = [
        (ARROW, arrow_bytes(points), lambda b: pa.ipc.open_stream(b).read_all()),
        (PARQUET, parquet_bytes(points), lambda b: pq.read_table(io.BytesIO(b))),
        (PARQUET, parquet_bytes(geo), lambda b: pq.read_table(io.BytesIO(b))),
    ]
    for media, body, read in cases:
        response = api_client.post("/v1/locate", content=body, headers={"content-type": media})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith(media)
        table = read(response.content)
        assert table["index"].to_pylist() == list(range(N))
        assert table["id"].to_pylist() == points["id"].to_pylist()
        assert rows(table) == expected
        assert int(response.headers["x-located"]) == sum(e[0] is not None for e in expected)


def test_csv_with_accept_csv_is_answered_as_csv(
    api_client: TestClient, points: pa.Table, expected: list[tuple]
) -> None:
    sink = io.BytesIO()
    pacsv.write_csv(points, sink)
    text = sink.getvalue().replace(b"\n\"p3\",", b"\n\"p3\",abc", 1)  # a non-number
    response = api_client.post(
        "/v1/locate", content=text, headers={"content-type": "text/csv", "accept": "text/csv"}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    opts = pacsv.ConvertOptions(  # null is an empty field in CSV
        column_types={"grid_code": pa.string(), "street_code": pa.string()},
        strings_can_be_null=True,
    )
    table = pacsv.read_csv(io.BytesIO(response.content), convert_options=opts)
    want = list(expected)
    want[3] = (None, None, "missing or non-numeric coordinate")
    assert rows(table) == want
    # Without Accept: text/csv the CSV body keeps its JSON answer.
    plain = api_client.post("/v1/locate", content=text, headers={"content-type": "text/csv"})
    assert plain.headers["content-type"].startswith("application/json")


def test_bad_columnar_bodies_are_problems(api_client: TestClient, points: pa.Table) -> None:
    garbage = api_client.post("/v1/locate", content=b"not arrow", headers={"content-type": ARROW})
    assert garbage.status_code == 400
    assert garbage.json()["field"] == "body"
    no_xy = parquet_bytes(pa.table({"a": [1, 2]}))
    wrong = api_client.post("/v1/locate", content=no_xy, headers={"content-type": PARQUET})
    assert wrong.status_code == 422 and wrong.json()["field"] == "body"
    app = api_client.app
    app.dependency_overrides[get_batch_settings] = lambda: BatchSettings(columnar_max_points=100)
    try:
        big = api_client.post(
            "/v1/locate", content=arrow_bytes(points), headers={"content-type": ARROW}
        )
    finally:
        app.dependency_overrides.pop(get_batch_settings)
    assert big.status_code == 413 and big.json()["field"] == "body"
