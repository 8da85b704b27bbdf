"""Batch assignment: every row kept, bad rows flagged, local and Dask engines identical."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from gis_core.cli import app, register_commands
from gis_core.spatial.crs import from_wgs84
from gis_core.spatial.locator import Locator

runner = CliRunner()
register_commands()


def points_table(n: int = 5000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "id": np.arange(n),
            "lon": rng.uniform(117.19, 117.36, n).round(7).astype(str),
            "lat": rng.uniform(31.69, 31.83, n).round(7).astype(str),
            "note": ["备注"] * n,
        }
    )
    df.loc[1, "lon"] = ""
    df.loc[2, "lat"] = "abc"
    df.loc[3, "lon"] = "NaN"
    df.loc[4, "lat"] = "95"
    df.loc[5, "lon"] = "-inf"
    return df


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_csv_rows_kept_and_flagged(small_grids_dir: Path, tmp_path: Path) -> None:
    src = tmp_path / "pts.csv"
    df = points_table()
    df.to_csv(src, index=False)
    out = tmp_path / "out.csv"
    code, text = run("assign", str(src), "--out", str(out), "--grids", str(small_grids_dir))
    assert code == 0, text
    report = json.loads(text[text.index("{") :])
    got = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert len(got) == len(df) == report["rows"]
    assert got["id"].tolist() == df["id"].astype(str).tolist()
    assert got.loc[:5, "assign_reason"].tolist() == [
        "",
        "missing coordinate",
        "coordinate is not a number",
        "coordinate is not finite",
        "coordinate out of range",
        "coordinate is not finite",
    ]
    assert report["invalid"] == 5
    assert report["assigned"] + report["outside"] + report["invalid"] == len(df)
    # Codes agree with the locator and the 15-char hierarchy.
    loc = Locator.from_directory(small_grids_dir)
    ok = got["assign_status"] != "invalid"
    want = loc.locate(got.loc[ok, "lon"].astype(float), got.loc[ok, "lat"].astype(float))
    assert got.loc[ok, "grid_code"].replace("", None).tolist() == want["grid_code"].tolist()
    assigned = got[got["assign_status"] == "assigned"]
    assert (assigned["community_code"] == assigned["grid_code"].str[:12]).all()
    assert (assigned["district_code"] == "340111").all()


def test_dask_engine_equals_local(small_grids_dir: Path, tmp_path: Path) -> None:
    src = tmp_path / "pts.csv"
    points_table(20_000, seed=1).to_csv(src, index=False)
    local, dask_out = tmp_path / "local.csv", tmp_path / "dask.csv"
    assert run("assign", str(src), "--out", str(local), "--grids", str(small_grids_dir))[0] == 0
    code, text = run(
        "assign",
        str(src),
        "--out",
        str(dask_out),
        "--grids",
        str(small_grids_dir),
        "--engine",
        "dask",
        "--workers",
        "2",
    )
    assert code == 0, text
    assert local.read_bytes() == dask_out.read_bytes()


@pytest.mark.parametrize("suffix", [".geojson", ".parquet", ".gpkg"])
def test_geo_inputs_in_gcj02(small_grids_dir: Path, tmp_path: Path, suffix: str) -> None:
    rng = np.random.default_rng(5)
    lon, lat = rng.uniform(117.21, 117.34, 500), rng.uniform(31.71, 31.81, 500)
    gx, gy = from_wgs84(lon, lat, "gcj02")
    gdf = gpd.GeoDataFrame({"id": np.arange(500)}, geometry=gpd.points_from_xy(gx, gy), crs=4326)
    gdf.loc[0, "geometry"] = None
    src = tmp_path / f"pts{suffix}"
    gdf.to_parquet(src) if suffix == ".parquet" else gdf.to_file(src)
    out = tmp_path / f"out{suffix}"
    code, text = run(
        "assign", str(src), "--out", str(out), "--crs", "gcj02", "--grids", str(small_grids_dir)
    )
    assert code == 0, text
    got = gpd.read_parquet(out) if suffix == ".parquet" else gpd.read_file(out)
    assert len(got) == 500
    assert got.loc[0, "assign_reason"] == "missing geometry"
    want = Locator.from_directory(small_grids_dir).locate(lon[1:], lat[1:])["grid_code"]
    assert got["grid_code"].iloc[1:].tolist() == want.tolist()


def test_cli_errors_are_messages_not_tracebacks(small_grids_dir: Path, tmp_path: Path) -> None:
    code, text = run(
        "assign",
        str(tmp_path / "missing.csv"),
        "--out",
        str(tmp_path / "o.csv"),
        "--grids",
        str(small_grids_dir),
    )
    assert code == 2 and "no such file" in text and "Traceback" not in text
    src = tmp_path / "p.csv"
    pd.DataFrame({"x": [1]}).to_csv(src, index=False)
    code, text = run(
        "assign", str(src), "--out", str(tmp_path / "o.csv"), "--grids", str(small_grids_dir)
    )
    assert code == 2 and "--lon-col" in text
    code, text = run(
        "assign", str(src), "--out", str(tmp_path / "o.txt"), "--grids", str(small_grids_dir)
    )
    assert code == 2 and "unsupported file type" in text


def test_locate_cli(small_grids_dir: Path) -> None:
    code, text = run("locate", "117.25", "31.75", "--grids", str(small_grids_dir))
    assert code == 0, text
    answer = json.loads(text)
    want = Locator.from_directory(small_grids_dir).locate_one(117.25, 31.75)
    assert answer["grid"]["code"] == want["grid_code"]
    assert answer["community"]["code"] == want["grid_code"][:12]
    gx, gy = from_wgs84(117.25, 31.75, "bd09")
    code, text = run("locate", str(gx), str(gy), "--crs", "bd09", "--grids", str(small_grids_dir))
    assert json.loads(text)["grid"]["code"] == want["grid_code"]
    code, text = run("locate", "121.47", "31.23", "--grids", str(small_grids_dir))
    assert code == 1 and "outside every grid" in text
    code, text = run("locate", "--grids", str(small_grids_dir), "--", "-200", "31.23")
    assert code == 2 and "out of range" in text
    code, text = run("locate", "117.25", "31.75", "--crs", "mars", "--grids", str(small_grids_dir))
    assert code == 2 and "unknown CRS" in text
