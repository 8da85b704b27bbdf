"""Seeded sample data: a real district outline cut into streets, communities and grids.

``generate("340111", Path("data/sample_grids"))`` writes districts, streets, communities,
grids, buildings and components as deterministic GeoJSON (WGS84) plus a manifest. Only the
district outline is real; everything inside it is synthetic (see data/sample_grids/README.md).
"""

from __future__ import annotations

from .config import DEFAULT_SEED, DISTRICTS, GENERATOR_VERSION, UnknownDistrictError
from .generate import generate

__all__ = ["DEFAULT_SEED", "DISTRICTS", "GENERATOR_VERSION", "UnknownDistrictError", "generate"]
