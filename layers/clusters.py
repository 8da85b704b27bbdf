"""Clustered point tiles: at low zoom a tile carries counts per cell, not every point.

A z11 tile over the sample district holds a year of events: 35,000 points, 2.5 MB, over a
second to render, and nobody can read 35,000 dots at that scale. Up to the layer's
``cluster_maxzoom`` the buffered tile is cut into :data:`CELLS` x :data:`CELLS` cells
(even steps of longitude and latitude, ~128 tile units each) and each non-empty cell
becomes ONE point at the mean position of its events, with exact counts: ``count``
(events), ``open`` (not closed), ``overdue`` (open past the deadline) and ``cluster:
true``. A tile then has at most CELLS² features whatever the load, and the counts of all
cells add up to the events in the tile exactly as the OGC items count them (tests check
it). The database does the counting (one GROUP BY); Python sees one row per cell.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
from pyproj import Transformer

from gis_core.storage.features import FeatureQuery, point_cells
from gis_core.storage.protocol import Database
from layers import cluster_points
from layers.model import Layer
from layers.mvt_points import encode_points

EXTENT = 4096  # as layers.mvt (which imports this module)
_TO_MERCATOR = Transformer.from_crs(4326, 3857, always_xy=True)
CELLS = 34
"""Cells per side of the buffered tile (4096 + 2 x 64 units): ~128 units, 8 px on a
256 px tile; at most 1,156 features, so encoding stays a few milliseconds."""


def cluster_tile(
    store: Database, layer: Layer, tile: Any, query: FeatureQuery, now: datetime
) -> bytes:
    """The clustered tile of a point layer with ``status``, ``deadline_at``, ``lon`` and
    ``lat`` columns (events); ``query`` already carries the buffered tile as its bbox."""
    if cluster_points.usable(layer.source, query):
        kept = cluster_points.current(store, layer.source)
        cells = cluster_points.cells(kept, query, now, CELLS)
    else:
        cells = point_cells(store, layer.source, query, now, CELLS)
    if len(cells["count"]) == 0:
        return b""
    mx, my = _TO_MERCATOR.transform(cells["lon"], cells["lat"])
    minx, _, _, maxy = tile.bounds()
    scale = EXTENT / tile.size
    x, y = (np.asarray(mx) - minx) * scale, (maxy - np.asarray(my)) * scale
    n = len(x)
    return encode_points(
        layer.id,
        np.rint(x).astype(np.int64),
        np.rint(y).astype(np.int64),
        {
            "cluster": [True] * n,
            "count": cells["count"],
            "open": cells["open"],
            "overdue": cells["overdue"],
        },
        EXTENT,
    )


__all__ = ["CELLS", "cluster_tile"]
