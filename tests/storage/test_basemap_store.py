"""The basemap table on SQLite and PostGIS: replaced as a whole, read by the layers."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import LineString, Point, Polygon

from gis_core.storage import Store
from gis_core.storage.features import FeatureQuery, query_features
from layers import LAYERS


def _frame(rows: list[dict], geoms: list) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4326")


def test_replace_and_read_the_basemap(store: Store) -> None:
    store.upgrade()
    road = LineString([(117.30, 31.80), (117.31, 31.80)])
    river = Polygon([(117.30, 31.79), (117.31, 31.79), (117.31, 31.795), (117.30, 31.795)])
    counts = store.replace_basemap(
        {
            "roads": _frame([{"name": "泰和路", "class": "main"}], [road]),
            "rivers": _frame([{"name": "湖店河"}], [river]),
            "place_names": _frame(
                [{"name": "包公街道", "level": "street", "code": "340111001"}],
                [Point(117.305, 31.80)],
            ),
        }
    )
    assert counts == {"roads": 1, "rivers": 1, "place_names": 1}
    assert store.basemap_counts() == counts
    page = query_features(
        store, LAYERS["roads"].source, FeatureQuery(bbox=(117.2, 31.7, 117.4, 31.9))
    )
    assert [(f.properties["name"], f.properties["kind"]) for f in page.features] == [
        ("泰和路", "main")
    ]
    assert page.features[0].geometry.equals(road)
    labels = query_features(store, LAYERS["place_names"].source, FeatureQuery()).features
    assert labels[0].properties["code"] == "340111001"
    far = query_features(store, LAYERS["roads"].source, FeatureQuery(bbox=(100, 20, 101, 21)))
    assert far.features == []
    # Replacing replaces (a layer left out is emptied).
    assert store.replace_basemap({"rivers": _frame([{"name": "海城河"}], [river])}) == {"rivers": 1}
    assert store.basemap_counts() == {"rivers": 1}
    with pytest.raises(ValueError, match="name longer than 200"):
        store.replace_basemap({"roads": _frame([{"name": "路" * 201}], [road])})
    assert store.basemap_counts() == {"rivers": 1}  # the refused load changed nothing
    with pytest.raises(ValueError, match="unknown layer"):
        store.replace_basemap({"railways": _frame([{"name": "x"}], [road])})
