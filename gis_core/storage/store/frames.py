"""What the Store's bulk loads and reads share: input checks, chunking, and turning a
SELECT with geometry into a GeoDataFrame (the same answer from both backends)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, Integer, Select, Table

from gis_core.spatial.crs import STORAGE_EPSG
from gis_core.storage import geo, sql_geo

CHUNK_ROWS = 2000
"""Rows per executemany: big enough to amortise round trips, small enough for progress."""

Progress = Callable[[int], None]
"""Called with the number of rows just written (for progress bars)."""


def require(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    """ValueError unless ``df`` has ``columns``, each once."""
    twice = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
    if twice:
        raise ValueError(f"{what}: duplicate column(s) {', '.join(twice)}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{what}: missing column(s) {', '.join(missing)}")


def chunks(items: list[dict[str, Any]], size: int = CHUNK_ROWS) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def geometries(gdf: gpd.GeoDataFrame, what: str) -> np.ndarray:
    """The geometry array in EPSG:4326, refusing missing or empty geometries."""
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf.columns:
        raise ValueError(f"{what}: expected a GeoDataFrame with a geometry column")
    geoms = np.asarray(geo.to_storage_crs(gdf).geometry.values, dtype=object)
    bad = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if bad.any():
        raise ValueError(f"{what}: {int(bad.sum())} row(s) without geometry")
    return geoms


def with_bbox(records: list[dict[str, Any]], geoms: np.ndarray) -> list[dict[str, Any]]:
    """``records`` with each row's ``geom`` and bbox columns added."""
    return [
        {**rec, "geom": geom, **box}
        for rec, geom, box in zip(records, geoms, sql_geo.bbox_values(geoms), strict=True)
    ]


def read_frame(
    conn: Connection,
    dialect: str,
    table: Table,
    stmt: Select[Any],
    columns: list[str],
    bbox: geo.BBox | None,
) -> gpd.GeoDataFrame:
    """``stmt`` (selecting ``columns`` of ``table``), optionally inside ``bbox``, with
    the geometry, as a GeoDataFrame in EPSG:4326."""
    bbox = geo.check_bbox(bbox)
    stmt = stmt.add_columns(sql_geo.wkb_column(dialect, table))
    if bbox is not None:
        stmt = stmt.where(sql_geo.bbox_clause(dialect, table, bbox))
    result = conn.execute(stmt).all()
    data = {c: [r[i] for r in result] for i, c in enumerate(columns)}
    geoms = sql_geo.decode_wkb([r[-1] for r in result])
    frame = pd.DataFrame(data, columns=columns)
    for name, col in zip(columns, stmt.selected_columns, strict=False):
        if isinstance(col.type, Integer):  # keep whole numbers whole despite NULLs
            frame[name] = frame[name].astype("Int64")
    gdf = gpd.GeoDataFrame(frame, geometry=geoms, crs=STORAGE_EPSG)
    if bbox is not None and not sql_geo.exact_in_database(dialect) and len(gdf):
        # The bbox columns only prefilter; keep what really intersects, as PostGIS does.
        gdf = gdf[sql_geo.intersects_bbox(gdf.geometry.values, bbox)]
        gdf = gdf.reset_index(drop=True)
    return gdf
