"""Where layers come from: a folder of layer files, or the store's active generation.

Commands and services ask a `DataSource` for grids, parents, buildings and components
and never care which one they got.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import geopandas as gpd

from gis_core.paths import SAMPLE_DIR
from gis_core.spatial.io import read_layer
from gis_core.spatial.locator import LayerSet, Locator

if TYPE_CHECKING:  # files-only use imports no database code
    from gis_core.storage.protocol import StoreLike

LAYER_FILES = {
    "districts": "districts",
    "streets": "streets",
    "communities": "communities",
    "grids": "grids",
    "buildings": "buildings",
    "components": "components",
}
STORE_LEVELS = {
    "districts": "district",
    "streets": "street",
    "communities": "community",
    "grids": "grid",
}


class DataSource(Protocol):
    description: str

    def layer(self, name: str) -> gpd.GeoDataFrame: ...


class MissingLayerError(LookupError):
    """A layer that the source does not hold."""


@dataclass
class DirectorySource:
    """Layer files named districts/streets/communities/grids/buildings/components.*"""

    path: Path

    @property
    def description(self) -> str:
        return f"files in {self.path}"

    def layer(self, name: str) -> gpd.GeoDataFrame:
        if name not in LAYER_FILES:
            raise MissingLayerError(f"unknown layer {name!r}: choose from {', '.join(LAYER_FILES)}")
        files = sorted(self.path.glob(f"{LAYER_FILES[name]}.*"))
        files = [f for f in files if f.suffix.lower() in {".geojson", ".gpkg", ".shp", ".parquet"}]
        if not files:
            raise MissingLayerError(f"no {name} layer in {self.path}")
        return read_layer(files[0])


@dataclass
class StoreSource:
    """The store's active boundary generation (or a named one) plus its features."""

    store: StoreLike
    generation_id: int | None = None

    @property
    def description(self) -> str:
        return f"database {self.store.url}"

    def layer(self, name: str) -> gpd.GeoDataFrame:
        store = self.store
        if name in STORE_LEVELS:
            gdf = store.read_admin_layer(STORE_LEVELS[name], generation_id=self.generation_id)
        elif name == "buildings":
            gdf = store.read_buildings()
        elif name == "components":
            gdf = store.read_components()
        else:
            raise MissingLayerError(f"unknown layer {name!r}: choose from {', '.join(LAYER_FILES)}")
        if gdf is None or len(gdf) == 0:
            raise MissingLayerError(f"no {name} in {self.description}")
        return gdf


def layer_set(source: DataSource) -> LayerSet:
    def optional(name: str) -> gpd.GeoDataFrame | None:
        try:
            return source.layer(name)
        except MissingLayerError:
            return None

    return LayerSet(
        grids=source.layer("grids"),
        communities=optional("communities"),
        streets=optional("streets"),
        districts=optional("districts"),
    )


def build_locator(source: DataSource, **index_kw: float) -> Locator:
    return Locator(layer_set(source), **index_kw)


def sample_source() -> DirectorySource:
    return DirectorySource(SAMPLE_DIR)
