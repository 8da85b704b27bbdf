"""Shared fixtures: a small synthetic coverage on disk, and the shipped sample district."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from argon2 import PasswordHasher, profiles
from shapely.geometry import box

from gis_core.auth import passwords
from gis_core.paths import SAMPLE_DIR

pytest_plugins = ["tests.db_fixtures", "tests.browser", "tests.scheduling"]

# pytest-xdist workers inherit COLUMNS=80, and the CLI's module-level rich consoles would
# freeze that width when imported; CLI tests pass their own COLUMNS to each invocation.
os.environ.pop("COLUMNS", None)


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> Iterator[None]:
    """argon2id at its cheapest profile in the test processes: the same code path, ~0.1 ms
    instead of ~0.26 s of CPU per hash and per login (six demo accounts per seeded store).
    Production keeps argon2-cffi's default; hashes carry their parameters, so a server in
    a subprocess verifies these and rehashes at the default on a login."""
    saved = passwords._hasher
    passwords.set_hasher(PasswordHasher.from_parameters(profiles.CHEAPEST))
    yield
    passwords.set_hasher(saved)


@pytest.fixture(scope="session")
def small_grids_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 irregular grids near Hefei with 15-character codes, as grids.geojson."""
    rng = np.random.default_rng(3)
    frame = box(117.2, 31.7, 117.35, 31.82)
    seeds = shapely.multipoints(rng.uniform([117.2, 31.7], [117.35, 31.82], (300, 2)))
    cells = shapely.intersection(
        shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=frame)), frame
    )
    codes = [f"340111001{i // 10 + 1:03d}{i % 10 + 1:03d}" for i in range(len(cells))]
    folder = tmp_path_factory.mktemp("grids")
    gpd.GeoDataFrame(
        {"code": codes, "name": [f"第{i}网格" for i in range(len(cells))]},
        geometry=cells,
        crs=4326,
    ).to_file(folder / "grids.geojson")
    return folder


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    if not (SAMPLE_DIR / "grids.geojson").exists():
        pytest.fail(f"sample district missing in {SAMPLE_DIR}: run `gridgov sample-data 340111`")
    return SAMPLE_DIR
