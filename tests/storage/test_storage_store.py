"""Store behaviour, identical on SQLite and PostGIS."""

from __future__ import annotations

from datetime import UTC, date

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from storage_data import X0, Y0, D, cell, hole_square, make_buildings, make_components, make_grids

from gis_core.spatial.crs import gauss_kruger_epsg
from gis_core.storage import Store
from gis_core.storage.models import BoundaryGeneration


def _wkb(geom: shapely.Geometry) -> bytes:
    return shapely.to_wkb(geom, byte_order=1)


def _load(store: Store) -> int:
    gen = store.create_generation("2024 grids", activate=True)
    grids = make_grids()
    communities = grids.dissolve("community_code")[["geometry"]].reset_index()
    communities = communities.rename(columns={"community_code": "code"})
    communities["name"] = ["社区一", "社区二"]
    store.load_admin_units(gen, {"grid": grids, "community": communities})
    return gen


def test_geometry_round_trips_exactly(store: Store) -> None:
    _load(store)
    grids = make_grids()
    out = store.read_admin_layer("grid")
    assert out.crs.to_epsg() == 4326
    assert list(out["code"]) == sorted(grids["code"])
    stored = dict(zip(out["code"], out.geometry, strict=True))
    for code, geom in zip(grids["code"], grids.geometry, strict=True):
        expected = geom if geom.geom_type == "MultiPolygon" else shapely.MultiPolygon([geom])
        assert _wkb(stored[code]) == _wkb(expected), code
    with_hole = stored["330109001001001"]
    assert len(with_hole.geoms[0].interiors) == 1
    assert len(stored["330109001002001"].geoms) == 2


def test_admin_layer_columns_parents_and_areas(store: Store) -> None:
    _load(store)
    grids = store.read_admin_layer("grid")
    assert list(grids.columns) == [
        "code",
        "name",
        "parent_code",
        "district_code",
        "street_code",
        "community_code",
        "area_m2",
        "unit_name",
        "staff",
        "geometry",
    ]
    row = grids.set_index("code").loc["330109001002004"]
    assert row.parent_code == row.community_code == "330109001002"
    assert (row.street_code, row.district_code) == ("330109001", "330109")
    assert row.staff == '[{"name": "张三", "role": "网格长"}]'
    metric = gpd.GeoSeries([cell(1, 3)], crs=4326).to_crs(gauss_kruger_epsg(X0)).area.iloc[0]
    assert row.area_m2 == pytest.approx(metric, rel=1e-9)
    assert 10_000 < row.area_m2 < 20_000
    communities = store.read_admin_layer("community")
    assert list(communities["code"]) == ["330109001001", "330109001002"]
    assert "staff" not in communities.columns
    assert set(communities["parent_code"]) == {"330109001"}
    assert communities["area_m2"].sum() == pytest.approx(grids["area_m2"].sum(), rel=1e-9)


def test_bbox_reads_are_exact_on_both_backends(store: Store) -> None:
    _load(store)
    hole = hole_square()
    inside_hole = shapely.box(*hole.buffer(-D / 100).bounds)
    # The holed grid's bbox overlaps this box, its area does not: only the island answers.
    found = store.read_admin_layer("grid", bbox=inside_hole.bounds)
    assert list(found["code"]) == ["330109001001002"]
    # Column 2 only, rows 1-2 (edges shared with neighbours count as intersecting).
    x = X0 + 2.5 * D
    found = store.read_admin_layer("grid", bbox=(x, Y0 - 2.5 * D, x, Y0 - 1.5 * D))
    assert list(found["code"]) == ["330109001002003", "330109001002005"]
    empty = store.read_admin_layer("grid", bbox=(0.0, 0.0, 1.0, 1.0))
    assert len(empty) == 0 and list(empty.columns)[-1] == "geometry"
    with pytest.raises(ValueError, match="bbox"):
        store.read_admin_layer("grid", bbox=(1.0, 0.0, 0.0, 1.0))


def test_generation_activation_keeps_exactly_one_active(store: Store) -> None:
    assert store.active_generation() is None
    a = store.create_generation("a", "first")
    assert store.active_generation() is None
    b = store.create_generation("b", activate=True)
    c = store.create_generation("c")
    assert store.active_generation().id == b  # type: ignore[union-attr]
    for target in (a, c, c, b):
        store.activate_generation(target)
        gens = store.list_generations()
        assert [g.id for g in gens if g.active] == [target]
    active = store.active_generation()
    assert active is not None and active.activated_at is not None
    assert active.activated_at.tzinfo is not None
    assert active.activated_at.utcoffset() == UTC.utcoffset(None)
    with pytest.raises(ValueError, match="already exists"):
        store.create_generation("a")
    with pytest.raises(LookupError):
        store.activate_generation(999)
    # The database itself refuses a second active generation.
    with pytest.raises(IntegrityError), store.session() as s:
        s.execute(update(BoundaryGeneration).where(BoundaryGeneration.id == a).values(active=True))


def test_read_admin_layer_by_generation(store: Store) -> None:
    old = _load(store)
    new = store.create_generation("2025 grids")
    store.load_admin_units(new, {"grid": make_grids().iloc[:3]})
    assert len(store.read_admin_layer("grid")) == 16  # active = old
    assert len(store.read_admin_layer("grid", generation_id=new)) == 3
    store.activate_generation(new)
    assert len(store.read_admin_layer("grid")) == 3
    assert len(store.read_admin_layer("grid", generation_id=old)) == 16
    # Loading again replaces the level instead of failing on unique codes.
    store.load_admin_units(new, {"grid": make_grids().iloc[:5]})
    assert len(store.read_admin_layer("grid")) == 5


def test_no_active_generation_is_a_clear_error(store: Store) -> None:
    with pytest.raises(LookupError, match="no active boundary generation"):
        store.read_admin_layer("grid")


def test_buildings_replace_and_bbox(store: Store) -> None:
    b = make_buildings()
    assert store.replace_buildings(b) == 2
    out = store.read_buildings()
    assert list(out["building_id"]) == ["B001", "B002"]
    assert [_wkb(g) for g in out.geometry] == [_wkb(g) for g in b.geometry]
    assert str(out["floors"].dtype) == "Int64"
    assert out.loc[0, "floors"] == 6 and pd.isna(out.loc[1, "households"])
    assert out.geometry.iloc[1].geom_type == "MultiPolygon"
    # A box between the two parts of B002 meets its bbox, not the building.
    gap = (X0 + 2.21 * D, Y0 - 1.49 * D, X0 + 2.29 * D, Y0 - 1.41 * D)
    assert len(store.read_buildings(bbox=gap)) == 0
    assert list(store.read_buildings(bbox=(X0, Y0 - D, X0 + D, Y0))["building_id"]) == ["B001"]
    assert store.replace_buildings(b.iloc[1:]) == 1
    assert list(store.read_buildings()["building_id"]) == ["B002"]


def test_components_replace_derive_classes_and_filter(store: Store) -> None:
    c = make_components()
    assert store.replace_components(c) == 3
    out = store.read_components()
    first = out.iloc[0]
    assert (first.class_code, first.class_name, first.major_code, first.major_name) == (
        "01001",
        "供水井盖",
        "01",
        "市政公用设施",
    )
    assert first.initial_date == date(2024, 5, 1)
    assert out.iloc[1].initial_date == date(2024, 5, 2)
    assert pd.isna(out.iloc[2].initial_date)
    assert [_wkb(g) for g in out.geometry] == [_wkb(g) for g in c.geometry]
    assert list(store.read_components(class_code="01")["component_id"]) == list(c.component_id[:2])
    assert list(store.read_components(class_code="02001")["component_id"]) == [c.component_id[2]]
    col2 = (X0 + 2 * D, Y0 - 2 * D, X0 + 3 * D, Y0)
    assert len(store.read_components(bbox=col2)) == 2
    assert len(store.read_components(bbox=col2, class_code="01")) == 1
    # A point exactly on the box edge intersects it, on both backends.
    p = c.geometry.iloc[0]
    assert len(store.read_components(bbox=(p.x, p.y, p.x + D / 2, p.y + D / 2))) == 1


def test_units_upsert_with_parents_in_any_order(store: Store) -> None:
    units = pd.DataFrame(
        {
            "code": ["GT-001", "SO-001", "DC"],
            "name": ["一号网格工作站", "城厢街道办", "区指挥中心"],
            "kind": ["grid_team", "street_office", "district_centre"],
            "parent_code": ["SO-001", "DC", None],
            "area_code": ["330109001001001", "330109001", "330109"],
            "phone": ["0571-1", None, "12345"],
        }
    )
    assert store.add_units(units) == {"inserted": 3, "updated": 0}
    units.loc[0, "name"] = "一号网格站"
    assert store.add_units(units.iloc[:1]) == {"inserted": 0, "updated": 1}
    stored = store.read_units().set_index("code")
    assert stored.loc["GT-001", "name"] == "一号网格站"
    assert stored.loc["GT-001", "parent_code"] == "SO-001"
    assert pd.isna(stored.loc["DC", "parent_code"])
    with pytest.raises(ValueError, match="unknown parent_code"):
        store.add_units(
            pd.DataFrame(
                {"code": ["X"], "name": ["x"], "kind": ["bureau"], "parent_code": ["NOPE"]}
            )
        )
    members = pd.DataFrame(
        {"unit_code": ["GT-001"], "name": ["张三"], "role": ["网格长"], "phone": ["138"]}
    )
    assert store.add_members(members) == 1


def test_rules_append_skips_identical_and_replace(store: Store) -> None:
    store.add_units(pd.DataFrame({"code": ["CG"], "name": ["城管局"], "kind": ["bureau"]}))
    rules = pd.DataFrame(
        {
            "category_code": ["06001", "06", None],
            "area_code": ["330109", None, None],
            "unit_code": ["CG", "CG", "CG"],
            "precedence": [10, 5, 0],
            "time_limit_value": [4, 5, np.nan],
            "time_limit_unit": ["working_hours", "working_hours", None],
        }
    )
    assert store.add_rules(rules) == 3
    assert store.add_rules(rules) == 0
    assert len(store.read_rules()) == 3
    assert store.add_rules(rules.iloc[:1], replace=True) == 1
    stored = store.read_rules()
    assert list(stored["category_code"]) == ["06001"]
    assert stored.loc[0, "unit_code"] == "CG" and stored.loc[0, "time_limit_value"] == 4


def test_responsibility_layers(store: Store) -> None:
    store.add_units(pd.DataFrame({"code": ["JT"], "name": ["交通局"], "kind": ["bureau"]}))
    road = shapely.box(X0, Y0 - 4 * D, X0 + 4 * D, Y0 - 3.8 * D)
    n = store.add_responsibility_layers(
        gpd.GeoDataFrame(
            {"name": ["市心路"], "kind": ["main_road"], "unit_code": ["JT"]},
            geometry=[road],
            crs=4326,
        )
    )
    assert n == 1
    out = store.read_responsibility_layers(kind="main_road", bbox=road.bounds)
    assert list(out["unit_code"]) == ["JT"]
    assert out.geometry.iloc[0].equals(road)


def test_input_in_another_crs_is_stored_in_wgs84(store: Store) -> None:
    gen = store.create_generation("projected", activate=True)
    grids = make_grids()
    projected = grids.to_crs(4549)  # CGCS2000 / 3-degree Gauss-Kruger CM 120E
    store.load_admin_units(gen, {"grid": projected})
    out = store.read_admin_layer("grid").set_index("code")
    for code, geom in zip(grids["code"], grids.geometry, strict=True):
        assert shapely.equals_exact(
            out.geometry[code],
            shapely.MultiPolygon([geom] if geom.geom_type == "Polygon" else list(geom.geoms)),
            tolerance=1e-9,
        )


def test_session_gives_orm_access(store: Store) -> None:
    gen_id = store.create_generation("orm")
    with store.session() as s:
        gen = s.get(BoundaryGeneration, gen_id)
        assert gen is not None and gen.created_at.tzinfo is not None
        gen.description = "edited"
    assert store.get_generation("orm").description == "edited"  # type: ignore[union-attr]
