"""Map layers: each layer defined once, read by the OGC API, the vector tiles and the styles.

* :mod:`~layers.model` — :class:`Layer` and :class:`Property`;
* :mod:`~layers.registry` — the layers gridgov serves (:data:`LAYERS`);
* :mod:`~layers.style` — colours and widths, as MapLibre layers or Leaflet options;
* :mod:`~layers.query` — query-string parameters to a feature query (OGC rules);
* :mod:`~layers.ogc` — OGC API – Features documents; :mod:`~layers.preview` SVG sketches;
* :mod:`~layers.mvt` — Mapbox Vector Tiles (PostGIS ``ST_AsMVT`` or Python);
* :mod:`~layers.tilejson` — TileJSON 3.0 and MapLibre style documents.
"""

from layers.model import Layer, Property, UnknownCollection, UnknownLayer
from layers.mvt import Tile, TileError, render_tile
from layers.registry import LAYERS
from layers.style import ByProperty, Style

__all__ = [
    "LAYERS",
    "ByProperty",
    "Layer",
    "Property",
    "Style",
    "Tile",
    "TileError",
    "UnknownCollection",
    "UnknownLayer",
    "render_tile",
]
