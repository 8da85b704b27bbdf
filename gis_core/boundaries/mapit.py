"""The boundaries as MapIt (mapit.mysociety.org) shows them: areas, types, generations.

MapIt clients (UK civic tech, many 12345-hotline integrations copied from them) expect a
fixed JSON shape: an *area* is ``{id, name, type, type_name, country, country_name,
parent_area, generation_low, generation_high, codes, all_names}`` and lists are dicts
keyed by the area id as text. Here:

* ``id`` = the admin code as an integer (codes are 6-15 digits, unique across levels, and
  stable across boundary generations, which MapIt ids must be);
* ``type`` = :data:`AREA_TYPES` (DIS 区县, STR 街道, COM 社区, GRD 网格);
* ``generation_low/high`` = the first and last boundary generation holding that code;
* ``codes`` = ``{"admin": code}`` (``/code/admin/{code}``), grids also ``{"grid": code}``.

Areas of a generation are read once through the Store and kept (generations do not
change after import); nothing here knows HTTP.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely

from gis_core.standards.codes import ADMIN_LEVELS
from gis_core.storage.protocol import StoreLike
from gis_core.storage.store import Generation


@dataclass(frozen=True)
class AreaType:
    code: str
    level: str
    name: str
    name_en: str


AREA_TYPES: dict[str, AreaType] = {
    t.code: t
    for t in (
        AreaType("DIS", "district", "区县", "District"),
        AreaType("STR", "street", "街道", "Street: sub-district or town"),
        AreaType("COM", "community", "社区", "Community: residents' committee"),
        AreaType("GRD", "grid", "网格", "Unit grid"),
    )
}
"""MapIt area types: code -> level and names (Chinese beside English)."""
TYPE_OF_LEVEL = {t.level: t for t in AREA_TYPES.values()}
COUNTRY = "CN"
COUNTRY_NAME = "中国"
CODE_TYPES = ("admin", "grid")


class MapItError(LookupError):
    """A MapIt-style error: ``status`` (400 or 404) and a message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def parse_types(text: str | None) -> list[str] | None:
    """``type=DIS,GRD`` -> the types (MapIt's comma list); None when not given."""
    if text is None:
        return None
    types = [t.strip().upper() for t in text.split(",") if t.strip()]
    unknown = [t for t in types if t not in AREA_TYPES]
    if unknown or not types:
        known = ", ".join(AREA_TYPES)
        raise MapItError(400, f"unknown area type {','.join(unknown) or text!r}; known: {known}")
    return types


def area_id(text: str) -> int:
    """An area id from a URL: digits only (MapIt ids are integers)."""
    if not (text.isascii() and text.isdecimal() and len(text) <= 18):
        raise MapItError(400, f"bad area id {text!r}: expected an integer")
    return int(text)


class MapItAreas:
    """Every admin unit of each generation, as MapIt areas, cached per generation."""

    def __init__(self, store: StoreLike) -> None:
        self.store = store
        self._frames: dict[int, pd.DataFrame] = {}
        self._lock = threading.Lock()

    # -- generations ---------------------------------------------------------------------

    def generations(self) -> list[Generation]:
        return self.store.list_generations()

    def generation(self, value: str | int | None) -> Generation:
        """The generation asked for (``generation=`` id), else the active one."""
        gens = self.generations()
        if value is None:
            active = [g for g in gens if g.active]
            if not active:
                raise MapItError(404, "no active generation")
            return active[0]
        text = str(value)
        if not (text.isascii() and text.isdecimal() and len(text) <= 9):
            raise MapItError(400, f"bad generation {text!r}: expected an integer")
        for g in gens:
            if g.id == int(text):
                return g
        raise MapItError(404, f"no generation {text}")

    @staticmethod
    def generation_document(g: Generation) -> dict[str, Any]:
        created = g.created_at
        return {
            "id": g.id,
            "active": bool(g.active),
            "created": None if created is None else created.isoformat(),
            "description": g.description or g.name,
        }

    # -- areas ---------------------------------------------------------------------------

    def frame(self, generation_id: int) -> pd.DataFrame:
        """All four levels of a generation: id, code, name, level, parent, geometry."""
        frame = self._frames.get(generation_id)
        if frame is not None:
            return frame
        with self._lock:
            frame = self._frames.get(generation_id)
            if frame is None:
                parts = []
                for level in ADMIN_LEVELS:
                    layer = self.store.read_admin_layer(level, generation_id)
                    parts.append(
                        pd.DataFrame(
                            {
                                "code": layer["code"].astype(str),
                                "name": layer["name"],
                                "level": level,
                                "parent_code": layer["parent_code"],
                                "area_m2": layer["area_m2"].astype(float),
                                "geometry": layer.geometry.values,
                            }
                        )
                    )
                frame = pd.concat(parts, ignore_index=True)
                frame["id"] = frame["code"].astype(np.int64)
                frame = frame.set_index("id", drop=False)
                self._frames[generation_id] = frame
        return frame

    def _span(self, codes: pd.Series) -> dict[str, tuple[int, int]]:
        """code -> (first, last) generation id holding it."""
        low: dict[str, int] = {}
        high: dict[str, int] = {}
        wanted = set(codes)
        for g in sorted(self.generations(), key=lambda g: g.id):
            present = wanted.intersection(self.frame(g.id)["code"])
            for code in present:
                low.setdefault(code, g.id)
                high[code] = g.id
        return {c: (low[c], high[c]) for c in low}

    def documents(self, rows: pd.DataFrame) -> dict[str, dict[str, Any]]:
        """MapIt area objects keyed by id text (MapIt's list shape)."""
        span = self._span(rows["code"])
        out: dict[str, dict[str, Any]] = {}
        for r in rows.itertuples():
            kind = TYPE_OF_LEVEL[r.level]
            codes = {"admin": r.code} | ({"grid": r.code} if r.level == "grid" else {})
            low, high = span.get(r.code, (None, None))
            parent = r.parent_code if isinstance(r.parent_code, str) and r.parent_code else None
            out[str(r.id)] = {
                "id": int(r.id),
                "name": r.name,
                "type": kind.code,
                "type_name": f"{kind.name} ({kind.name_en})",
                "country": COUNTRY,
                "country_name": COUNTRY_NAME,
                "parent_area": int(parent) if parent else None,
                "generation_low": low,
                "generation_high": high,
                "codes": codes,
                "all_names": {},
            }
        return out

    def _select(self, frame: pd.DataFrame, types: list[str] | None) -> pd.DataFrame:
        if types is None:
            return frame
        return frame[frame["level"].isin([AREA_TYPES[t].level for t in types])]

    def row(self, ident: int, generation: str | None = None) -> pd.Series:
        """One area; a code missing from the generation asked is looked for in the others
        (MapIt answers for old areas too), newest first."""
        gens = [self.generation(generation)] if generation is not None else []
        gens += sorted(self.generations(), key=lambda g: (g.active, g.id), reverse=True)
        for g in gens:
            frame = self.frame(g.id)
            if ident in frame.index:
                return frame.loc[ident]
            if generation is not None:
                break
        raise MapItError(404, f"No area found with id {ident}")

    def area(self, ident: int, generation: str | None = None) -> dict[str, Any]:
        row = self.row(ident, generation)
        return self.documents(row.to_frame().T)[str(ident)]

    def children(
        self, ident: int, types: list[str] | None, generation: str | None = None
    ) -> dict[str, dict[str, Any]]:
        self.row(ident, generation)
        frame = self.frame(self.generation(generation).id)
        kids = frame[frame["parent_code"] == str(ident)]
        return self.documents(self._select(kids, types))

    def of_types(self, types: list[str], generation: str | None = None) -> dict[str, Any]:
        frame = self.frame(self.generation(generation).id)
        return self.documents(self._select(frame, types))

    def by_codes(
        self, codes: dict[str, str | None], types: list[str] | None, generation_id: int
    ) -> dict[str, dict[str, Any]]:
        """The areas of a point: its grid, community, street and district codes."""
        frame = self.frame(generation_id)
        ids = [int(c) for c in codes.values() if c]
        rows = frame[frame.index.isin(ids)]
        return self.documents(self._select(rows, types))

    def by_code(self, code_type: str, code: str, generation: str | None = None) -> int:
        if code_type not in CODE_TYPES:
            raise MapItError(404, f"unknown code type {code_type!r}; known: admin, grid")
        ident = area_id(code) if code.isdecimal() else None
        if ident is None:
            raise MapItError(404, f"No area found with code {code}")
        row = self.row(ident, generation)
        if code_type == "grid" and row["level"] != "grid":
            raise MapItError(404, f"No area found with grid code {code}")
        return ident

    def geometry_summary(self, ident: int, generation: str | None = None) -> dict[str, Any]:
        """MapIt's ``/area/{id}/geometry``: area, parts, centre and bounds (WGS84)."""
        row = self.row(ident, generation)
        geom = row["geometry"]
        centre = shapely.point_on_surface(geom) if not geom.is_empty else None
        minx, miny, maxx, maxy = geom.bounds
        return {
            "area": float(row["area_m2"]),
            "parts": int(shapely.get_num_geometries(geom)),
            "srid": 4326,
            "centre_lat": None if centre is None else centre.y,
            "centre_lon": None if centre is None else centre.x,
            "min_lat": miny,
            "min_lon": minx,
            "max_lat": maxy,
            "max_lon": maxx,
        }

    def shape(self, ident: int, generation: str | None = None) -> shapely.Geometry:
        return self.row(ident, generation)["geometry"]


def kml(name: str, geom: shapely.Geometry) -> str:
    """A KML 2.2 document with the area as one Placemark (outer and inner rings)."""
    polygons = []
    for poly in shapely.get_parts(geom):
        rings = [poly.exterior, *poly.interiors]
        text = [" ".join(f"{x:.7f},{y:.7f}" for x, y in ring.coords) for ring in rings]
        inner = "".join(
            f"<innerBoundaryIs><LinearRing><coordinates>{t}</coordinates></LinearRing>"
            "</innerBoundaryIs>"
            for t in text[1:]
        )
        polygons.append(
            "<Polygon><outerBoundaryIs><LinearRing><coordinates>"
            f"{text[0]}</coordinates></LinearRing></outerBoundaryIs>{inner}</Polygon>"
        )
    escaped = name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark>'
        f"<name>{escaped}</name><MultiGeometry>{''.join(polygons)}</MultiGeometry>"
        "</Placemark></Document></kml>\n"
    )
