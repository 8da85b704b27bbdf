"""PNG heat tiles (XYZ, Web Mercator) of event density, for the console's heat layer.

Each pixel is the Gaussian kernel density (events per km², as ``density``) at its centre:
events are binned on the tile's pixels (plus a margin of four bandwidths), smoothed with
``scipy.ndimage.gaussian_filter``, and coloured on a fixed scale ``vmax`` so adjacent
tiles match (the caller passes the district-wide maximum). A bandwidth in metres is
converted to Mercator units with 1 / cos(latitude) at the tile's centre. When the kernel
spans many pixels (high zoom), the raster is computed at a coarser step and resampled.
"""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
from PIL import Image
from scipy import ndimage

from gis_core.analytics.frame import AnalyticsInputError

TILE = 256
R = 6378137.0
ORIGIN = math.pi * R
MAX_ZOOM = 22
MAX_SIGMA_PX = 6.0
RAMP = np.array([  # value share -> RGBA (transparent blue, cyan, lime, yellow, red)
    [0.00, 0, 0, 255, 0],
    [0.15, 0, 128, 255, 110],
    [0.35, 0, 255, 128, 170],
    [0.60, 255, 255, 0, 210],
    [1.00, 255, 0, 0, 235],
])


def mercator(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lat = np.clip(lat, -85.05112878, 85.05112878)
    x = np.radians(lon) * R
    y = np.log(np.tan(np.pi / 4 + np.radians(lat) / 2)) * R
    return x, y


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """(minx, miny, maxx, maxy) in EPSG:3857 metres; AnalyticsInputError if no such tile."""
    if not 0 <= z <= MAX_ZOOM:
        raise AnalyticsInputError("z", f"zoom must be 0..{MAX_ZOOM}")
    n = 2**z
    if not (0 <= x < n and 0 <= y < n):
        raise AnalyticsInputError("x", f"tile x and y must be 0..{n - 1} at zoom {z}")
    size = 2 * ORIGIN / n
    minx = -ORIGIN + x * size
    maxy = ORIGIN - y * size
    return minx, maxy - size, minx + size, maxy


def colourise(values: np.ndarray, vmax: float) -> np.ndarray:
    """RGBA uint8 image of ``values`` on the ramp, 0..vmax (above vmax: red)."""
    share = np.clip(values / vmax, 0.0, 1.0) if vmax > 0 else np.zeros_like(values)
    out = np.empty((*values.shape, 4), dtype=np.uint8)
    for channel in range(4):
        out[..., channel] = np.interp(share, RAMP[:, 0], RAMP[:, channel + 1]).astype(np.uint8)
    out[..., 3] = np.where(share <= 0.002, 0, out[..., 3])
    return out


def tile_density(
    events: pd.DataFrame, z: int, x: int, y: int, bandwidth_m: float
) -> np.ndarray:
    """Kernel density (events per km²) at the centres of the tile's 256 × 256 pixels,
    row 0 at the top."""
    minx, miny, maxx, maxy = tile_bounds(z, x, y)
    px = (maxx - minx) / TILE
    centre_lat = math.degrees(math.atan(math.sinh((miny + maxy) / 2 / R)))
    h = bandwidth_m / math.cos(math.radians(centre_lat))  # Mercator units
    step = max(1, math.ceil(h / px / MAX_SIGMA_PX))  # coarser raster for wide kernels
    cell = px * step
    margin = math.ceil(4 * h / cell) + 1
    cols = math.ceil(TILE / step) + 2 * margin
    mx, my = mercator(events["lon"].to_numpy(float), events["lat"].to_numpy(float))
    x0, ytop = minx - margin * cell, maxy + margin * cell
    ix = np.floor((mx - x0) / cell).astype(np.int64)
    iy = np.floor((ytop - my) / cell).astype(np.int64)
    ok = (ix >= 0) & (ix < cols) & (iy >= 0) & (iy < cols)
    grid = np.bincount(iy[ok] * cols + ix[ok], minlength=cols * cols).reshape(cols, cols)
    smooth = ndimage.gaussian_filter(grid.astype(float), sigma=h / cell, mode="constant",
                                     truncate=4.0)
    core = smooth[margin:-margin, margin:-margin] if margin else smooth
    core = core[: math.ceil(TILE / step), : math.ceil(TILE / step)]
    true_cell_m = cell * math.cos(math.radians(centre_lat))
    values = core / (true_cell_m**2) * 1e6
    if step > 1:
        values = ndimage.zoom(values, step, order=1)[:TILE, :TILE]
    return values


def heat_tile_png(
    events: pd.DataFrame, z: int, x: int, y: int, bandwidth_m: float, vmax: float
) -> bytes:
    """The tile as PNG bytes (transparent where there is nothing)."""
    rgba = colourise(tile_density(events, z, x, y, bandwidth_m), vmax)
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, format="PNG", optimize=False)
    return buf.getvalue()


__all__ = ["colourise", "heat_tile_png", "mercator", "tile_bounds", "tile_density"]
