"""Statistics answers written to files: GeoJSON, CSV or GeoParquet (what
``gridgov analytics ...`` writes).

Every file carries the parameters used, as the API's answers do: GeoJSON as a top-level
``params`` member, GeoParquet in the file's key-value metadata (``gridgov:params``), CSV in
a ``<file>.params.json`` beside it (a CSV has no place for them). CSV rows have ``lon`` and
``lat`` of a point on each unit's surface instead of a geometry, and list columns (a
recurrent problem's ``event_ids``) joined by spaces.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import orjson
import pandas as pd
import shapely

from gis_core.analytics.density import DensityResult
from gis_core.analytics.frame import AnalyticsInputError
from gis_core.spatial.crs import Projector

FORMATS = ("geojson", "csv", "parquet")
EXTENSIONS = {
    ".geojson": "geojson",
    ".json": "geojson",
    ".csv": "csv",
    ".parquet": "parquet",
    ".geoparquet": "parquet",
}
PARAMS_KEY = b"gridgov:params"


def output_format(path: Path, fmt: str | None = None) -> str:
    """``fmt`` if given, else the format named by the file's extension."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise AnalyticsInputError("format", f"format is one of {', '.join(FORMATS)}")
        return fmt
    found = EXTENSIONS.get(path.suffix.lower())
    if found is None:
        raise AnalyticsInputError(
            "format",
            f"cannot tell the format of {path.name!r} from its extension: use "
            f"{', '.join(EXTENSIONS)} or --format",
        )
    return found


def _jsonable(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, np.integer | np.bool_):
        return value.item()
    if isinstance(value, list | tuple | np.ndarray):
        return [_jsonable(v) for v in value]
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def _default(value: Any) -> Any:
    """What orjson does not encode itself: timestamps, numpy booleans, the rest as text."""
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, np.bool_):
        return bool(value)
    return str(value)


_ORJSON = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def feature_collection(
    table: gpd.GeoDataFrame,
    params: dict[str, Any],
    *,
    digits: int | None = None,
    grid_size: float | None = None,
) -> bytes:
    """``table`` (WGS84) and ``params`` as a GeoJSON FeatureCollection, UTF-8 encoded.

    Why by hand: shapely writes every geometry as GeoJSON text in one vectorised call;
    parsing that text back into dicts for a JSON encoder to write again was three quarters
    of an analytics answer's time. Non-finite numbers become ``null`` (orjson's rule).
    ``digits`` rounds float properties; ``grid_size`` snaps coordinates (smaller answers).
    """
    geoms = np.asarray(table.geometry.values, dtype=object)
    if grid_size is not None:
        geoms = shapely.set_precision(geoms, grid_size, mode="pointwise")
    shapes = shapely.to_geojson(geoms)
    props = pd.DataFrame(table.drop(columns=table.geometry.name))
    if digits is not None:
        floats = props.select_dtypes("floating").columns
        props[floats] = props[floats].round(digits)
    rows = props.to_dict("records")
    features = b",".join(
        b'{"type":"Feature","geometry":'
        + (shape.encode() if shape else b"null")
        + b',"properties":'
        + orjson.dumps(row, default=_default, option=_ORJSON)
        + b"}"
        for shape, row in zip(shapes, rows, strict=True)
    )
    encoded_params = orjson.dumps(params, default=_default, option=_ORJSON)
    return (
        b'{"type":"FeatureCollection","features":['
        + features
        + b'],"params":'
        + encoded_params
        + b"}"
    )


def write_table(table: gpd.GeoDataFrame, params: dict[str, Any], path: Path, fmt: str) -> Path:
    """Write ``table`` (WGS84) with ``params`` to ``path`` as ``fmt``; the path written."""
    params = _jsonable(json.loads(json.dumps(params, default=str)))
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "geojson":
        path.write_bytes(feature_collection(table, params))
    elif fmt == "csv":
        frame = pd.DataFrame(table.drop(columns=table.geometry.name))
        for col in frame.columns:
            if frame[col].map(lambda v: isinstance(v, list | tuple | np.ndarray)).any():
                frame[col] = frame[col].map(lambda ids: " ".join(map(str, ids)))
        centre = shapely.point_on_surface(np.asarray(table.geometry.values, dtype=object))
        frame["lon"] = shapely.get_x(centre).round(7)
        frame["lat"] = shapely.get_y(centre).round(7)
        frame.to_csv(path, index=False)
        Path(f"{path}.params.json").write_text(
            json.dumps(params, ensure_ascii=False), encoding="utf-8"
        )
    elif fmt == "parquet":
        import pyarrow.parquet as pq

        table.to_parquet(path, index=False)
        meta = pq.read_metadata(path).metadata or {}
        arrow = pq.read_table(path)
        merged = {**meta, PARAMS_KEY: json.dumps(params, ensure_ascii=False).encode()}
        pq.write_table(arrow.replace_schema_metadata(merged), path)
    else:
        raise AnalyticsInputError("format", f"format is one of {', '.join(FORMATS)}")
    return path


def density_cells(res: DensityResult, min_value: float = 0.0) -> gpd.GeoDataFrame:
    """The density raster's cells above ``min_value`` as WGS84 polygons (square in the
    projected metres) with ``density`` (events per km²), ``x``/``y`` (projected centre)."""
    cx, cy = res.cell_centres()
    keep = res.values > min_value
    x, y, v = cx[keep], cy[keep], res.values[keep]
    half = res.cell_m / 2
    proj = Projector(res.epsg)
    polys = shapely.box(x - half, y - half, x + half, y + half)

    def to_lonlat(c: np.ndarray) -> np.ndarray:
        return np.column_stack(proj.to_lonlat(c[:, 0], c[:, 1]))

    geoms = shapely.transform(polys, to_lonlat) if len(polys) else polys
    return gpd.GeoDataFrame({"density": v, "x": x, "y": y}, geometry=geoms, crs=4326)


__all__ = ["EXTENSIONS", "FORMATS", "PARAMS_KEY", "density_cells", "output_format", "write_table"]
