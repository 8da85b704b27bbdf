"""Query-string parameters of the OGC API and the tiles, turned into a FeatureQuery.

OGC API – Features Part 1 rules: a parameter the API does not define, or one with an
invalid value, is a 400 (here a :class:`~gis_core.storage.features.FilterError` naming the
parameter); a ``limit`` above the maximum is not an error but is lowered to it.
Properties a layer exposes (not computed ones) are equality filters: ``status=dispatched``.
An empty value (``bbox=``) is a 400 too, except in a request for HTML (``f=html``), where
it is the blank field of the items page's filter form and counts as absent.
``datetime`` is accepted on every collection: it filters on the layer's time property
where it has one; a layer without one has no time, so its features match any ``datetime``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from gis_core.storage.cql import CQLFilter
from gis_core.storage.features import FeatureQuery, FilterError, coerce, parse_interval
from gis_core.storage.geo import BBox
from gis_core.storage.types import INTEGER_MAX
from layers.model import Layer

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
FORMATS = ("json", "html")
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CRS84_NAMES = frozenset({CRS84, f"<{CRS84}>", "OGC:CRS84", "[OGC:CRS84]"})
CRS_PARAMETERS = ("crs", "bbox-crs")
"""Part 2 parameters clients such as GDAL send once a collection lists its ``crs``: only
CRS84 (the storage CRS, lon/lat) is offered, any other value is a 400."""
FILTER_PARAMETERS = ("filter", "filter-lang", "filter-crs")
"""OGC API – Features Part 3: a CQL2 ``filter`` (text or JSON) on the queryables."""
CREDENTIALS = frozenset({"api_key"})
"""Parameters read by ``api.security`` (Open311-style keys), not filters: allowed, ignored."""


@dataclass(frozen=True)
class LayerRequest:
    """What a request asks of a layer; ``generation`` is still a name or id to resolve."""

    query: FeatureQuery
    generation: str | None = None
    format: str | None = None
    at: datetime | None = None
    """The moment whose active generation to read (``at=``; versioned layers only)."""


def parse_bbox(text: str) -> BBox:
    """``minx,miny,maxx,maxy`` (or the 6-number 3-D form) in CRS84 longitude/latitude."""
    shape_error = FilterError("bbox", f"bbox must be 4 or 6 comma-separated numbers: {text!r}")
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise shape_error from None
    if len(values) == 6:
        values = [values[0], values[1], values[3], values[4]]
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise shape_error
    minx, miny, maxx, maxy = values
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise FilterError("bbox", "bbox must be longitudes in -180..180, latitudes in -90..90")
    return minx, miny, maxx, maxy  # minx > maxx: across the antimeridian (OGC allows it)


def check_crs(name: str, value: str | None) -> None:
    """Only CRS84 is served (``crs``, ``bbox-crs``); None is fine (the default)."""
    if value is not None and value not in CRS84_NAMES:
        raise FilterError(name, f"only {CRS84} is supported, got {value!r}")


def _integer(name: str, text: str, minimum: int, maximum: int | None = None) -> int:
    try:
        value = int(text)
    except ValueError:
        raise FilterError(name, f"{name} must be an integer, got {text!r}") from None
    if value < minimum:
        raise FilterError(name, f"{name} must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise FilterError(name, f"{name} must be at most {maximum}")
    return value


def parse_limit(text: str | None) -> int:
    """1..MAX_LIMIT; larger values are lowered to MAX_LIMIT (OGC: not an error)."""
    if text is None:
        return DEFAULT_LIMIT
    return min(_integer("limit", text, 1), MAX_LIMIT)


def allowed_parameters(layer: Layer, *, paging: bool) -> set[str]:
    """Every query parameter a layer's items (``paging``) or tiles accept."""
    names = set(layer.stored) | CREDENTIALS | set(FILTER_PARAMETERS)
    if paging:
        names |= {"f", "bbox", "limit", "offset", *CRS_PARAMETERS}
    names.add("datetime")
    if layer.versioned:
        names |= {"generation", "at"}
    return names


def parse_at(text: str | None) -> datetime | None:
    """``at=``: an ISO 8601 time with a UTC offset (which generation was active then)."""
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise FilterError("at", f"at must be an ISO 8601 time, got {text!r}") from None
    if value.tzinfo is None:
        raise FilterError("at", "at needs a UTC offset, e.g. 2026-03-01T08:00:00+08:00")
    return value


def parse_layer_request(
    layer: Layer, params: Iterable[tuple[str, str]], *, paging: bool = True
) -> LayerRequest:
    """Validate and convert every parameter; the first problem raises FilterError."""
    allowed = allowed_parameters(layer, paging=paging)
    params = list(params)
    form = paging and ("f", "html") in params
    seen: dict[str, str] = {}
    for name, value in params:
        if name not in allowed:
            raise FilterError(name, f"unknown query parameter {name!r} for {layer.id}")
        if value == "":
            if form:  # a blank field of the HTML filter form: not a condition
                continue
            raise FilterError(name, f"{name!r} is empty: give a value or leave it out")
        if name in seen:
            raise FilterError(name, f"{name!r} given more than once")
        seen[name] = value
    for name in CREDENTIALS:
        seen.pop(name, None)
    for name in CRS_PARAMETERS:
        check_crs(name, seen.pop(name, None))
    fmt = seen.pop("f", None)
    if fmt is not None and fmt not in FORMATS:
        raise FilterError("f", f"f must be one of {', '.join(FORMATS)}")
    generation = seen.pop("generation", None)
    at = parse_at(seen.pop("at", None))
    if generation and at is not None:
        raise FilterError("generation", "give generation or at, not both")
    bbox = parse_bbox(seen.pop("bbox")) if "bbox" in seen else None
    limit = parse_limit(seen.pop("limit", None)) if paging else None
    offset = _integer("offset", seen.pop("offset"), 0, INTEGER_MAX) if "offset" in seen else 0
    interval = parse_interval(seen.pop("datetime")) if "datetime" in seen else None
    if layer.datetime_field is None:
        interval = None  # validated above; features without a time match every datetime
    check_crs("filter-crs", seen.pop("filter-crs", None))
    lang = seen.pop("filter-lang", None)
    text = seen.pop("filter", None)
    if lang is not None and text is None:
        raise FilterError("filter-lang", "filter-lang without a filter")
    cql = None if text is None else CQLFilter.parse(text, lang, layer.stored)
    equals = {name: coerce(layer.source, name, value) for name, value in seen.items()}
    query = FeatureQuery(
        bbox=bbox, equals=equals, interval=interval, limit=limit, offset=offset, filter=cql
    )
    return LayerRequest(query, generation or None, fmt, at)


def check_document_params(params: Iterable[tuple[str, str]]) -> str | None:
    """Parameters of the landing page, conformance and collection documents: only ``f``
    (and a key); returns the format."""
    fmt = None
    for name, value in params:
        if name not in {"f", *CREDENTIALS}:
            raise FilterError(name, f"unknown query parameter {name!r}")
        if value == "":
            raise FilterError(name, f"{name!r} is empty: give a value or leave it out")
        if name == "f":
            if value not in FORMATS:
                raise FilterError("f", f"f must be one of {', '.join(FORMATS)}")
            fmt = value
    return fmt


def parse_item_request(layer: Layer, params: Iterable[tuple[str, str]]) -> LayerRequest:
    """A single feature's parameters: only ``f``, ``crs`` and (admin layers) ``generation``."""
    allowed = {"f", "crs", *CREDENTIALS} | ({"generation"} if layer.versioned else set())
    seen: dict[str, str] = {}
    for name, value in params:
        if name not in allowed:
            raise FilterError(name, f"unknown query parameter {name!r} for a {layer.id} item")
        if value == "":
            raise FilterError(name, f"{name!r} is empty: give a value or leave it out")
        seen[name] = value
    check_crs("crs", seen.get("crs"))
    fmt = seen.get("f")
    if fmt is not None and fmt not in FORMATS:
        raise FilterError("f", f"f must be one of {', '.join(FORMATS)}")
    return LayerRequest(FeatureQuery(), seen.get("generation"), fmt)
