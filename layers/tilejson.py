"""TileJSON 3.0 and MapLibre style documents for the vector tile layers.

URLs are absolute, built from the request's base URL, and carry the request's filter
parameters (``?generation=2026-q3``) into the tile template, so a client pointed at a
TileJSON gets tiles of exactly what it asked for.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from gis_core.storage.features import Extent
from layers.model import Layer

TILEJSON_VERSION = "3.0.0"
WEB_MERCATOR_LAT = 85.0511287798066
WORLD_BOUNDS = [-180.0, -WEB_MERCATOR_LAT, 180.0, WEB_MERCATOR_LAT]


def _suffix(query_string: str) -> str:
    return f"?{query_string}" if query_string else ""


def tile_url_template(layer: Layer, base: str, query_string: str = "") -> str:
    return f"{base}tiles/{layer.id}/{{z}}/{{x}}/{{y}}.mvt{_suffix(query_string)}"


def vector_layer(layer: Layer) -> dict[str, Any]:
    """The TileJSON ``vector_layers`` entry: fields, zooms and (an extension) the style."""
    return {
        "id": layer.id,
        "description": f"{layer.title} {layer.title_en}",
        "minzoom": layer.minzoom,
        "maxzoom": layer.maxzoom,
        "fields": {p.name: p.tilejson_type for p in layer.properties},
        "geometry_type": layer.geometry_type,
        "style": layer.style.as_dict(),
    }


def tilejson(layer: Layer, base: str, ext: Extent | None, query_string: str = "") -> dict:
    bounds = list(ext.bbox) if ext is not None and ext.bbox is not None else WORLD_BOUNDS
    centre = [(bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2]
    return {
        "tilejson": TILEJSON_VERSION,
        "name": layer.id,
        "description": f"{layer.title} · {layer.title_en}. {layer.description}",
        "version": "1.0.0",
        "scheme": "xyz",
        "tiles": [tile_url_template(layer, base, query_string)],
        "minzoom": layer.minzoom,
        "maxzoom": layer.maxzoom,
        "bounds": bounds,
        "center": [*centre, max(layer.minzoom, min(14, layer.maxzoom))],
        "vector_layers": [vector_layer(layer)],
    }


def style_document(
    layers: Iterable[Layer], base: str, query_strings: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """A MapLibre style (spec v8) drawing ``layers`` in order, one TileJSON source each.

    Offline basemap layers (roads, rivers, place names) are drawn first, beneath the
    data; labels are drawn last of all, above the areas. Text needs glyphs: the
    document then names the server's own (``/tiles/glyphs``), never a CDN. No sprites.
    """
    query_strings = query_strings or {}
    layers = list(layers)
    sources: dict[str, Any] = {}
    drawn: list[dict[str, Any]] = []
    texts: list[dict[str, Any]] = []
    for layer in layers:
        qs = _suffix(query_strings.get(layer.id, ""))
        sources[layer.id] = {"type": "vector", "url": f"{base}tiles/{layer.id}.json{qs}"}
    for layer in sorted(layers, key=lambda lyr: not lyr.basemap):
        for style_layer in layer.style.maplibre_layers(layer.id, layer.id):
            style_layer = {
                **style_layer,
                "minzoom": max(layer.minzoom, style_layer.get("minzoom", 0)),
            }
            (texts if style_layer["type"] == "symbol" else drawn).append(style_layer)
    doc: dict[str, Any] = {
        "version": 8,
        "name": "gridgov: " + ", ".join(layer.title for layer in layers),
        "sources": sources,
        "layers": drawn + texts,
    }
    if texts:
        doc["glyphs"] = glyphs_url(base)
    return doc


def glyphs_url(base: str) -> str:
    """The glyph template of the server's own font stack (MapLibre ``glyphs``)."""
    return f"{base}tiles/glyphs/{{fontstack}}/{{range}}.pbf"
