"""File import with a rejection report: bad rows are named and skipped, good rows load.

``import_file(store, kind, path)`` reads GeoJSON, GeoPackage, Shapefile (pyogrio),
GeoParquet and CSV, checks every row (required values, code formats and prefixes,
known component classes, geometry type and validity, coordinate range, duplicates,
column lengths) and loads the rows that pass through the :class:`Store`. Bad input never
raises: a file-level problem (unreadable, required column absent) is ``report.error``.

Row numbers in reports are 1-based data rows in file order (for a CSV, line = row + 1).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import String, select
from sqlalchemy.exc import SQLAlchemyError

from gis_core.spatial.crs import CRSError
from gis_core.spatial.io import LayerError, file_kind
from gis_core.standards import codes
from gis_core.standards.codes import ADMIN_CODE_LENGTHS
from gis_core.storage import geo, rows
from gis_core.storage.models import (
    TIME_LIMIT_UNITS,
    UNIT_KINDS,
    AdminUnit,
    Base,
    BoundaryGeneration,
    Building,
    Component,
    ResponsibleUnit,
    RoutingRule,
)
from gis_core.storage.store import BUILDING_COLUMNS as STORE_BUILDING_COLUMNS
from gis_core.storage.store import COMPONENT_COLUMNS as STORE_COMPONENT_COLUMNS
from gis_core.storage.store import Store

KINDS = ("grids", "buildings", "components", "units", "rules")
MAX_REASONS_PER_ROW = 5

_POLYGONAL = ("Polygon", "MultiPolygon")
_LON_NAMES = ("lon", "lng", "longitude", "x")
_LAT_NAMES = ("lat", "latitude", "y")

COMPONENT_ABBREVIATIONS = {
    "glbjbsm": "component_id",
    "glbjmc": "class_name",
    "zgbmdm": "department_code",
    "zgbmmc": "department_name",
    "qsdwdm": "owner_code",
    "qsdwmc": "owner_name",
    "yhdwdm": "maintainer_code",
    "yhdwmc": "maintainer_name",
    "szdywgbsm": "grid_code",
    "glbjzt": "status",
    "csrq": "initial_date",
    "bgrq": "change_date",
    "sjly": "data_source",
    "bz": "note",
    "szjddm": "street_code",
    "szjdmc": "street_name",
    "szsqdm": "community_code",
    "szsqmc": "community_name",
}
"""GB/T 47678.5 Annex A field abbreviations, as survey deliveries name their columns."""


@dataclass(frozen=True)
class Rejection:
    row: int
    reason: str
    key: str | None = None


@dataclass
class ImportReport:
    """What happened to a file: accepted/rejected rows, what was written, warnings."""

    kind: str
    path: str
    total: int = 0
    accepted: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    loaded: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    generation_id: int | None = None
    generation_name: str | None = None
    activated: bool = False
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Something was loaded and nothing failed at file level."""
        return self.error is None and self.accepted > 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "path": self.path,
            "total": self.total,
            "accepted": self.accepted,
            "rejected": [r.__dict__ for r in self.rejected],
            "loaded": self.loaded,
            "warnings": self.warnings,
            "generation_id": self.generation_id,
            "generation_name": self.generation_name,
            "activated": self.activated,
            "error": self.error,
        }


class ImportProgress(Protocol):
    """Progress sink (the CLI drives a rich progress bar with it)."""

    def start(self, phase: str, total: int | None) -> None: ...

    def advance(self, n: int) -> None: ...


class _NoProgress:
    def start(self, phase: str, total: int | None) -> None:
        pass

    def advance(self, n: int) -> None:
        pass


class ImportFailure(Exception):
    """A file-level problem; its message goes to ``ImportReport.error``."""


# -- reading ------------------------------------------------------------------------------


def _read_csv(path: Path) -> pd.DataFrame:
    """All cells as text (codes keep leading zeros); UTF-8 with or without BOM, else
    GB18030, the superset of GBK that Chinese spreadsheet exports use."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFailure(f"cannot decode {path}: neither UTF-8 nor GB18030")


def read_table(path: str | Path) -> pd.DataFrame:
    """The file as a (Geo)DataFrame, untouched apart from decoding. Raises ImportFailure."""
    path = Path(path)
    if not path.is_file():
        raise ImportFailure(f"no such file: {path}")
    try:
        kind = file_kind(path)
    except LayerError as exc:
        raise ImportFailure(str(exc)) from None
    try:
        if kind == "csv":
            return _read_csv(path)
        if kind == "parquet":
            try:
                return gpd.read_parquet(path)
            except ValueError as exc:  # a plain Parquet table has no geo metadata
                if "geo" not in str(exc).lower():
                    raise
                return pd.read_parquet(path)
        return gpd.read_file(path, engine="pyogrio")
    except ImportFailure:
        raise
    except Exception as exc:  # GDAL, Arrow and pandas raise many types; say which file
        raise ImportFailure(f"cannot read {path}: {exc}") from None


def _normalise_columns(df: pd.DataFrame, expected: tuple[str, ...]) -> pd.DataFrame:
    """Lower-case names; restore names a Shapefile cut to 10 characters; map the
    standard's field abbreviations (GLBJBSM...) for components."""
    geom_name = df.geometry.name if isinstance(df, gpd.GeoDataFrame) else None
    renames: dict[str, str] = {}
    taken = set()
    for col in df.columns:
        if col == geom_name:
            continue
        low = str(col).strip().lower()
        target = COMPONENT_ABBREVIATIONS.get(low, low) if "component_id" in expected else low
        if target not in expected:
            for name in expected:
                if len(name) > 10 and name[:10] == low:
                    target = name
        if target in taken:
            raise ImportFailure(f"column {target!r} appears twice (names ignore case)")
        renames[col] = target
        taken.add(target)
    return df.rename(columns=renames)


# -- row checks ---------------------------------------------------------------------------


class _Rows:
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


def _geometry_of(df: pd.DataFrame, source_crs: str | None, checks: _Rows) -> np.ndarray:
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


def _geometry_from_columns(df: pd.DataFrame, checks: _Rows) -> gpd.GeoDataFrame:
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


def _require_columns(df: pd.DataFrame, names: tuple[str, ...]) -> None:
    missing = [n for n in names if n not in df.columns]
    if missing:
        geom = df.geometry.name if isinstance(df, gpd.GeoDataFrame) else None
        found = ", ".join(str(c) for c in df.columns if c != geom) or "none"
        raise ImportFailure(f"missing required column(s): {', '.join(missing)} (found: {found})")


def _prefix_check(
    checks: _Rows, child: str, child_codes: list[str | None], parents: dict[str, list[str | None]]
) -> None:
    """Each given parent code must be the matching prefix of the child code."""
    for name, values in parents.items():
        length = ADMIN_CODE_LENGTHS[name.removesuffix("_code")]
        for i, (c, p) in enumerate(zip(child_codes, values, strict=True)):
            if c is None or p is None or len(c) < length:
                continue
            if c[:length] != p:
                checks.reject(i, f"{name} {p} does not match the {child} prefix {c[:length]}")


# -- kinds --------------------------------------------------------------------------------

GRID_COLUMNS = (
    "code",
    "name",
    "community_code",
    "street_code",
    "district_code",
    "unit_name",
    "staff",
    "community_name",
    "street_name",
    "district_name",
)
BUILDING_COLUMNS = STORE_BUILDING_COLUMNS
COMPONENT_COLUMNS = (*STORE_COMPONENT_COLUMNS, "lon", "lat")  # CSV files may give points
UNIT_COLUMNS = ("code", "name", "kind", "parent_code", "area_code", "phone")
RULE_COLUMNS = (
    "category_code",
    "area_code",
    "layer_kind",
    "unit_code",
    "precedence",
    "priority",
    "time_limit_value",
    "time_limit_unit",
    "note",
)


@dataclass
class _Checked:
    frame: pd.DataFrame  # accepted rows only, clean values
    checks: _Rows


def _check_grids(df: pd.DataFrame, source_crs: str | None) -> _Checked:
    _require_columns(df, ("code", "name"))
    checks = _Rows(len(df))
    values: dict[str, list[Any]] = {}
    values["code"] = checks.convert(df, "code", rows.code, required=True)
    checks.keys = list(values["code"])
    for name in ("community_code", "street_code", "district_code"):
        values[name] = checks.convert(df, name, rows.code)
    for name in ("name", "unit_name", "community_name", "street_name", "district_name"):
        values[name] = checks.convert(df, name, rows.text, required=name == "name")
    values["staff"] = checks.convert(df, "staff", rows.json_text)
    checks.check_digits("code", values["code"], (15,))
    checks.check_digits("community_code", values["community_code"], (12,))
    checks.check_digits("street_code", values["street_code"], (9,))
    checks.check_digits("district_code", values["district_code"], (6,))
    _prefix_check(
        checks,
        "grid code",
        values["code"],
        {k: values[k] for k in ("community_code", "street_code", "district_code")},
    )
    checks.check_duplicates("code", values["code"])
    checks.check_lengths(values, AdminUnit)
    for name in ("community_name", "street_name", "district_name"):
        for i, v in enumerate(values[name]):
            if v is not None and len(v) > 200:
                checks.reject(i, f"{name} is longer than 200 characters")
    geoms = _geometry_of(df, source_crs, checks)
    checks.check_geometries(geoms, _POLYGONAL)
    return _Checked(_frame(values, geoms, checks), checks)


def _check_buildings(df: pd.DataFrame, source_crs: str | None) -> _Checked:
    _require_columns(df, ("building_id",))
    checks = _Rows(len(df))
    values: dict[str, list[Any]] = {}
    values["building_id"] = checks.convert(df, "building_id", rows.code, required=True)
    checks.keys = list(values["building_id"])
    for name in ("address", "name", "use"):
        values[name] = checks.convert(df, name, rows.text)
    for name in ("floors", "households"):
        values[name] = checks.convert(df, name, rows.integer)
    for name, length in (("grid_code", 15), ("community_code", 12), ("street_code", 9)):
        values[name] = checks.convert(df, name, rows.code)
        checks.check_digits(name, values[name], (length,))
    _prefix_check(
        checks,
        "grid code",
        values["grid_code"],
        {k: values[k] for k in ("community_code", "street_code")},
    )
    checks.check_duplicates("building_id", values["building_id"])
    checks.check_lengths(values, Building)
    geoms = _geometry_of(df, source_crs, checks)
    checks.check_geometries(geoms, _POLYGONAL)
    return _Checked(_frame(values, geoms, checks), checks)


def _check_components(df: pd.DataFrame, source_crs: str | None) -> _Checked:
    _require_columns(df, ("component_id",))
    checks = _Rows(len(df))
    values: dict[str, list[Any]] = {}
    for name in COMPONENT_COLUMNS:
        if name in ("lon", "lat"):
            continue
        if name in ("initial_date", "change_date"):
            values[name] = checks.convert(df, name, rows.day)
        elif name == "component_id" or name.endswith("_code"):
            values[name] = checks.convert(df, name, rows.code, required=name == "component_id")
        else:
            values[name] = checks.convert(df, name, rows.text)
    ids = values["component_id"]
    checks.keys = list(ids)
    checks.check_digits("component_id", ids, (17,))
    classes = codes.component_class_table()
    for i, cid in enumerate(ids):
        if not codes.is_digits(cid, 17):
            continue
        cls = codes.component_class_of(cid)
        given = values["class_code"][i]
        if given is not None and given != cls:
            checks.reject(i, f"class_code {given} does not match component_id class part {cls}")
        if cls not in classes:
            checks.reject(i, f"unknown component class {cls} (component_id {cid})")
        grid = values["grid_code"][i]
        if grid is not None and codes.is_digits(grid, 15) and grid[:6] != cid[:6]:
            checks.reject(i, f"grid_code {grid} is not in district {cid[:6]} of the component_id")
    checks.check_digits("grid_code", values["grid_code"], (15,))
    checks.check_digits("community_code", values["community_code"], (12,))
    checks.check_digits("street_code", values["street_code"], (9,))
    _prefix_check(
        checks,
        "grid code",
        values["grid_code"],
        {k: values[k] for k in ("community_code", "street_code")},
    )
    checks.check_duplicates("component_id", ids)
    checks.check_lengths(values, Component)
    geoms = _geometry_of(df, source_crs, checks)
    checks.check_geometries(geoms, ("Point",))
    return _Checked(_frame(values, geoms, checks), checks)


def _check_units(df: pd.DataFrame, store: Store) -> _Checked:
    _require_columns(df, ("code", "name", "kind"))
    checks = _Rows(len(df))
    values: dict[str, list[Any]] = {}
    values["code"] = checks.convert(df, "code", rows.code, required=True)
    checks.keys = list(values["code"])
    values["name"] = checks.convert(df, "name", rows.text, required=True)
    values["kind"] = checks.convert(df, "kind", rows.text, required=True)
    values["parent_code"] = checks.convert(df, "parent_code", rows.code)
    values["area_code"] = checks.convert(df, "area_code", rows.code)
    values["phone"] = checks.convert(df, "phone", rows.text)
    for i, kind in enumerate(values["kind"]):
        if kind is not None and kind not in UNIT_KINDS:
            checks.reject(i, f"unknown kind {kind!r} (one of {', '.join(UNIT_KINDS)})")
    checks.check_digits("area_code", values["area_code"], tuple(ADMIN_CODE_LENGTHS.values()))
    checks.check_duplicates("code", values["code"])
    checks.check_lengths(values, ResponsibleUnit)
    for i, (unit_code, parent) in enumerate(
        zip(values["code"], values["parent_code"], strict=True)
    ):
        if parent is not None and parent == unit_code:
            checks.reject(i, "parent_code is the unit itself")
    stored = set(store.unit_ids())
    _reject_orphans(checks, values["code"], values["parent_code"], stored)
    return _Checked(_frame(values, None, checks), checks)


def _reject_orphans(
    checks: _Rows, unit_codes: list[str | None], parents: list[str | None], stored: set[str]
) -> None:
    """A parent must be stored or accepted in this file; repeat until stable, since
    rejecting a parent orphans its children."""
    changed = True
    while changed:
        changed = False
        good = {c for i, c in enumerate(unit_codes) if c is not None and checks.ok(i)}
        for i, parent in enumerate(parents):
            if parent is None or not checks.ok(i) or parent in stored or parent in good:
                continue
            in_file = parent in unit_codes
            checks.reject(
                i,
                f"parent_code {parent} was rejected"
                if in_file
                else f"unknown parent_code {parent}",
            )
            changed = True


def _check_rules(df: pd.DataFrame, store: Store) -> _Checked:
    _require_columns(df, ("unit_code",))
    checks = _Rows(len(df))
    values: dict[str, list[Any]] = {}
    values["unit_code"] = checks.convert(df, "unit_code", rows.code, required=True)
    values["category_code"] = checks.convert(df, "category_code", rows.code)
    values["area_code"] = checks.convert(df, "area_code", rows.code)
    values["layer_kind"] = checks.convert(df, "layer_kind", rows.text)
    values["precedence"] = checks.convert(df, "precedence", lambda v: rows.integer(v, minimum=None))
    values["priority"] = checks.convert(df, "priority", rows.text)
    values["time_limit_value"] = checks.convert(df, "time_limit_value", rows.number)
    values["time_limit_unit"] = checks.convert(df, "time_limit_unit", rows.text)
    values["note"] = checks.convert(df, "note", rows.text)
    units = store.unit_ids()
    majors, classes = codes.event_major_codes(), codes.event_class_codes()
    for i in range(len(df)):
        unit_code = values["unit_code"][i]
        checks.keys[i] = unit_code
        if unit_code is not None and unit_code not in units:
            checks.reject(i, f"unknown unit_code {unit_code} (import units first)")
        cat = values["category_code"][i]
        if cat is not None and not (
            (codes.is_digits(cat, 2) and cat in majors)
            or (codes.is_digits(cat, 5) and cat in classes)
        ):
            checks.reject(
                i, f"unknown event category {cat!r} (a 5-digit class or 2-digit major code)"
            )
        value, unit = values["time_limit_value"][i], values["time_limit_unit"][i]
        if unit is not None and unit not in TIME_LIMIT_UNITS:
            checks.reject(
                i, f"time_limit_unit {unit!r} is not one of {', '.join(TIME_LIMIT_UNITS)}"
            )
        if (value is None) != (unit is None):
            checks.reject(i, "time_limit_value and time_limit_unit go together")
        if value is not None and value <= 0:
            checks.reject(i, f"time_limit_value must be positive, got {value:g}")
    checks.check_digits("area_code", values["area_code"], tuple(ADMIN_CODE_LENGTHS.values()))
    checks.check_lengths(values, RoutingRule)
    return _Checked(_frame(values, None, checks), checks)


def _frame(values: dict[str, list[Any]], geoms: np.ndarray | None, checks: _Rows) -> pd.DataFrame:
    keep = checks.accepted_mask()
    data = {k: [v for v, ok in zip(col, keep, strict=True) if ok] for k, col in values.items()}
    frame = pd.DataFrame(data, columns=list(values), dtype=object)
    if geoms is None:
        return frame
    return gpd.GeoDataFrame(frame, geometry=list(geoms[keep]), crs=4326)


# -- grids: derive the parent levels ---------------------------------------------------------


def _derive_parents(
    store: Store, grids: gpd.GeoDataFrame, report: ImportReport
) -> dict[str, gpd.GeoDataFrame]:
    """Community, street and district outlines as the coverage union of their grids.

    Names come from ``<level>_name`` columns, else from the active generation's unit
    with the same code, else the code itself. A coverage that is not clean (overlaps,
    edges that do not match vertex for vertex) falls back to a full union, with a warning.
    """
    grid_codes = grids["code"].tolist()
    geoms = np.asarray(grids.geometry.values, dtype=object)
    known_names = _stored_names(store)
    layers: dict[str, gpd.GeoDataFrame] = {}
    for level, length in (("community", 12), ("street", 9), ("district", 6)):
        keys = np.array([c[:length] for c in grid_codes])
        name_col = grids[f"{level}_name"].tolist()
        out_codes, out_names, out_geoms = [], [], []
        for unit_code in sorted(set(keys.tolist())):
            idx = np.flatnonzero(keys == unit_code)
            parts = geoms[idx]
            if shapely.coverage_is_valid(parts):
                outline = shapely.coverage_union_all(parts)
            else:
                outline = shapely.union_all(parts)
                report.warnings.append(
                    f"{level} {unit_code}: its grids overlap or their shared edges do not match"
                    " vertex for vertex; outline built with a full union"
                )
            given = next((name_col[i] for i in idx if name_col[i]), None)
            out_codes.append(unit_code)
            out_names.append(given or known_names.get(unit_code) or unit_code)
            out_geoms.append(outline)
        layers[level] = gpd.GeoDataFrame(
            {"code": out_codes, "name": out_names}, geometry=out_geoms, crs=4326
        )
    return layers


def _stored_names(store: Store) -> dict[str, str]:
    active = store.active_generation()
    if active is None:
        return {}
    t = AdminUnit.__table__
    with store.engine.connect() as conn:
        result = conn.execute(
            select(t.c.code, t.c.name).where(t.c.generation_id == active.id, t.c.level != "grid")
        )
        return dict(result.all())


# -- entry point --------------------------------------------------------------------------


def import_file(
    store: Store,
    kind: str,
    path: str | Path,
    generation_id: int | None = None,
    *,
    generation_name: str | None = None,
    activate: bool = False,
    source_crs: str | None = None,
    replace: bool = False,
    progress: ImportProgress | None = None,
) -> ImportReport:
    """Import one file of ``kind`` (grids|buildings|components|units|rules).

    grids: into ``generation_id``, else the generation named ``generation_name``
    (created if new), else a new generation named after the file; communities, streets
    and districts are derived from the grids. ``activate`` makes that generation
    active; so does loading the first generation of an empty database.
    buildings, components: replace the stored set with the accepted rows.
    units: upsert by code. rules: appended, exact duplicates skipped (``replace`` clears
    the rule table first).
    ``source_crs`` overrides the file's CRS (wgs84, cgcs2000, gcj02, bd09, EPSG:n).
    """
    progress = progress or _NoProgress()
    report = ImportReport(kind=kind, path=str(path))
    if kind not in KINDS:
        report.error = f"unknown import kind {kind!r}: choose from {', '.join(KINDS)}"
        return report
    try:
        progress.start("reading", None)
        df = read_table(path)
        report.total = len(df)
        if report.total == 0:
            raise ImportFailure(f"{path} has no rows")
        progress.start("checking", None)
        checked = _check(store, kind, df, source_crs)
        report.rejected = checked.checks.rejections()
        report.accepted = len(checked.frame)
        if report.accepted == 0:
            report.error = "every row was rejected; nothing loaded"
            return report
        _load(
            store,
            kind,
            checked.frame,
            report,
            generation_id,
            generation_name,
            activate,
            replace,
            progress,
        )
    except ImportFailure as exc:
        report.error = str(exc)
        report.accepted = 0
    except SQLAlchemyError as exc:
        report.error = f"the database refused the load, nothing was written: {_first_line(exc)}"
        report.accepted = 0
    except (ValueError, LookupError) as exc:  # bad input the row checks did not foresee
        report.error = f"could not load, nothing was written: {exc}"
        report.accepted = 0
    return report


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


def _check(store: Store, kind: str, df: pd.DataFrame, source_crs: str | None) -> _Checked:
    expected = {
        "grids": GRID_COLUMNS,
        "buildings": BUILDING_COLUMNS,
        "components": COMPONENT_COLUMNS,
        "units": UNIT_COLUMNS,
        "rules": RULE_COLUMNS,
    }[kind]
    df = _normalise_columns(df, expected)
    if kind == "grids":
        return _check_grids(df, source_crs)
    if kind == "buildings":
        return _check_buildings(df, source_crs)
    if kind == "components":
        return _check_components(df, source_crs)
    if kind == "units":
        return _check_units(df, store)
    return _check_rules(df, store)


def _load(
    store: Store,
    kind: str,
    frame: pd.DataFrame,
    report: ImportReport,
    generation_id: int | None,
    generation_name: str | None,
    activate: bool,
    replace: bool,
    progress: ImportProgress,
) -> None:
    if kind == "grids":
        _load_grids(store, frame, report, generation_id, generation_name, activate, progress)
        return
    progress.start("loading", len(frame))
    if kind == "buildings":
        report.loaded["buildings"] = store.replace_buildings(frame, progress=progress.advance)
    elif kind == "components":
        report.loaded["components"] = store.replace_components(frame, progress=progress.advance)
    elif kind == "units":
        counts = store.add_units(frame)
        report.loaded["units inserted"] = counts["inserted"]
        report.loaded["units updated"] = counts["updated"]
        progress.advance(len(frame))
    else:
        inserted = store.add_rules(frame, replace=replace)
        report.loaded["rules"] = inserted
        if inserted < len(frame):
            report.warnings.append(
                f"{len(frame) - inserted} rule(s) already stored (identical) were skipped"
            )
        progress.advance(len(frame))


def _load_grids(
    store: Store,
    grids: gpd.GeoDataFrame,
    report: ImportReport,
    generation_id: int | None,
    generation_name: str | None,
    activate: bool,
    progress: ImportProgress,
) -> None:
    progress.start("deriving communities, streets, districts", None)
    layers = _derive_parents(store, grids, report)
    layers["grid"] = grids
    created = False
    if generation_id is not None:
        gen = store.get_generation(generation_id)
        if gen is None:
            raise ImportFailure(f"no boundary generation with id {generation_id}")
    else:
        name = generation_name or (
            f"{Path(report.path).stem} {datetime.now(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}"
        )
        gen = store.get_generation(name)
        if gen is None:
            gen = store.get_generation(
                store.create_generation(name, f"imported from {report.path}")
            )
            created = True
    assert gen is not None
    report.generation_id, report.generation_name = gen.id, gen.name
    progress.start("loading", sum(len(layer) for layer in layers.values()))
    try:
        report.loaded.update(store.load_admin_units(gen.id, layers, progress=progress.advance))
    except Exception:
        if created:
            _drop_generation(store, gen.id)
        raise
    if activate or store.active_generation() is None:
        store.activate_generation(gen.id)
        report.activated = True


def _drop_generation(store: Store, generation_id: int) -> None:
    with store.session() as s:
        gen = s.get(BoundaryGeneration, generation_id)
        if gen is not None:
            s.delete(gen)
