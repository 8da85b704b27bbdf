"""Held-out synthetic tracks: a member walking streets in one grid covers that grid (and
not an untouched one); time inside and outside a member's grids; the covered share
checked against an independent geopandas computation of the buffered track."""

from __future__ import annotations

from datetime import UTC, datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gis_core.field.coverage import CoverageGrids, CoverageRules, compute, street_rates
from gis_core.paths import SAMPLE_DIR
from gis_core.spatial.io import read_layer
from tests.field.synthetic import EVERY_S, streets_in, walk

START = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # 09:00 China time


@pytest.fixture(scope="module")
def grids() -> gpd.GeoDataFrame:
    return read_layer(SAMPLE_DIR / "grids.geojson")


@pytest.fixture(scope="module")
def prepared(grids: gpd.GeoDataFrame) -> CoverageGrids:
    return CoverageGrids.from_frame(grids)


def _grid(grids: gpd.GeoDataFrame, code: str) -> shapely.Geometry:
    return grids.loc[grids["code"] == code, "geometry"].iloc[0]


def test_walked_grid_is_covered_untouched_grid_is_not(
    grids: gpd.GeoDataFrame, prepared: CoverageGrids
) -> None:
    walked, untouched = "340111006007002", "340111013008002"
    line = streets_in(_grid(grids, walked), prepared.projector)
    fixes = walk(line, START, prepared.projector, minutes=60, member=7)
    cov = compute(fixes, prepared, areas={7: [walked]})
    g = cov.grids.set_index("code")

    assert bool(g.loc[walked, "patrolled"])
    assert g.loc[walked, "minutes"] == pytest.approx(60.0, abs=0.5)
    assert g.loc[walked, "members"] == 1
    assert not bool(g.loc[untouched, "patrolled"])
    assert g.loc[untouched, "minutes"] == 0
    assert g.loc[untouched, "covered_share"] == 0
    assert g["patrolled"].sum() == 1  # nothing else counts as patrolled

    # the oracle: geopandas buffers the walked line itself (not the fixes) by 30 m
    crs = f"EPSG:{prepared.projector.epsg}"
    grid_m = gpd.GeoSeries([_grid(grids, walked)], crs=4326).to_crs(crs).iloc[0]
    walked_line = shapely.LineString(
        np.column_stack(prepared.projector.to_metres(fixes["lon"], fixes["lat"]))
    )
    expected = grid_m.intersection(walked_line.buffer(30)).area / grid_m.area
    assert g.loc[walked, "covered_share"] == pytest.approx(expected, rel=0.03)
    assert 0.1 < expected < 1

    m = cov.members.set_index("member_id").loc[7]
    assert m["minutes_own"] == pytest.approx(60.0, abs=0.5)
    assert m["minutes_outside"] == 0
    assert m["distance_m"] == pytest.approx(60 * 60 * 1.2, rel=0.03)


def test_member_leaving_their_grids(grids: gpd.GeoDataFrame, prepared: CoverageGrids) -> None:
    own, other = "340111006007002", "340111001001001"
    p = prepared.projector
    inside = walk(streets_in(_grid(grids, own), p), START, p, minutes=30, member=8)
    away_start = START + pd.Timedelta(minutes=30, seconds=EVERY_S)
    away = walk(streets_in(_grid(grids, other), p), away_start, p, minutes=20, member=8)
    fixes = pd.concat([inside, away], ignore_index=True)
    cov = compute(fixes, prepared, areas={8: [own]})
    m = cov.members.set_index("member_id").loc[8]
    assert m["minutes_own"] == pytest.approx(30.0, abs=0.5)
    # the silent jump between the two grids (> max gap) counts for neither
    assert m["minutes_outside"] == pytest.approx(20.0, abs=0.5)
    g = cov.grids.set_index("code")
    assert bool(g.loc[own, "patrolled"]) and bool(g.loc[other, "patrolled"])


def test_gaps_cut_tracks_and_time(grids: gpd.GeoDataFrame, prepared: CoverageGrids) -> None:
    code = "340111006007002"
    fixes = walk(
        streets_in(_grid(grids, code), prepared.projector), START, prepared.projector, 30, 9
    )
    sparse = fixes.iloc[::30]  # a fix every 5 minutes: the handheld mostly off
    cov = compute(sparse, prepared, rules=CoverageRules(max_gap_s=120))
    g = cov.grids.set_index("code")
    assert g.loc[code, "minutes"] == 0
    assert not bool(g.loc[code, "patrolled"])
    # single fixes still cover a disc of the radius around them (oracle: geopandas)
    crs = f"EPSG:{prepared.projector.epsg}"
    grid_m = gpd.GeoSeries([_grid(grids, code)], crs=4326).to_crs(crs).iloc[0]
    pts = gpd.GeoSeries(gpd.points_from_xy(sparse["lon"], sparse["lat"]), crs=4326).to_crs(crs)
    expected = grid_m.intersection(pts.buffer(30).union_all()).area / grid_m.area
    assert g.loc[code, "covered_share"] == pytest.approx(expected, rel=0.05)


def test_no_fixes_no_coverage(prepared: CoverageGrids) -> None:
    empty = pd.DataFrame({"member_id": [], "t": pd.to_datetime([], utc=True), "lon": [], "lat": []})
    cov = compute(empty, prepared)
    assert len(cov.grids) == len(prepared.codes)
    assert not cov.grids["patrolled"].any() and cov.members.empty


def test_street_rates() -> None:
    days = pd.DataFrame(
        {
            "code": ["340111001001001", "340111001001002", "340111002001001"] * 2,
            "day": ["d1"] * 3 + ["d2"] * 3,
            "patrolled": [True, False, True, True, True, False],
        }
    )
    rates = street_rates(days).set_index("street_code")
    assert rates.loc["340111001", "coverage_rate"] == 0.75
    assert rates.loc["340111002", "coverage_rate"] == 0.5
