"""The generated district read back from its layer files (not from the generator's
objects, so rebuilding from the committed layers gives the committed bytes), and the
naming helpers every stage shares."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry


@dataclass
class Feature:
    props: dict[str, Any]
    raw: dict[str, Any]
    _geom: BaseGeometry | None = None

    @property
    def geom(self) -> BaseGeometry:
        if self._geom is None:
            self._geom = shape(self.raw)
        return self._geom


def _read(path: Path) -> list[Feature]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return [Feature(f["properties"], f["geometry"]) for f in data["features"]]


@dataclass
class Sample:
    district: Feature
    streets: list[Feature]
    communities: list[Feature]
    grids: list[Feature]
    buildings: list[Feature]

    @classmethod
    def read(cls, folder: Path) -> Sample:
        layers = {
            n: _read(folder / f"{n}.geojson")
            for n in ("districts", "streets", "communities", "grids", "buildings")
        }
        return cls(
            layers["districts"][0],
            layers["streets"],
            layers["communities"],
            layers["grids"],
            layers["buildings"],
        )


def is_town(street_name: str) -> bool:
    return street_name.endswith("镇")


def is_village(community_name: str) -> bool:
    return community_name.endswith("村")


def name_root(community_name: str) -> str:
    return community_name.removesuffix("社区").removesuffix("村")


def unit_code_for(area: str, suffix: str) -> str:
    """A unit's code: the code of the area it serves and its kind's suffix."""
    return f"{area}-{suffix}"
