"""Reading and writing vector layers: GeoJSON, GeoPackage, Shapefile, GeoParquet, CSV.

pyogrio (GDAL) does the format work; this module only picks the driver from the file
name and brings every layer to the storage CRS (EPSG:4326).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from gis_core.spatial.crs import STORAGE_EPSG

GEO_SUFFIXES = {
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".gpkg": "GPKG",
    ".shp": "ESRI Shapefile",
}
PARQUET_SUFFIXES = {".parquet", ".geoparquet"}


class LayerError(ValueError):
    """A layer file that cannot be read or written as asked."""


def file_kind(path: str | Path) -> str:
    """'csv', 'parquet' or the OGR driver name for a path, from its suffix."""
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    if suffix in GEO_SUFFIXES:
        return GEO_SUFFIXES[suffix]
    raise LayerError(
        f"unsupported file type {suffix or '(none)'!r} for {path}: "
        "use .csv, .geojson, .gpkg, .shp, .parquet or .geoparquet"
    )


def read_layer(path: str | Path, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read a vector layer in any supported format, reprojected to EPSG:4326."""
    path = Path(path)
    if not path.exists():
        raise LayerError(f"no such file: {path}")
    kind = file_kind(path)
    try:
        if kind == "parquet":
            gdf = gpd.read_parquet(path)
        elif kind == "csv":
            raise LayerError(f"{path} is a CSV table, not a vector layer")
        else:
            gdf = gpd.read_file(path, layer=layer, engine="pyogrio")
    except LayerError:
        raise
    except Exception as exc:  # GDAL/pyarrow raise many types; the message is what matters
        raise LayerError(f"cannot read {path}: {exc}") from exc
    return to_storage_crs(gdf)


def to_storage_crs(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        return gdf.set_crs(STORAGE_EPSG)
    if gdf.crs.to_epsg() != STORAGE_EPSG:
        return gdf.to_crs(STORAGE_EPSG)
    return gdf


def write_layer(gdf: gpd.GeoDataFrame | pd.DataFrame, path: str | Path) -> None:
    """Write a layer; the format follows the suffix (GeoJSON, GeoPackage, Parquet, CSV)."""
    path = Path(path)
    kind = file_kind(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "csv":
        pd.DataFrame(gdf).to_csv(path, index=False)
    elif kind == "parquet":
        gdf.to_parquet(path, index=False)
    else:
        if path.exists():
            path.unlink()
        gdf.to_file(path, driver=kind, engine="pyogrio")
