"""Batch assignment: every row of a table gets its grid, community, street and district.

Rows are never dropped. A row whose coordinates cannot be used is kept, flagged
(`assign_status` = "invalid") with a reason, and counted; a row outside every grid is
kept with empty codes and `assign_status` = "outside". The same partition function runs
in the local engine (chunks in this process) and on Dask (partitions on workers), and
both write through the same writer, so their outputs are identical.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import shapely
from numpy.typing import NDArray

from gis_core.batch.coordinates import (
    NOT_FINITE,
    OUT_OF_RANGE,
    first_reason,
    flag_out_of_range,
    number_column,
)
from gis_core.spatial.crs import parse_crs, valid_lonlat
from gis_core.spatial.io import LayerError, file_kind
from gis_core.spatial.locator import Locator

CHUNK_ROWS = 200_000


@dataclass(frozen=True)
class InputSpec:
    """Where a table keeps its coordinates and in which CRS."""

    crs: str = "wgs84"
    lon_col: str = "lon"
    lat_col: str = "lat"
    geometry_col: str | None = None  # set for GeoJSON/GeoPackage/GeoParquet inputs


@dataclass
class AssignSummary:
    rows: int = 0
    assigned: int = 0
    outside: int = 0
    invalid: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    def add(self, out: pd.DataFrame) -> None:
        status = out["assign_status"]
        self.rows += len(out)
        self.assigned += int((status == "assigned").sum())
        self.outside += int((status == "outside").sum())
        bad = status == "invalid"
        self.invalid += int(bad.sum())
        self.reasons.update(out.loc[bad, "assign_reason"].tolist())

    def as_dict(self) -> dict[str, object]:
        return {
            "rows": self.rows,
            "assigned": self.assigned,
            "outside": self.outside,
            "invalid": self.invalid,
            "invalid_reasons": dict(self.reasons.most_common()),
        }


def as_geometries(values: pd.Series) -> NDArray[np.object_]:
    """Shapely geometries from a column of geometries, WKB bytes (Parquet) or nulls."""
    arr = values.to_numpy(dtype=object)
    is_wkb = np.fromiter(
        (isinstance(v, bytes | bytearray | memoryview) for v in arr), dtype=np.bool_, count=len(arr)
    )
    if is_wkb.any():
        arr = arr.copy()
        arr[is_wkb] = shapely.from_wkb(arr[is_wkb])
    return np.where(pd.isna(arr), None, arr)


def _coordinates(
    df: pd.DataFrame, spec: InputSpec
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.object_]]:
    if spec.geometry_col is not None:
        geoms = as_geometries(df[spec.geometry_col])
        reason = np.full(len(df), None, dtype=object)
        missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
        not_point = ~missing & (shapely.get_type_id(geoms) != 0)
        reason[missing] = "missing geometry"
        reason[not_point] = "geometry is not a point"
        use = ~missing & ~not_point
        x = np.full(len(df), np.nan)
        y = np.full(len(df), np.nan)
        x[use] = shapely.get_x(geoms[use])
        y[use] = shapely.get_y(geoms[use])
        reason[use & ~(np.isfinite(x) & np.isfinite(y))] = NOT_FINITE
        return x, y, reason
    for col in (spec.lon_col, spec.lat_col):
        if col not in df.columns:
            raise LayerError(
                f"no column {col!r} in the input (columns: {', '.join(map(str, df.columns))}); "
                "name the coordinate columns with --lon-col/--lat-col"
            )
    x, rx = number_column(df[spec.lon_col])
    y, ry = number_column(df[spec.lat_col])
    return x, y, first_reason(rx, ry)


def assign_partition(df: pd.DataFrame, locator: Locator, spec: InputSpec) -> pd.DataFrame:
    """Add the assignment columns to one partition (any size, any engine)."""
    x, y, reason = _coordinates(df, spec)
    reason = flag_out_of_range(x, y, reason, spec.crs)
    ok = reason == None  # noqa: E711
    lon = np.where(ok, x, np.nan)
    lat = np.where(ok, y, np.nan)
    answer = locator.locate(lon, lat, spec.crs)
    if not parse_crs(spec.crs).is_geographic:
        lon84, lat84 = locator.to_wgs84(lon, lat, spec.crs)
        unmapped = ok & ~valid_lonlat(lon84, lat84)
        reason[unmapped] = OUT_OF_RANGE
        ok &= ~unmapped
    out = df.copy()
    for level in ("grid", "community", "street", "district"):
        out[f"{level}_code"] = answer[f"{level}_code"].to_numpy()
    found = answer["grid_code"].notna().to_numpy()
    out["assign_status"] = np.where(~ok, "invalid", np.where(found, "assigned", "outside"))
    out["assign_reason"] = np.where(ok, None, reason)
    return out


# ---------------------------------------------------------------------- reading


@dataclass
class InputTable:
    """An opened input: its chunks, the spec to read them and how to write the result."""

    spec: InputSpec
    chunks: Callable[[], Iterator[pd.DataFrame]]
    total_rows: int | None
    geo_crs: object | None = None  # CRS of the geometry column, for geo outputs


def open_input(path: str | Path, spec: InputSpec, crs_given: bool) -> InputTable:
    """Open CSV (streamed), GeoParquet/Parquet or an OGR layer as chunks of rows."""
    path = Path(path)
    if not path.exists():
        raise LayerError(f"no such file: {path}")
    kind = file_kind(path)
    if kind == "csv":

        def csv_chunks() -> Iterator[pd.DataFrame]:
            yield from pd.read_csv(path, dtype=str, keep_default_na=False, chunksize=CHUNK_ROWS)

        return InputTable(spec, csv_chunks, None)
    if kind == "parquet":
        meta = pq.read_metadata(path)
        geo = meta.metadata and meta.metadata.get(b"geo")
        frame = pd.read_parquet(path)
        geo_crs = None
        if geo:
            info = json.loads(geo)
            gcol = info["primary_column"]
            geo_crs = info["columns"][gcol].get("crs", "EPSG:4326")
            spec = _spec_for_geo(spec, gcol, geo_crs, crs_given)
        return InputTable(spec, lambda: _frame_chunks(frame), len(frame), geo_crs)
    try:
        gdf = gpd.read_file(path, engine="pyogrio")
    except Exception as exc:  # GDAL errors come in many types
        raise LayerError(f"cannot read {path}: {exc}") from exc
    spec = _spec_for_geo(spec, gdf.geometry.name, gdf.crs, crs_given)
    return InputTable(spec, lambda: _frame_chunks(gdf), len(gdf), gdf.crs)


def _spec_for_geo(spec: InputSpec, gcol: str, crs: object, crs_given: bool) -> InputSpec:
    """Geometry inputs use their declared CRS unless --crs names another (e.g. GCJ-02)."""
    use = spec.crs
    if not crs_given and crs is not None:
        epsg = gpd.GeoSeries([], crs=crs).crs.to_epsg()  # type: ignore[union-attr]
        use = f"EPSG:{epsg}" if epsg else "wgs84"
    return InputSpec(crs=use, lon_col=spec.lon_col, lat_col=spec.lat_col, geometry_col=gcol)


def _frame_chunks(frame: pd.DataFrame) -> Iterator[pd.DataFrame]:
    for start in range(0, max(len(frame), 1), CHUNK_ROWS):
        yield frame.iloc[start : start + CHUNK_ROWS]


# ---------------------------------------------------------------------- writing


class OutputWriter:
    """Writes assigned chunks in order; CSV streams, other formats are written at close."""

    def __init__(self, path: str | Path, geometry_col: str | None, geo_crs: object | None):
        self.path = Path(path)
        self.kind = file_kind(self.path)
        self.geometry_col = geometry_col
        self.geo_crs = geo_crs
        self._parts: list[pd.DataFrame] = []
        self._csv_started = False
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, chunk: pd.DataFrame) -> None:
        if self.kind == "csv":
            frame = pd.DataFrame(chunk)
            if self.geometry_col is not None:
                frame[self.geometry_col] = shapely.to_wkt(self._geoms(frame), rounding_precision=-1)
            frame.to_csv(
                self.path,
                mode="a" if self._csv_started else "w",
                header=not self._csv_started,
                index=False,
            )
            self._csv_started = True
        else:
            self._parts.append(chunk)

    def _geoms(self, frame: pd.DataFrame) -> NDArray[np.object_]:
        return as_geometries(frame[self.geometry_col])

    def close(self) -> None:
        if self.kind == "csv":
            if not self._csv_started:
                self.path.write_text("")
            return
        frame = pd.concat(self._parts, ignore_index=True) if self._parts else pd.DataFrame()
        if self.geometry_col is not None:
            geoms = gpd.GeoSeries(self._geoms(frame), crs=self.geo_crs, name=self.geometry_col)
            gdf = gpd.GeoDataFrame(
                pd.DataFrame(frame)
                .drop(columns=[self.geometry_col])
                .assign(**{self.geometry_col: geoms.values}),
                geometry=self.geometry_col,
                crs=self.geo_crs,
            )
        elif self.kind == "parquet":
            frame.to_parquet(self.path, index=False)
            return
        else:
            raise LayerError(
                f"{self.path.suffix} output needs geometries; this input is a plain table "
                "(write .csv or .parquet)"
            )
        if self.kind == "parquet":
            gdf.to_parquet(self.path, index=False)
        else:
            if self.path.exists():
                self.path.unlink()
            gdf.to_file(self.path, driver=self.kind, engine="pyogrio")


# ---------------------------------------------------------------------- engines


def assign_file(
    input_path: str | Path,
    output_path: str | Path,
    locator: Locator,
    spec: InputSpec,
    *,
    crs_given: bool = False,
    on_chunk: Callable[[int, int | None], None] | None = None,
) -> AssignSummary:
    """Local engine: stream the input in chunks through `assign_partition`."""
    table = open_input(input_path, spec, crs_given)
    writer = OutputWriter(output_path, table.spec.geometry_col, table.geo_crs)
    summary = AssignSummary()
    for chunk in table.chunks():
        out = assign_partition(chunk, locator, table.spec)
        writer.write(out)
        summary.add(out)
        if on_chunk is not None:
            on_chunk(len(out), table.total_rows)
    writer.close()
    return summary
