"""Indexes over the things that sit in grids: city components (部件) and buildings.

Components answer "which manhole cover / lamp is this report about": the nearest
component of a class within a radius. They live in an rtree index in metres (the
coverage's Gauss-Krüger zone) because components are added, removed and change status
while the service runs, and rtree updates in place where an STRtree must be rebuilt.
Buildings answer "which building contains this point"; footprints rarely change, so a
prepared STRtree is the faster choice.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray
from rtree import index as rtree_index

from gis_core.spatial.crs import Projector


@dataclass(frozen=True)
class NearestComponent:
    component_id: str
    class_code: str
    distance_m: float


class ComponentIndex:
    """Nearest component of a given class, per class an rtree of projected points."""

    def __init__(self, ids: ArrayLike, classes: ArrayLike, lon: ArrayLike, lat: ArrayLike):
        ids_arr = np.asarray(ids, dtype=object).astype(str)
        cls_arr = np.asarray(classes, dtype=object).astype(str)
        lon_arr = np.asarray(lon, dtype=np.float64)
        lat_arr = np.asarray(lat, dtype=np.float64)
        if not (len(ids_arr) == len(cls_arr) == len(lon_arr) == len(lat_arr)):
            raise ValueError("ids, classes and coordinates differ in length")
        centre = float(np.nanmean(lon_arr)) if len(lon_arr) else 117.0
        self.projector = Projector.for_lon(centre)
        if len(set(ids_arr.tolist())) != len(ids_arr):
            raise ValueError("component ids must be unique")
        x, y = self.projector.to_metres(lon_arr, lat_arr)
        # Slot i is the rtree id of component i; removed slots are never reused.
        self._ids: list[str] = ids_arr.tolist()
        self._classes: list[str] = cls_arr.tolist()
        self._slot_of: dict[str, int] = {cid: i for i, cid in enumerate(self._ids)}
        self._positions: dict[int, tuple[float, float]] = {
            i: (float(a), float(b)) for i, (a, b) in enumerate(zip(x, y, strict=True))
        }
        self._trees: dict[str, rtree_index.Index] = {}
        for cls in np.unique(cls_arr):
            sel = np.flatnonzero(cls_arr == cls)
            boxes = np.column_stack([x[sel], y[sel], x[sel], y[sel]])
            self._trees[str(cls)] = _bulk_tree(sel, boxes)

    @classmethod
    def from_geodataframe(
        cls,
        gdf: gpd.GeoDataFrame,
        id_column: str = "component_id",
        class_column: str = "class_code",
    ) -> ComponentIndex:
        pts = gdf.geometry.values
        return cls(gdf[id_column], gdf[class_column], shapely.get_x(pts), shapely.get_y(pts))

    def __len__(self) -> int:
        return len(self._slot_of)

    def classes(self) -> list[str]:
        return sorted(c for c, t in self._trees.items() if len(t) > 0)

    def nearest(
        self, lon: ArrayLike, lat: ArrayLike, class_code: str, max_distance_m: float
    ) -> list[NearestComponent | None]:
        """For each point, the nearest component of `class_code` within the radius."""
        lon_arr = np.atleast_1d(np.asarray(lon, dtype=np.float64))
        lat_arr = np.atleast_1d(np.asarray(lat, dtype=np.float64))
        out: list[NearestComponent | None] = [None] * len(lon_arr)
        tree = self._trees.get(str(class_code))
        if tree is None or len(tree) == 0 or len(lon_arr) == 0:
            return out
        x, y = self.projector.to_metres(lon_arr, lat_arr)
        ok = np.isfinite(x) & np.isfinite(y)
        if not ok.any():
            return out
        pts = np.column_stack([x[ok], y[ok]])
        slots, counts, dists = tree.nearest_v(
            pts,
            pts,
            num_results=1,
            strict=True,
            max_dists=np.full(len(pts), float(max_distance_m)),
            return_max_dists=True,
        )
        ends = np.cumsum(counts)
        for j, i in enumerate(np.flatnonzero(ok)):
            if counts[j] == 0:
                continue
            slot = int(slots[ends[j] - 1])
            out[i] = NearestComponent(self._ids[slot], self._classes[slot], float(dists[j]))
        return out

    def within(
        self, lon: float, lat: float, class_code: str, max_distance_m: float, n: int = 5
    ) -> list[NearestComponent]:
        """Up to `n` components of `class_code` within the radius of one point, nearest
        first (ties by id)."""
        tree = self._trees.get(str(class_code))
        if tree is None or len(tree) == 0 or n <= 0:
            return []
        x, y = (float(v) for v in self.projector.to_metres(lon, lat))
        if not (np.isfinite(x) and np.isfinite(y)):
            return []
        r = float(max_distance_m)
        found = []
        for slot in tree.intersection((x - r, y - r, x + r, y + r)):
            px, py = self._positions[slot]
            d = float(np.hypot(px - x, py - y))
            if d <= r:
                found.append((d, self._ids[slot], slot))
        found.sort()
        return [NearestComponent(cid, self._classes[s], d) for d, cid, s in found[:n]]

    def add(self, component_id: str, class_code: str, lon: float, lat: float) -> None:
        """Insert or move a component (a newly surveyed one, or a corrected position)."""
        self.remove(component_id)
        x, y = self.projector.to_metres(lon, lat)
        slot = len(self._ids)
        self._ids.append(component_id)
        self._classes.append(str(class_code))
        self._slot_of[component_id] = slot
        tree = self._trees.get(str(class_code))
        if tree is None:
            tree = self._trees[str(class_code)] = rtree_index.Index()
        tree.insert(slot, (float(x), float(y), float(x), float(y)))
        self._positions[slot] = (float(x), float(y))

    def remove(self, component_id: str) -> bool:
        """Drop a component (removed, 移除/废弃); True if it was indexed."""
        slot = self._slot_of.pop(component_id, None)
        if slot is None:
            return False
        x, y = self._positions.pop(slot)
        self._trees[self._classes[slot]].delete(slot, (x, y, x, y))
        return True


def _bulk_tree(slots: NDArray[np.int64], boxes: NDArray[np.float64]) -> rtree_index.Index:
    """Bulk-load (sort-tile-recursive) from arrays: much faster than one insert at a time."""
    if not len(slots):
        return rtree_index.Index()
    return rtree_index.Index(
        (np.asarray(slots, dtype=np.int64), boxes[:, :2].copy(), boxes[:, 2:].copy())
    )


class BuildingIndex:
    """The building whose footprint covers a point (smallest id on a shared wall)."""

    def __init__(self, buildings: gpd.GeoDataFrame, id_column: str = "building_id"):
        self.buildings = buildings.reset_index(drop=True)
        self.ids = self.buildings[id_column].astype(str).to_numpy(dtype=object)
        geoms = self.buildings.geometry.values
        self._geoms = np.asarray(geoms, dtype=object)
        shapely.prepare(self._geoms)
        self.tree = shapely.STRtree(self._geoms)

    def containing(self, lon: ArrayLike, lat: ArrayLike) -> NDArray[np.object_]:
        """Building id covering each point, None where the point is in no building."""
        x = np.atleast_1d(np.asarray(lon, dtype=np.float64))
        y = np.atleast_1d(np.asarray(lat, dtype=np.float64))
        pt_idx, b_idx = self.tree.query(shapely.points(x, y), predicate="intersects")
        out = np.full(len(x), None, dtype=object)
        if len(pt_idx):
            df = pd.DataFrame({"p": pt_idx, "id": self.ids[b_idx]}).groupby("p")["id"].min()
            out[df.index.to_numpy()] = df.to_numpy()
        return out

    def record(self, building_id: str) -> dict | None:
        rows = self.buildings[self.ids == building_id]
        if rows.empty:
            return None
        return rows.drop(columns=rows.geometry.name).iloc[0].to_dict()
