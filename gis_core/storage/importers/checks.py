"""Row checks shared by every import kind: converting cells, code formats and
prefixes, duplicates, column lengths, geometry type/range/validity. A failing cell
rejects its row with a reason instead of raising."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import String

from gis_core.spatial.crs import CRSError
from gis_core.standards import codes
from gis_core.standards.codes import ADMIN_CODE_LENGTHS
from gis_core.storage import geo, rows
from gis_core.storage.importers.report import ImportFailure, Rejection
from gis_core.storage.models import Base

MAX_REASONS_PER_ROW = 5

POLYGONAL = ("Polygon", "MultiPolygon")
_LON_NAMES = ("lon", "lng", "longitude", "x")
_LAT_NAMES = ("lat", "latitude", "y")


class RowChecks:
    """Per-row reasons collected while checking a frame."""

    def __init__(self, n: int) -> None:
        self.reasons: list[list[str]] = [[] for _ in range(n)]
        self.keys: list[str | None] = [None] * n

    def reject(self, i: int, reason: str) -> None:
        self.reasons[i].append(reason)

    def ok(self, i: int) -> bool:
        return not self.reasons[i]

    def accepted_mask(self) -> np.ndarray:
        return np.array([not r for r in self.reasons], dtype=bool)

    def rejections(self) -> list[Rejection]:
        out = []
        for i, reasons in enumerate(self.reasons):
            if reasons:
                shown = reasons[:MAX_REASONS_PER_ROW]
                if len(reasons) > len(shown):
                    shown.append(f"... {len(reasons) - len(shown)} more")
                out.append(Rejection(i + 1, "; ".join(shown), self.keys[i]))
        return out

    def convert(
        self, df: pd.DataFrame, name: str, fn: Callable[[Any], Any], *, required: bool = False
    ) -> list[Any]:
        """``fn`` over a column; a failing cell rejects its row instead of raising."""
        out: list[Any] = []
        for i, cell in enumerate(rows.column(df, name)):
            try:
                value = fn(cell)
            except rows.ValueProblem as exc:
                self.reject(i, f"{name}: {exc}")
                value = None
            else:
                if value is None and required:
                    self.reject(i, f"missing {name}")
            out.append(value)
        return out

    def check_lengths(self, values: dict[str, list[Any]], model: type[Base]) -> None:
        """String lengths the schema allows (PostgreSQL would refuse the whole load)."""
        table = model.__table__
        for name, column_values in values.items():
            col = table.c.get(name)
            if col is None or not isinstance(col.type, String) or not col.type.length:
                continue
            limit = col.type.length
            for i, v in enumerate(column_values):
                if isinstance(v, str) and len(v) > limit:
                    self.reject(i, f"{name} is longer than {limit} characters")

    def check_digits(self, name: str, values: list[str | None], lengths: tuple[int, ...]) -> None:
        for i, v in enumerate(values):
            if v is not None and not any(codes.is_digits(v, n) for n in lengths):
                want = " or ".join(str(n) for n in lengths)
                self.reject(i, f"{name} {v!r} is not {want} digits")

    def check_admin_codes(self, values: dict[str, list[Any]], names: tuple[str, ...]) -> None:
        """Each ``<level>_code`` column named holds codes of that level's length."""
        for name in names:
            length = ADMIN_CODE_LENGTHS[name.removesuffix("_code")]
            self.check_digits(name, values[name], (length,))

    def check_duplicates(self, name: str, values: list[str | None]) -> None:
        first: dict[str, int] = {}
        for i, v in enumerate(values):
            if v is None:
                continue
            if v in first:
                self.reject(i, f"duplicate {name} {v} (first in row {first[v] + 1})")
            else:
                first[v] = i

    def check_geometries(self, geoms: np.ndarray, allowed: tuple[str, ...]) -> None:
        """Present, of an allowed type, inside lon/lat range, and valid (OGC)."""
        missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
        box = geo.bounds(geoms)
        with np.errstate(invalid="ignore"):
            in_range = (
                np.isfinite(box).all(axis=1)
                & (box[:, 0] >= -180)
                & (box[:, 2] <= 180)
                & (box[:, 1] >= -90)
                & (box[:, 3] <= 90)
            )
        type_ok = np.isin(
            shapely.get_type_id(geoms),
            [int(getattr(shapely.GeometryType, t.upper())) for t in allowed],
        )
        valid = np.zeros(len(geoms), dtype=bool)
        check = ~missing & type_ok & in_range
        valid[check] = shapely.is_valid(geoms[check])
        for i in np.flatnonzero(~valid):  # the vectorised checks above; reasons only here
            g = geoms[i]
            if missing[i]:
                self.reject(i, "missing geometry")
            elif not type_ok[i]:
                self.reject(i, f"geometry is {g.geom_type}, expected {' or '.join(allowed)}")
            elif not in_range[i]:
                self.reject(
                    i,
                    f"coordinates out of range ({_fmt_box(box[i])}): not WGS84 lon/lat"
                    " - check the file's CRS or pass --crs",
                )
            else:
                self.reject(i, f"invalid geometry: {shapely.is_valid_reason(g)}")


def _fmt_box(b: np.ndarray) -> str:
    return f"x {b[0]:.6g}..{b[2]:.6g}, y {b[1]:.6g}..{b[3]:.6g}"


def geometry_of(df: pd.DataFrame, source_crs: str | None, checks: RowChecks) -> np.ndarray:
    """The rows' geometries in EPSG:4326 (2-D): from the file's geometry column, a WKT
    column, or lon/lat columns."""
    if isinstance(df, gpd.GeoDataFrame) and df.geometry.name in df.columns:
        gdf = df
    else:
        gdf = _geometry_from_columns(df, checks)
    try:
        gdf = geo.to_storage_crs(gdf, source_crs)
    except CRSError as exc:
        raise ImportFailure(str(exc)) from None
    except Exception as exc:  # PROJ failures: a broken CRS definition in the file
        raise ImportFailure(f"cannot reproject to EPSG:4326: {exc}") from None
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    present = ~shapely.is_missing(geoms)
    geoms[present] = shapely.force_2d(geoms[present])
    return geoms


def _geometry_from_columns(df: pd.DataFrame, checks: RowChecks) -> gpd.GeoDataFrame:
    n = len(df)
    for name in ("wkt", "geometry", "geom"):
        if name in df.columns:
            geoms = np.empty(n, dtype=object)
            for i, text in enumerate(df[name].tolist()):
                text = rows.text(text)
                if text is None:
                    continue
                try:
                    geoms[i] = shapely.from_wkt(text)
                except shapely.errors.GEOSException:
                    checks.reject(i, f"{name}: not readable as WKT")
            return gpd.GeoDataFrame(df.drop(columns=[name]), geometry=geoms)
    lon_col = next((c for c in _LON_NAMES if c in df.columns), None)
    lat_col = next((c for c in _LAT_NAMES if c in df.columns), None)
    if lon_col is None or lat_col is None:
        raise ImportFailure(
            "no geometry: use a spatial file, or give lon/lat (or a WKT column) in a table"
        )
    lon = checks.convert(df, lon_col, rows.number, required=True)
    lat = checks.convert(df, lat_col, rows.number, required=True)
    geoms = np.array(
        [
            shapely.Point(x, y) if x is not None and y is not None else None
            for x, y in zip(lon, lat, strict=True)
        ],
        dtype=object,
    )
    return gpd.GeoDataFrame(df, geometry=geoms)


def require_columns(df: pd.DataFrame, names: tuple[str, ...]) -> None:
    missing = [n for n in names if n not in df.columns]
    if missing:
        geom = df.geometry.name if isinstance(df, gpd.GeoDataFrame) else None
        found = ", ".join(str(c) for c in df.columns if c != geom) or "none"
        raise ImportFailure(f"missing required column(s): {', '.join(missing)} (found: {found})")


def prefix_check(
    checks: RowChecks,
    child: str,
    child_codes: list[str | None],
    parents: dict[str, list[str | None]],
) -> None:
    """Each given parent code must be the matching prefix of the child code."""
    for name, values in parents.items():
        length = ADMIN_CODE_LENGTHS[name.removesuffix("_code")]
        for i, (c, p) in enumerate(zip(child_codes, values, strict=True)):
            if c is None or p is None or len(c) < length:
                continue
            if c[:length] != p:
                checks.reject(i, f"{name} {p} does not match the {child} prefix {c[:length]}")


@dataclass
class Checked:
    frame: pd.DataFrame  # accepted rows only, clean values
    checks: RowChecks


def accepted_frame(
    values: dict[str, list[Any]], geoms: np.ndarray | None, checks: RowChecks
) -> pd.DataFrame:
    keep = checks.accepted_mask()
    data = {k: [v for v, ok in zip(col, keep, strict=True) if ok] for k, col in values.items()}
    frame = pd.DataFrame(data, columns=list(values), dtype=object)
    if geoms is None:
        return frame
    return gpd.GeoDataFrame(frame, geometry=list(geoms[keep]), crs=4326)
