"""Held-out synthetic districts for the analytics tests: a square lattice of grids whose
codes nest like real ones, and events planted where the tests expect a finding."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis_core.spatial.crs import Projector

PROJ = Projector.for_lon(117.3)
X0, Y0 = 500_000.0, 3_520_000.0  # metres, about 117.0E 31.8N
SIDE = 200.0


def lattice(n: int = 20) -> gpd.GeoDataFrame:
    """n × n square grids of 200 m; code = district + street 001 + row + column."""
    rows, cols = np.divmod(np.arange(n * n), n)
    x0, y0 = X0 + cols * SIDE, Y0 + rows * SIDE
    corners = [PROJ.to_lonlat(x0 + dx, y0 + dy)
               for dx, dy in ((0, 0), (SIDE, 0), (SIDE, SIDE), (0, SIDE))]
    polys = shapely.polygons(np.stack([np.column_stack(c) for c in corners], axis=1))
    codes = [f"340111001{r + 1:03d}{c + 1:03d}" for r, c in zip(rows, cols, strict=True)]
    return gpd.GeoDataFrame({"code": codes}, geometry=polys, crs=4326)


def cell_code(row: int, col: int) -> str:
    return f"340111001{row + 1:03d}{col + 1:03d}"


def points_in_cells(rng: np.random.Generator, rows: np.ndarray, cols: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """A uniform random point inside each given cell, WGS84."""
    x = X0 + (cols + rng.uniform(0.02, 0.98, len(cols))) * SIDE
    y = Y0 + (rows + rng.uniform(0.02, 0.98, len(rows))) * SIDE
    return PROJ.to_lonlat(x, y)


def events_from_counts(rng: np.random.Generator, counts: np.ndarray, when: pd.Timestamp,
                       days: int = 28, category: str = "01001") -> pd.DataFrame:
    """Events: counts[row, col] of them in each cell, times spread over ``days``."""
    n = counts.shape[0]
    rr, cc = np.divmod(np.repeat(np.arange(n * n), counts.ravel()), n)
    lon, lat = points_in_cells(rng, rr, cc)
    t = when + pd.to_timedelta(rng.uniform(0, days * 86400, len(rr)), unit="s")
    return pd.DataFrame({
        "lon": lon, "lat": lat, "reported_at": t, "category_code": category,
        "source": "grid_member", "status": "closed",
        "grid_code": [cell_code(r, c) for r, c in zip(rr, cc, strict=True)],
    })
