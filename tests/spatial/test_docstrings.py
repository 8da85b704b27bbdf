"""The public spatial API documents itself with runnable examples.

The examples themselves run as doctests (pyproject.toml: ``--doctest-modules`` over
``gis_core/spatial``); this checks that the public names keep having them.
"""

from __future__ import annotations

import doctest
import inspect

import pytest

from gis_core.spatial import crs, grid_index, locator

PUBLIC = [
    grid_index.GridIndex,
    grid_index.GridIndex.from_geodataframe,
    grid_index.GridIndex.locate,
    grid_index.GridIndex.locate_index,
    grid_index.GridIndex.locate_one,
    grid_index.GridIndex.covering_all,
    grid_index.GridIndex.nearest,
    locator.Locator,
    locator.Locator.from_directory,
    locator.Locator.locate,
    locator.Locator.locate_one,
    crs.parse_crs,
    crs.to_wgs84,
    crs.from_wgs84,
    crs.wgs84_to_gcj02,
    crs.gcj02_to_wgs84,
    crs.wgs84_to_bd09,
    crs.bd09_to_wgs84,
    crs.gcj02_to_bd09,
    crs.bd09_to_gcj02,
    crs.in_china,
    crs.valid_lonlat,
    crs.gauss_kruger_epsg,
    crs.Projector,
]


@pytest.mark.parametrize("obj", PUBLIC, ids=lambda o: o.__qualname__)
def test_public_spatial_api_has_numpydoc_with_examples(obj: object) -> None:
    doc = inspect.getdoc(obj) or ""
    assert "Examples\n--------" in doc
    assert "Returns\n-------" in doc or "Parameters\n----------" in doc
    assert doctest.DocTestParser().get_examples(doc), "the examples must be runnable"
