"""Generation-aware lookups (MapIt-style): by id, by name, by moment, or the active one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import geopandas as gpd
import pytest
from shapely.geometry import box

from gis_core.boundaries.generations import GenerationNotFound, LookupService, NoActiveGeneration
from gis_core.storage import Store

WEST = "340111001001001"
EAST = "340111001001002"
POINT = (117.2015, 31.7005)  # in WEST's square in the first generation, EAST's in the second


def _grids(split_x: float) -> gpd.GeoDataFrame:
    """Two grids side by side, divided at ``split_x``."""
    return gpd.GeoDataFrame(
        {"code": [WEST, EAST], "name": ["西网格", "东网格"]},
        geometry=[box(117.200, 31.700, split_x, 31.702), box(split_x, 31.700, 117.204, 31.702)],
        crs=4326,
    )


def _generation(store: Store, name: str, split_x: float) -> int:
    gen = store.create_generation(name)
    store.load_admin_units(gen, {"grid": _grids(split_x)})
    return gen


def test_lookups_name_their_generation_and_moments_pick_the_one_then_active(
    store: Store,
) -> None:
    lookup = LookupService(store, active_ttl=0)
    with pytest.raises(NoActiveGeneration):
        lookup.resolve()

    first = _generation(store, "2025-q4", split_x=117.202)
    store.activate_generation(first)
    between = datetime.now(UTC)
    second = _generation(store, "2026-q1", split_x=117.201)  # the boundary moves west
    store.activate_generation(second)

    assert lookup.resolve().name == "2026-q1"
    assert lookup.locate(*POINT)["grid_code"] == EAST
    # The old generation stays queryable by name, by id (also as a string) and by moment.
    assert lookup.locate(*POINT, generation="2025-q4")["grid_code"] == WEST
    assert lookup.locate(*POINT, generation=first)["grid_code"] == WEST
    assert lookup.resolve(str(second)).name == "2026-q1"
    assert lookup.locate(*POINT, at=between)["generation"] == "2025-q4"
    assert lookup.resolve(at=datetime.now(UTC)).name == "2026-q1"


def test_unknown_generations_and_moments_say_what_is_wrong(store: Store) -> None:
    lookup = LookupService(store)
    gen = _generation(store, "only", split_x=117.202)
    store.activate_generation(gen)
    activated = lookup.resolve().activated_at
    assert activated is not None

    with pytest.raises(GenerationNotFound, match="no boundary generation 'nope'"):
        lookup.resolve("nope")
    with pytest.raises(GenerationNotFound, match="no boundary generation 999"):
        lookup.resolve(999)
    with pytest.raises(GenerationNotFound, match="was active at"):
        lookup.resolve(at=activated - timedelta(days=1))
    with pytest.raises(ValueError, match="needs a timezone"):
        lookup.resolve(at=datetime(2026, 1, 1))
    # A 5,000-digit "id" cannot be an integer id: it is looked up as a name, not a crash.
    with pytest.raises(GenerationNotFound):
        lookup.resolve("9" * 5000)
