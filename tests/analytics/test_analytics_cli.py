"""`gridgov analytics ...`: every statistic from the command line, in GeoJSON, CSV and
GeoParquet, equal to the Python functions, with clear errors on bad input. The database
commands run on SQLite and PostGIS; the file commands on a Parquet year of events."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from gis_core import GridIndex
from gis_core.analytics import (
    Filters,
    aggregate,
    density,
    emerging_hotspots,
    hotspots,
    prepare_events,
    recurrent,
    unit_set,
)
from gis_core.analytics.export import PARAMS_KEY
from gis_core.analytics.source import store_events
from gis_core.cli import app, register_commands
from gis_core.events import EventService
from gis_core.events.loader import reports_from_frame
from gis_core.paths import SAMPLE_DIR
from gis_core.sample_data.events.generator import generate_events
from tests.api.conftest import url_text
from tests.db_fixtures import sample_db_url

runner = CliRunner()


# tests using db_url/store start from a copy of the seeded district (a fresh database each)
db_url = sample_db_url(components=False, duties=False)


@pytest.fixture(scope="module", autouse=True)
def _commands() -> None:
    register_commands()


def _run(*args: str) -> dict:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.output.strip().splitlines()[-1])


def _fail(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return result.output


@pytest.fixture(scope="module")
def year_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli_events") / "events.parquet"
    generate_events(n=3000, year=2025, seed=4).to_parquet(path)
    return path


@pytest.fixture(scope="module")
def sample() -> gpd.GeoDataFrame:
    grids = gpd.read_file(SAMPLE_DIR / "grids.geojson")
    return grids


def _file_events(year_file: Path, grids: gpd.GeoDataFrame) -> pd.DataFrame:
    return prepare_events(pd.read_parquet(year_file),
                          GridIndex.from_geodataframe(grids, code_column="code"))


def test_aggregate_from_the_database_in_three_formats(store, db_url, tmp_path):
    service = EventService(store)
    service.submit_many(list(reports_from_frame(generate_events(n=700, year=2025, seed=9))))
    url = url_text(db_url)
    ref = aggregate(store_events(service), unit_set("grid", store.read_admin_layer("grid")),
                    Filters(category=["09006", "06010"], start=pd.Timestamp("2025-02-01")))
    want = dict(zip(ref.table["unit"], ref.table["count"].tolist(), strict=True))
    assert sum(want.values()) > 20
    common = ["--category", "09006", "--category", "06010", "--from", "2025-02-01",
              "--url", url]
    out = _run("analytics", "aggregate", str(tmp_path / "a.geojson"), *common)
    assert out["format"] == "geojson" and out["rows"] == len(want)
    body = json.loads((tmp_path / "a.geojson").read_text())
    got = {f["properties"]["unit"]: f["properties"]["count"] for f in body["features"]}
    assert got == want
    assert body["params"]["filters"]["category"] == ["09006", "06010"]
    _run("analytics", "aggregate", str(tmp_path / "a.csv"), *common)
    csv = pd.read_csv(tmp_path / "a.csv", dtype={"unit": str})
    assert dict(zip(csv["unit"], csv["count"], strict=True)) == want
    assert {"lon", "lat"} <= set(csv.columns)
    params = json.loads(Path(f"{tmp_path / 'a.csv'}.params.json").read_text())
    assert params["by"] == "grid"
    _run("analytics", "aggregate", str(tmp_path / "a.out"), "--format", "parquet", *common)
    gp = gpd.read_parquet(tmp_path / "a.out")
    assert dict(zip(gp["unit"], gp["count"], strict=True)) == want and gp.crs.to_epsg() == 4326
    meta = json.loads(pq.read_metadata(tmp_path / "a.out").metadata[PARAMS_KEY])
    assert meta["filters"]["start"].startswith("2025-02-01T00:00:00+08:00")


def test_hotspots_emerging_density_recurrent_from_a_file(year_file, sample, tmp_path):
    grids = sample
    events = _file_events(year_file, grids)
    src = ["--events", str(year_file), "--grids", str(SAMPLE_DIR)]
    _run("analytics", "hotspots", str(tmp_path / "h.parquet"), "--permutations", "99", *src)
    got = gpd.read_parquet(tmp_path / "h.parquet")
    ref = hotspots(events, unit_set("grid", grids), permutations=99)
    np.testing.assert_allclose(got["z"].to_numpy(), ref.table["z"].to_numpy())
    assert (got["bin"].to_numpy() == ref.table["bin"].to_numpy()).all()

    _run("analytics", "emerging", str(tmp_path / "e.geojson"), "--by", "street", *src)
    body = json.loads((tmp_path / "e.geojson").read_text())
    ref_e = emerging_hotspots(events, unit_set("street", grids))
    assert [f["properties"]["category"] for f in body["features"]] == list(
        ref_e.table["category"])
    assert body["params"]["time_steps"] == ref_e.steps

    out = _run("analytics", "density", str(tmp_path / "d.parquet"), "--cell-m", "200",
               "--bandwidth-m", "300", "--min-value", "1", *src)
    cells = gpd.read_parquet(tmp_path / "d.parquet")
    ref_d = density(events, cell_m=200.0, bandwidth_m=300.0)
    assert len(cells) == int((ref_d.values > 1).sum()) == out["rows"]
    assert cells["density"].max() == pytest.approx(ref_d.values.max())
    assert out["params"]["bandwidth_rule"] == "override"

    _run("analytics", "recurrent", str(tmp_path / "r.csv"), "--min-days", "2",
         "--min-events", "3", "--eps-m", "80", *src)
    csv = pd.read_csv(tmp_path / "r.csv")
    ref_r = recurrent(events, min_days=2, min_events=3, eps_m=80.0)
    assert len(csv) == len(ref_r.problems) > 0
    first = [int(i) for i in str(csv["event_ids"].iloc[0]).split()]
    assert first == list(ref_r.problems["event_ids"].iloc[0])


def test_bad_input_is_a_message_not_a_traceback(year_file, tmp_path):
    src = ["--events", str(year_file), "--grids", str(SAMPLE_DIR)]
    assert "--by" in _fail("analytics", "aggregate", str(tmp_path / "x.geojson"),
                           "--by", "hex:9", *src)
    assert "--format" in _fail("analytics", "aggregate", str(tmp_path / "x.xlsx"), *src)
    assert "--from must be an ISO" in _fail("analytics", "aggregate",
                                            str(tmp_path / "x.csv"), "--from", "last week",
                                            *src)
    assert "--cell-m" in _fail("analytics", "density", str(tmp_path / "x.csv"), "--cell-m",
                               "1", *src)
    assert "--events: no file" in _fail("analytics", "recurrent", str(tmp_path / "x.csv"),
                                        "--events", str(tmp_path / "missing.parquet"))
    assert "--area" in _fail("analytics", "aggregate", str(tmp_path / "x.csv"), "--area",
                             "street-1", *src)
    assert not (tmp_path / "x.csv").exists() and not (tmp_path / "x.geojson").exists()
