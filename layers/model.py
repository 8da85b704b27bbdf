"""What a map layer is: one definition read by the OGC API, the tiles and the styles.

A :class:`Layer` names its source (a :class:`~gis_core.storage.features.FeatureSource`),
the properties it exposes (nothing else leaves the server), its zoom range and
simplification, its style, and optionally properties computed at request time (an
event's traffic light depends on *now*).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property
from typing import Any, Literal

from gis_core.storage.features import Feature, FeatureSource
from layers.style import Style

PropertyType = Literal["string", "integer", "number", "datetime", "date"]
GeometryType = Literal["Point", "MultiPolygon", "Polygon", "MultiLineString"]
Compute = Callable[[Mapping[str, Any], datetime], dict[str, Any]]
"""(stored values of one feature, now) -> computed properties."""

MAX_ZOOM = 24
TILE_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
"""Times in tiles: UTC to the second, the same text from SQL and from Python."""


@dataclass(frozen=True)
class Property:
    name: str
    title: str
    """Chinese label, for HTML pages and legends."""
    type: PropertyType = "string"
    computed: bool = False
    """Filled in by the layer's ``compute`` at request time; not filterable."""

    @property
    def json_type(self) -> str:
        """JSON Schema type (OGC queryables, HTML hints)."""
        return {"integer": "integer", "number": "number"}.get(self.type, "string")

    @property
    def tilejson_type(self) -> str:
        """TileJSON ``vector_layers`` field type."""
        return "Number" if self.type in ("integer", "number") else "String"


class UnknownLayer(KeyError):
    """No layer with this id (the API answers 404)."""

    def __init__(self, layer_id: str) -> None:
        super().__init__(layer_id)
        self.layer_id = layer_id

    def __str__(self) -> str:
        return f"no map layer {self.layer_id!r}"


class UnknownCollection(UnknownLayer):
    """No OGC API collection with this id: an unknown layer, named as OGC names it."""

    def __str__(self) -> str:
        return f"no collection {self.layer_id!r}"


@dataclass(frozen=True)
class Layer:
    """One map layer: an OGC collection and a vector tile layer with the same id."""

    id: str
    title: str
    """Chinese title (网格, 事件 ...)."""
    title_en: str
    description: str
    table: str
    id_field: str
    properties: tuple[Property, ...]
    geometry_type: GeometryType
    minzoom: int
    maxzoom: int
    style: Style
    simplify: tuple[tuple[int, float], ...] = ()
    """(from zoom, tolerance in tile units): the last entry whose zoom <= z applies."""
    fixed: Mapping[str, Any] = field(default_factory=dict)
    versioned: bool = False
    """Read from one boundary generation (the active one unless ``generation=`` names one)."""
    datetime_field: str | None = None
    numeric_id: bool = False
    """Ids are digit strings that fit in 64 bits: tiles carry them as MVT feature ids."""
    compute: Compute | None = None
    inputs: tuple[str, ...] = ()
    """Stored columns ``compute`` reads but the layer does not expose."""
    cache_seconds: int = 300
    """How long clients may reuse a tile without asking (0: always revalidate)."""
    scope: str | None = None
    """Access scope needed to read the layer (None: public map data)."""
    area_column: str | None = None
    """Column holding the grid code that a caller's jurisdiction restricts (prefix)."""
    cluster_maxzoom: int | None = None
    """Up to this zoom a tile carries counts per cell, not each point (layers.clusters)."""
    generation_cached: bool = False
    """Its tiles change only with a boundary generation: kept per generation
    (layers.tile_cache)."""
    basemap: bool = False
    """Part of the offline basemap: style documents draw it beneath the data layers."""

    def __post_init__(self) -> None:
        if not 0 <= self.minzoom <= self.maxzoom <= MAX_ZOOM:
            raise ValueError(f"{self.id}: bad zoom range {self.minzoom}-{self.maxzoom}")
        if self.id_field not in self.stored:
            raise ValueError(f"{self.id}: the id field {self.id_field!r} must be a property")

    @property
    def stored(self) -> tuple[str, ...]:
        """Exposed properties read from the table (also the filterable ones)."""
        return tuple(p.name for p in self.properties if not p.computed)

    @cached_property
    def source(self) -> FeatureSource:
        return FeatureSource(
            table=self.table,
            id_column=self.id_field,
            columns=self.stored + tuple(c for c in self.inputs if c not in self.stored),
            datetime_column=self.datetime_field,
            fixed=self.fixed,
            versioned=self.versioned,
            area_column=self.area_column,
        )

    def property(self, name: str) -> Property:
        for p in self.properties:
            if p.name == name:
                return p
        raise KeyError(name)

    def tolerance(self, z: int) -> float:
        """Simplification tolerance at zoom ``z``, in tile units (0: none)."""
        tol = 0.0
        for zoom, value in self.simplify:
            if z >= zoom:
                tol = value
        return tol

    def exposed(self, feature: Feature, now: datetime) -> dict[str, Any]:
        """The properties a client sees: stored ones plus computed ones, inputs dropped."""
        props = {name: feature.properties.get(name) for name in self.stored}
        if self.compute is not None:
            props |= self.compute(feature.properties, now)
        return {p.name: props.get(p.name) for p in self.properties}

    def tile_id(self, fid: Any) -> int | None:
        """The MVT feature id (an unsigned integer), when the layer's ids allow one."""
        if isinstance(fid, int):
            return fid if fid >= 0 else None
        digits = isinstance(fid, str) and fid.isascii() and fid.isdigit()
        if self.numeric_id and digits and len(fid) <= 18:
            return int(fid)
        return None


def tile_value(value: Any) -> Any:
    """A property value as tiles carry it: times in UTC to the second, dates as ISO text.

    The PostGIS renderer formats in SQL to exactly these strings (see ``layers.mvt``).
    """
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime(TILE_TIME_FORMAT)
    if isinstance(value, date):
        return value.isoformat()
    return value
