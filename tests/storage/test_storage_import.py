"""import_file: bad rows are reported with the right reason, good rows are loaded."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from storage_data import X0, Y0, D, cell, make_components, make_grids

from gis_core.spatial.crs import from_wgs84
from gis_core.storage import ImportReport, Store, import_file


def _reasons(report: ImportReport) -> dict[int, str]:
    return {r.row: r.reason for r in report.rejected}


def _bad_grids() -> gpd.GeoDataFrame:
    grids = make_grids()
    good = len(grids)
    bowtie = shapely.Polygon(
        [(X0, Y0 + D), (X0 + D, Y0 + 2 * D), (X0 + D, Y0 + D), (X0, Y0 + 2 * D)]
    )
    bad = gpd.GeoDataFrame(
        {
            "code": [
                "33010900100100A",  # not digits
                "330109001003001",  # invalid geometry
                "330109001003002",  # out of range
                "330109001003003",  # missing name
                "330109001001003",  # duplicate of a good row
                "330109001003004",  # community prefix mismatch
                "330109001003005",  # a point, not a polygon
                "3301090010030",  # wrong length
            ],
            "name": ["a", "b", "c", None, "e", "f", "g", "h"],
            "community_code": [None, None, None, None, None, "330109001009", None, None],
            "street_code": [None] * 8,
            "district_code": [None] * 8,
            "unit_name": [None] * 8,
            "staff": [None] * 8,
        },
        geometry=[
            cell(5, 0),
            bowtie,
            shapely.box(200, 10, 201, 11),
            cell(5, 1),
            cell(5, 2),
            cell(5, 3),
            shapely.Point(X0, Y0),
            cell(6, 0),
        ],
        crs=4326,
    )
    return pd.concat([grids, bad], ignore_index=True), good  # type: ignore[return-value]


def test_grid_import_rejects_bad_rows_and_derives_parents(store: Store, tmp_path: Path) -> None:
    frame, good = _bad_grids()
    path = tmp_path / "grids.geojson"
    frame.to_file(path)
    report = import_file(store, "grids", path, generation_name="2024")
    assert report.error is None and report.ok
    assert (report.total, report.accepted) == (good + 8, good)
    reasons = _reasons(report)
    assert sorted(reasons) == list(range(good + 1, good + 9))
    expected = [
        "code '33010900100100A' is not 15 digits",
        "invalid geometry: Self-intersection",
        "coordinates out of range",
        "missing name",
        f"duplicate code 330109001001003 (first in row {3})",
        "community_code 330109001009 does not match the grid code prefix 330109001003",
        "geometry is Point, expected Polygon or MultiPolygon",
        "code '3301090010030' is not 15 digits",
    ]
    for offset, text in enumerate(expected, start=1):
        assert text in reasons[good + offset], (offset, reasons[good + offset])
    assert report.loaded == {"community": 2, "street": 1, "district": 1, "grid": good}
    assert report.activated and report.generation_name == "2024"
    assert store.active_generation().id == report.generation_id  # type: ignore[union-attr]
    # Derived parents: coverage unions of the grids, names fall back to the code.
    communities = store.read_admin_layer("community")
    grids = store.read_admin_layer("grid")
    for code, outline in zip(communities["code"], communities.geometry, strict=True):
        members = grids[grids["community_code"] == code]
        assert outline.equals(shapely.union_all(members.geometry.values))
        assert outline.is_valid
    assert list(communities["name"]) == list(communities["code"])
    district = store.read_admin_layer("district")
    assert district["geometry"].iloc[0].equals(shapely.box(X0, Y0 - 4 * D, X0 + 4 * D, Y0))
    assert report.warnings == []


def test_missing_required_column_is_a_file_error(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "grids.gpkg"
    make_grids().drop(columns=["name"]).to_file(path)
    report = import_file(store, "grids", path)
    assert not report.ok and report.accepted == 0
    assert report.error is not None and "missing required column(s): name" in report.error
    assert store.list_generations() == []


@pytest.mark.parametrize("content", [b"{not json", b""])
def test_unreadable_file_is_reported_not_raised(
    store: Store, tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "broken.geojson"
    path.write_bytes(content)
    report = import_file(store, "grids", path)
    assert not report.ok and report.error and "broken.geojson" in report.error
    report = import_file(store, "grids", tmp_path / "missing.geojson")
    assert report.error is not None and "no such file" in report.error
    report = import_file(store, "grids", tmp_path / "grids.txt")
    assert report.error is not None


@pytest.mark.filterwarnings("ignore::UserWarning", "ignore::RuntimeWarning")
def test_grid_formats_and_reprojection(store: Store, tmp_path: Path) -> None:
    grids = make_grids()
    parquet = tmp_path / "grids.parquet"
    grids.to_crs(4549).to_parquet(parquet)  # CGCS2000 Gauss-Kruger: reprojected on import
    report = import_file(store, "grids", parquet)
    assert report.accepted == len(grids) and not report.rejected
    stored = store.read_admin_layer("grid").set_index("code")
    for code, geom in zip(grids["code"], grids.geometry, strict=True):
        assert stored.geometry[code].equals_exact(
            shapely.MultiPolygon([geom]) if geom.geom_type == "Polygon" else geom, 1e-9
        )
    shp = tmp_path / "grids.shp"  # Shapefile cuts community_code to 'community_'
    grids.drop(columns=["staff"]).to_file(shp, encoding="utf-8")
    report = import_file(store, "grids", shp, generation_name="from shapefile")
    assert report.accepted == len(grids), report.rejected
    assert not report.activated  # the first generation stays active
    layer = store.read_admin_layer("grid", generation_id=report.generation_id)
    assert layer["name"].iloc[0] == "网格001"


def test_components_csv_with_lon_lat(store: Store, tmp_path: Path) -> None:
    good = make_components()
    df = pd.DataFrame(good.drop(columns="geometry"))
    df["lon"] = good.geometry.x
    df["lat"] = good.geometry.y
    bad = pd.DataFrame(
        {
            "component_id": [
                "33010901016000001",  # 01016: missing in the standard's table
                "3301090100100000",  # 16 digits
                "33010901001000009",  # out of range
                "33010901001000001",  # duplicate
                "33010901001000010",  # bad date
                "33010901001000011",  # class_code disagrees with the id
                "33010901001000012",  # grid in another district
                "33010901001000013",  # lon missing
            ],
            "initial_date": [None, None, None, None, "2024-13-45", None, None, None],
            "class_code": [None, None, None, None, None, "01002", None, None],
            "grid_code": [None, None, None, None, None, None, "340111001001001", None],
            "lon": [X0, X0, 181.0, X0, X0, X0, X0, None],
            "lat": [Y0, Y0, Y0, Y0, Y0, Y0, Y0, Y0],
        }
    )
    path = tmp_path / "components.csv"
    pd.concat([df, bad], ignore_index=True).to_csv(path, index=False)
    report = import_file(store, "components", path)
    assert report.accepted == 3 and report.loaded == {"components": 3}
    reasons = _reasons(report)
    expected = [
        "unknown component class 01016",
        "component_id '3301090100100000' is not 17 digits",
        "coordinates out of range",
        "duplicate component_id 33010901001000001 (first in row 1)",
        "initial_date: expected a date as YYYYMMDD",
        "class_code 01002 does not match component_id class part 01001",
        "grid_code 340111001001001 is not in district 330109",
        "missing lon",
    ]
    for offset, text in enumerate(expected, start=4):
        assert text in reasons[offset], (offset, reasons.get(offset))
    stored = store.read_components()
    assert list(stored["component_id"]) == list(good["component_id"])
    assert stored["class_name"].iloc[0] == "供水井盖"
    assert stored.geometry.iloc[0].equals(good.geometry.iloc[0])


def test_components_gcj02_and_standard_abbreviations(store: Store, tmp_path: Path) -> None:
    good = make_components()
    lon, lat = from_wgs84(good.geometry.x, good.geometry.y, "gcj02")
    df = pd.DataFrame(
        {"GLBJBSM": good["component_id"], "SZDYWGBSM": good["grid_code"], "lon": lon, "lat": lat}
    )
    path = tmp_path / "survey.csv"
    df.to_csv(path, index=False, encoding="gb18030")
    report = import_file(store, "components", path, source_crs="gcj02")
    assert report.accepted == 3, report.rejected
    stored = store.read_components()
    assert list(stored["grid_code"]) == list(good["grid_code"])
    for a, b in zip(stored.geometry, good.geometry, strict=True):
        assert a.distance(b) < 1e-8


def test_buildings_import(store: Store, tmp_path: Path) -> None:
    b = gpd.GeoDataFrame(
        {
            "building_id": ["B1", "B2", "B3", "B4"],
            "floors": ["6", "six", "-1", "3"],
            "grid_code": ["330109001001001", None, None, "330109001001001"],
            "community_code": ["330109001001", None, None, "330109001002"],
        },
        geometry=[cell(0, 0), cell(0, 1), cell(0, 2), cell(0, 3)],
        crs=4326,
    )
    path = tmp_path / "buildings.geojson"
    b.to_file(path)
    report = import_file(store, "buildings", path)
    reasons = _reasons(report)
    assert report.accepted == 1
    assert "floors: expected a whole number" in reasons[2]
    assert "floors: expected a number >= 0" in reasons[3]
    assert "community_code 330109001002 does not match" in reasons[4]
    assert list(store.read_buildings()["building_id"]) == ["B1"]


def test_units_and_rules_import(store: Store, tmp_path: Path) -> None:
    units = tmp_path / "units.csv"
    units.write_text(
        "code,name,kind,parent_code,area_code,phone\n"
        "DC,区指挥中心,district_centre,,330109,12345\n"
        "CG,区城管局,bureau,DC,330109,\n"
        "SO1,城厢街道办,street_office,DC,330109001,\n"
        "X1,未知单位,ministry,DC,,\n"
        "GT1,一号网格工作站,grid_team,SO9,330109001001001,\n"
        "GT2,二号网格工作站,grid_team,X1,330109001001002,\n"
        "GT3,三号网格工作站,grid_team,SO1,33010900100,\n",
        encoding="utf-8-sig",
    )
    report = import_file(store, "units", units)
    reasons = _reasons(report)
    assert report.accepted == 3, reasons
    assert "unknown kind 'ministry'" in reasons[4]
    assert "unknown parent_code SO9" in reasons[5]
    assert "parent_code X1 was rejected" in reasons[6]
    assert "area_code '33010900100' is not" in reasons[7]
    assert report.loaded == {"units inserted": 3, "units updated": 0}

    rules = tmp_path / "rules.csv"
    rules.write_text(
        "category_code,area_code,layer_kind,unit_code,precedence,time_limit_value,time_limit_unit\n"
        "06001,330109,,CG,10,4,working_hours\n"
        "06,,,CG,5,5,working_days\n"
        ",,main_road,CG,20,,\n"
        "99999,,,CG,0,,\n"
        "06001,,,NOPE,0,,\n"
        "06001,,,CG,0,4,hours\n"
        "06001,,,CG,0,4,\n",
        encoding="utf-8",
    )
    report = import_file(store, "rules", rules)
    reasons = _reasons(report)
    assert report.accepted == 3, reasons
    assert "unknown event category '99999'" in reasons[4]
    assert "unknown unit_code NOPE" in reasons[5]
    assert "time_limit_unit 'hours' is not one of" in reasons[6]
    assert "time_limit_value and time_limit_unit go together" in reasons[7]
    again = import_file(store, "rules", rules)
    assert again.loaded == {"rules": 0} and again.warnings
    assert len(store.read_rules()) == 3


def test_every_row_rejected_loads_nothing(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "grids.geojson"
    frame = make_grids()
    frame["code"] = "bad"
    frame.to_file(path)
    report = import_file(store, "grids", path)
    assert not report.ok and report.accepted == 0 and len(report.rejected) == len(frame)
    assert report.error == "every row was rejected; nothing loaded"
    assert store.list_generations() == []
