"""Drafts: a new boundary generation from a file or as a copy of the active set.

A file is read whole or not at all: unreadable files, a missing code column, wrong or
implausible coordinates (projected metres given as degrees and the reverse), empty or
non-polygonal geometries and codes of the wrong length refuse the draft with every
problem listed, and nothing is stored. What only validation can judge (overlaps, gaps,
duplicate codes, invalid polygons) is stored and then reported.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from gis_core.spatial.crs import CRSError
from gis_core.standards.codes import ADMIN_CODE_LENGTHS
from gis_core.storage import geo, rows
from gis_core.storage.importers import ImportFailure, read_table
from gis_core.storage.importers.reading import normalise_columns
from gis_core.storage.protocol import StoreLike

GRID = ADMIN_CODE_LENGTHS["grid"]
COMMUNITY = ADMIN_CODE_LENGTHS["community"]
PARENT_LEVELS = ("community", "street", "district")
DRAFT_FILE_COLUMNS = ("code", "name", "community_code", "parent_code", "unit_name", "staff")
MAX_PROBLEMS = 50
"""Problems listed in a refusal (the count says how many more there were)."""


class DraftRefused(ValueError):
    """A draft file (or request) that cannot become a draft; ``problems`` says why."""

    def __init__(self, problems: list[str], field: str = "file") -> None:
        shown = problems[:MAX_PROBLEMS]
        more = len(problems) - len(shown)
        text = "; ".join(shown) + (f"; ... {more} more" if more > 0 else "")
        super().__init__(f"draft refused, nothing stored: {text}")
        self.problems = problems
        self.field = field


class PlanNotFound(LookupError):
    """No generation by that id or name (or it has no draft to work on)."""


@dataclass
class Draft:
    generation_id: int
    name: str
    state: str
    version: int
    grids: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    renumbering: dict[str, str] = field(default_factory=dict)
    base_generation_id: int | None = None


def read_draft_file(
    path: str | Path, crs: str | None = None, *, strict: bool = True
) -> gpd.GeoDataFrame:
    """Grids of a file in WGS84 with ``code``, ``name``, ``parent_code``, ``unit_name``,
    ``staff``. ``strict`` refuses row problems; otherwise they are left for validation."""
    try:
        df = read_table(path)
    except ImportFailure as exc:
        raise DraftRefused([str(exc)]) from None
    if not isinstance(df, gpd.GeoDataFrame) or df.geometry.name not in df.columns:
        raise DraftRefused(
            [f"{path}: no geometry column (use GeoJSON, GeoPackage, Shapefile or GeoParquet)"]
        )
    try:
        df = normalise_columns(df, DRAFT_FILE_COLUMNS)
    except ImportFailure as exc:
        raise DraftRefused([str(exc)]) from None
    if "code" not in df.columns:
        found = ", ".join(str(c) for c in df.columns if c != df.geometry.name) or "none"
        raise DraftRefused([f"missing required column: code (found: {found})"], "code")
    if len(df) == 0:
        raise DraftRefused([f"{path}: no features"])
    df = _to_wgs84(df, crs)
    problems: list[str] = []
    codes = []
    for i, value in enumerate(df["code"].tolist()):
        try:
            code = rows.code(value)
        except rows.ValueProblem as exc:
            code = None
            problems.append(f"row {i + 1}: code: {exc}")
        if code is None:
            problems.append(f"row {i + 1}: missing code")
        elif strict and len(code) != GRID:
            problems.append(f"row {i + 1}: code {code!r} has {len(code)} characters, not {GRID}")
        codes.append(code or "")
    geoms = np.asarray(df.geometry.values, dtype=object)
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    kinds = shapely.get_type_id(geoms)
    polygonal = np.isin(kinds, [shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON])
    if strict:
        for i in np.flatnonzero(empty):
            problems.append(f"row {i + 1}: empty geometry")
        for i in np.flatnonzero(~empty & ~polygonal):
            problems.append(f"row {i + 1}: {geoms[i].geom_type} is not a polygon")
    if problems:
        raise DraftRefused(problems)
    present = ~shapely.is_missing(geoms)
    geoms[present] = shapely.force_2d(geoms[present])
    parent = [
        _clean(v)
        for v in (
            df["parent_code"]
            if "parent_code" in df.columns
            else df.get("community_code", [None] * len(df))
        )
    ]
    out = pd.DataFrame(
        {
            "code": codes,
            "name": [_clean(v) for v in df.get("name", [None] * len(df))],
            "parent_code": parent,
            "unit_name": [_clean(v) for v in df.get("unit_name", [None] * len(df))],
            "staff": [_clean(v) for v in df.get("staff", [None] * len(df))],
        }
    )
    out["name"] = [n or c for n, c in zip(out["name"], out["code"], strict=True)]
    return gpd.GeoDataFrame(out, geometry=list(geoms), crs=4326)


def extract_shapefile(zip_path: Path, into: Path, max_bytes: int = 500 * 1024 * 1024) -> Path:
    """The .shp of a zipped Shapefile, unpacked by base name only (no paths from the
    archive are trusted) and within ``max_bytes`` uncompressed."""
    try:
        with zipfile.ZipFile(zip_path) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            if sum(m.file_size for m in members) > max_bytes:
                raise DraftRefused([f"the archive unpacks to more than {max_bytes} bytes"])
            into.mkdir(parents=True, exist_ok=True)
            shp = None
            for m in members:
                name = Path(m.filename).name
                if not name or name.startswith("."):
                    continue
                (into / name).write_bytes(archive.read(m))
                if name.lower().endswith(".shp"):
                    shp = into / name
    except zipfile.BadZipFile:
        raise DraftRefused(["the upload is not a readable ZIP archive"]) from None
    if shp is None:
        raise DraftRefused(["the ZIP archive holds no .shp file"])
    return shp


def _clean(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def _to_wgs84(df: gpd.GeoDataFrame, crs: str | None) -> gpd.GeoDataFrame:
    """Reproject, refusing coordinates that cannot be what the CRS says they are."""
    box = shapely.total_bounds(df.geometry.values)
    declared = crs or df.crs
    geographic = declared is None or _is_geographic(declared)
    if np.isfinite(box).all():
        if geographic and (np.abs(box[[0, 2]]) > 180).any() | (np.abs(box[[1, 3]]) > 90).any():
            raise DraftRefused(
                [
                    f"coordinates x {box[0]:.6g}..{box[2]:.6g}, y {box[1]:.6g}..{box[3]:.6g} are"
                    " not degrees: projected coordinates given as lon/lat - pass the file's"
                    " CRS (--crs EPSG:4549, cgcs2000 ...)"
                ],
                "crs",
            )
        if not geographic and (np.abs(box) <= 360).all():
            raise DraftRefused(
                [
                    f"coordinates x {box[0]:.6g}..{box[2]:.6g}, y {box[1]:.6g}..{box[3]:.6g} look"
                    f" like degrees, but the CRS {declared} is projected (metres)"
                ],
                "crs",
            )
    try:
        return geo.to_storage_crs(df, crs)
    except CRSError as exc:
        raise DraftRefused([str(exc)], "crs") from None
    except Exception as exc:  # PROJ failures: a broken CRS definition
        raise DraftRefused([f"cannot reproject to EPSG:4326: {exc}"], "crs") from None


def _is_geographic(crs: Any) -> bool:
    if isinstance(crs, str) and crs.lower() in ("wgs84", "cgcs2000", "gcj02", "bd09"):
        return True
    try:
        return bool(CRS.from_user_input(crs).is_geographic)
    except Exception as exc:
        raise DraftRefused([f"unknown CRS {crs!r}: {exc}"], "crs") from None


def active_grids(store: StoreLike, generation_id: int) -> gpd.GeoDataFrame:
    """A stored generation's grids in the draft's columns."""
    g = store.read_admin_layer("grid", generation_id)
    return gpd.GeoDataFrame(
        {
            "code": g["code"].tolist(),
            "name": g["name"].tolist(),
            "parent_code": g["community_code"].tolist(),
            "unit_name": g["unit_name"].tolist() if "unit_name" in g else None,
            "staff": g["staff"].tolist() if "staff" in g else None,
        },
        geometry=list(g.geometry.values),
        crs=4326,
    )


def parents_of(
    store: StoreLike, grids: gpd.GeoDataFrame, base_id: int | None
) -> dict[str, gpd.GeoDataFrame]:
    """The outlines a draft's grids must tile: the base generation's communities, streets
    and district (a redraw keeps them); without a base, the union of the grids per code
    prefix."""
    if base_id is not None:
        out = {}
        for level in PARENT_LEVELS:
            layer = store.read_admin_layer(level, base_id)
            out[level] = gpd.GeoDataFrame(
                {"code": layer["code"].tolist(), "name": layer["name"].tolist()},
                geometry=list(layer.geometry.values),
                crs=4326,
            )
        return out
    geoms = np.asarray(grids.geometry.values, dtype=object)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    geoms = np.where(ok, shapely.make_valid(np.where(ok, geoms, None)), None)
    out = {}
    for level in PARENT_LEVELS:
        n = ADMIN_CODE_LENGTHS[level]
        keys = np.array([str(c)[:n] for c in grids["code"]], dtype=object)
        codes = sorted({k for k, good in zip(keys, ok, strict=True) if good and len(k) == n})
        outlines = [shapely.union_all(geoms[(keys == k) & ok]) for k in codes]
        out[level] = gpd.GeoDataFrame({"code": codes, "name": codes}, geometry=outlines, crs=4326)
    return out


def create_draft(
    store: StoreLike,
    name: str,
    *,
    path: str | Path | None = None,
    from_active: bool = False,
    crs: str | None = None,
    actor: str | None = None,
) -> int:
    """A new draft generation; its id. Exactly one of ``path`` and ``from_active``."""
    if (path is None) == (not from_active):
        raise DraftRefused(["give a file or copy the active generation, not both or neither"])
    if not name or len(name) > 100:
        raise DraftRefused(["a draft name has 1 to 100 characters"], "name")
    if store.get_generation(name) is not None:
        raise DraftRefused([f"a boundary generation named {name!r} already exists"], "name")
    active = store.active_generation()
    base_id = None if active is None else active.id
    if from_active:
        if active is None:
            raise DraftRefused(["no active generation to copy"])
        grids, source = active_grids(store, active.id), f"copy of {active.name}"
    else:
        assert path is not None
        grids, source = read_draft_file(path, crs), f"file {Path(path).name}"
    layers = {"grid": grids, **parents_of(store, grids, base_id)}
    gen_id = store.create_generation(name, f"draft: {source}")
    try:
        store.create_plan(gen_id, layers, base_generation_id=base_id, source=source, actor=actor)
    except Exception:
        store.drop_generation(gen_id)
        raise
    return gen_id


def load_draft(store: StoreLike, key: int | str) -> Draft:
    """A generation's draft: grids and community outlines with the plan state."""
    gen = store.get_generation(key)
    if gen is None:
        raise PlanNotFound(f"no boundary generation {key!r}")
    plan = store.plan_state(gen.id)
    if plan is None:
        raise PlanNotFound(f"generation {gen.name!r} was imported, not drafted: it has no draft")
    return Draft(
        gen.id,
        gen.name,
        plan["state"],
        plan["version"],
        store.read_draft(gen.id, "grid"),
        store.read_draft(gen.id, "community"),
        plan["renumbering"],
        plan["base_generation_id"],
    )


def generation_state(gen: Any, plan: dict[str, Any] | None) -> str:
    """draft / validated / active / retired, also for imported generations."""
    if gen.active:
        return "active"
    if plan is not None:
        return plan["state"]
    return "retired" if gen.activated_at is not None else "validated"
