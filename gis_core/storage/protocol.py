"""The Store's type, for annotations: what code outside storage may rely on.

``Database`` is the connection part (enough for queries that build their own SQL);
``StoreLike`` the whole public surface of :class:`gis_core.storage.Store`. Annotating
with these instead of ``Any`` lets the checker see every use, without importing the
Store (and SQLAlchemy's engine setup) where only the type is needed.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    from sqlalchemy import URL, Connection, Engine
    from sqlalchemy.orm import Session

    from gis_core.storage.geo import BBox
    from gis_core.storage.store import Activation, Generation, Progress


@runtime_checkable
class Database(Protocol):
    """An engine, its dialect, and transactions (see ``Store.session``)."""

    @property
    def engine(self) -> Engine: ...

    @property
    def url(self) -> URL: ...

    @property
    def dialect(self) -> str: ...

    def session(self, *, write: bool = True) -> AbstractContextManager[Session]: ...

    def connection(self, *, write: bool = True) -> AbstractContextManager[Connection]: ...

    def reader(self) -> AbstractContextManager[Connection]: ...


@runtime_checkable
class StoreLike(Database, Protocol):
    """Everything :class:`gis_core.storage.Store` offers beyond :class:`Database`."""

    def upgrade(self, revision: str = "head") -> None: ...

    # boundary generations and admin units
    def create_generation(
        self, name: str, description: str = "", activate: bool = False
    ) -> int: ...

    def activate_generation(self, generation_id: int, actor: str | None = None) -> None: ...

    def activation_log(self) -> list[Activation]: ...

    def asset_points(self, kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...

    def active_generation(self) -> Generation | None: ...

    def list_generations(self) -> list[Generation]: ...

    def get_generation(self, key: int | str) -> Generation | None: ...

    def load_admin_units(
        self,
        generation_id: int,
        layers: Mapping[str, gpd.GeoDataFrame],
        *,
        progress: Progress | None = None,
    ) -> dict[str, int]: ...

    def read_admin_layer(
        self, level: str, generation_id: int | None = None, *, bbox: BBox | None = None
    ) -> gpd.GeoDataFrame: ...

    # the offline basemap (roads, rivers, place names)
    def replace_basemap(self, layers: Mapping[str, gpd.GeoDataFrame]) -> dict[str, int]: ...

    def basemap_counts(self) -> dict[str, int]: ...

    # buildings and components
    def replace_buildings(
        self, gdf: gpd.GeoDataFrame, *, progress: Progress | None = None
    ) -> int: ...

    def read_buildings(self, bbox: BBox | None = None) -> gpd.GeoDataFrame: ...

    def replace_components(
        self, gdf: gpd.GeoDataFrame, *, progress: Progress | None = None
    ) -> int: ...

    def read_components(
        self, bbox: BBox | None = None, class_code: str | None = None
    ) -> gpd.GeoDataFrame: ...

    # responsibility
    def add_units(self, df: pd.DataFrame) -> dict[str, int]: ...

    def unit_ids(self) -> dict[str, int]: ...

    def read_units(self) -> pd.DataFrame: ...

    def add_members(self, df: pd.DataFrame) -> int: ...

    def add_responsibility_layers(self, gdf: gpd.GeoDataFrame) -> int: ...

    def read_responsibility_layers(
        self, kind: str | None = None, bbox: BBox | None = None
    ) -> gpd.GeoDataFrame: ...

    def add_rules(self, df: pd.DataFrame, *, replace: bool = False) -> int: ...

    def read_rules(self) -> pd.DataFrame: ...
