"""Where reports are: hotspots, a uniform background, a band just outside the outline,
components of the reported class, and the building nearest to a point."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from .district import District
from .tables import (
    AFFINITY,
    BACKGROUND_SHARE,
    HOTSPOT_KINDS,
    N_HOTSPOTS,
    OUTSIDE_SHARE,
    STATUS_WEIGHT,
)


@dataclass
class Hotspots:
    x: np.ndarray
    y: np.ndarray
    sigma: np.ndarray
    weight: np.ndarray
    kind: np.ndarray  # object: market / school / residential / hub


def find_hotspots(d: District, rng: np.random.Generator) -> Hotspots:
    """~40 places where reports pile up: markets, schools, big compounds, edge hubs."""
    bld = d.bld
    xs: list[float] = []
    ys: list[float] = []
    kinds: list[str] = []

    def take(idx: np.ndarray, k: int, kind: str, p: np.ndarray | None = None) -> None:
        if not len(idx):
            return
        chosen = rng.choice(idx, size=min(k, len(idx)), replace=False, p=p)
        for i in sorted(chosen.tolist()):
            xs.append(float(bld["x"].iat[i]))
            ys.append(float(bld["y"].iat[i]))
            kinds.append(kind)

    names = bld["name"].fillna("").to_numpy(str)
    shops = np.flatnonzero(bld["use"].to_numpy(object) == "商业")
    market = np.char.find(names[shops], "市场") >= 0
    w = np.where(market, 6.0, 1.0)
    take(shops, N_HOTSPOTS["market"], "market", w / w.sum())
    take(np.flatnonzero(bld["use"].to_numpy(object) == "学校"), N_HOTSPOTS["school"], "school")

    homes = bld[(bld["use"] == "住宅") & bld["landmark"].notna()]
    comp = homes.groupby("landmark", sort=True).agg(
        x=("x", "mean"), y=("y", "mean"), hh=("households", "sum")
    )
    comp = comp.sort_values(["hh", "x"], ascending=[False, True]).head(60)
    if len(comp):
        k = min(N_HOTSPOTS["residential"], len(comp))
        pick = rng.choice(len(comp), size=k, replace=False, p=(comp["hh"] / comp["hh"].sum()))
        for i in sorted(pick.tolist()):
            xs.append(float(comp["x"].iat[i]))
            ys.append(float(comp["y"].iat[i]))
            kinds.append("residential")

    length = shapely.length(d.boundary_m)
    hubs = 0
    for _ in range(200):
        if hubs >= N_HOTSPOTS["hub"]:
            break
        p = shapely.line_interpolate_point(d.boundary_m, rng.uniform(0, length))
        px, py = shapely.get_x(p) + rng.normal(0, 250), shapely.get_y(p) + rng.normal(0, 250)
        dist = shapely.distance(d.boundary_m, shapely.Point(px, py))
        if shapely.contains_xy(d.outline_m, px, py) and 80.0 <= dist <= 350.0:
            xs.append(float(px))
            ys.append(float(py))
            kinds.append("hub")
            hubs += 1

    kind = np.array(kinds, dtype=object)
    lo = {"market": 50.0, "school": 60.0, "residential": 80.0, "hub": 100.0}
    hi = {"market": 150.0, "school": 180.0, "residential": 300.0, "hub": 300.0}
    sigma = np.array([rng.uniform(lo[k], hi[k]) for k in kinds])
    factor = {"market": 1.6, "school": 1.0, "residential": 1.1, "hub": 1.2}
    weight = rng.gamma(2.0, 1.0, size=len(kinds)) * np.array([factor[k] for k in kinds])
    return Hotspots(np.array(xs), np.array(ys), sigma, weight, kind)


def _uniform_inside(d: District, rng: np.random.Generator, k: int) -> tuple[np.ndarray, ...]:
    minx, miny, maxx, maxy = d.bounds_m
    x = np.empty(0)
    y = np.empty(0)
    while len(x) < k:
        m = max(2 * (k - len(x)), 64)
        cx, cy = rng.uniform(minx, maxx, m), rng.uniform(miny, maxy, m)
        ok = shapely.contains_xy(d.outline_m, cx, cy)
        x, y = np.concatenate([x, cx[ok]]), np.concatenate([y, cy[ok]])
    return x[:k], y[:k]


def _just_outside(d: District, rng: np.random.Generator, k: int) -> tuple[np.ndarray, ...]:
    """Points 20-400 m outside the outline (near the edge, as reports of border roads are)."""
    length = shapely.length(d.boundary_m)
    x = np.empty(0)
    y = np.empty(0)
    for _ in range(100):
        if len(x) >= k:
            break
        m = max(3 * (k - len(x)), 64)
        p = shapely.line_interpolate_point(d.boundary_m, rng.uniform(0, length, m))
        r = rng.uniform(20.0, 400.0, m)
        a = rng.uniform(0, 2 * np.pi, m)
        cx, cy = shapely.get_x(p) + r * np.cos(a), shapely.get_y(p) + r * np.sin(a)
        out = ~shapely.contains_xy(d.outline_m, cx, cy)
        dist = shapely.distance(d.boundary_m, shapely.points(cx[out], cy[out]))
        keep = dist >= 10.0
        x = np.concatenate([x, cx[out][keep]])
        y = np.concatenate([y, cy[out][keep]])
    return x[:k], y[:k]


def free_points(
    d: District, hot: Hotspots, cats: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Hotspot clusters (by class affinity), a uniform background and a band outside."""
    k = len(cats)
    x, y = np.zeros(k), np.zeros(k)
    u = rng.random(k)
    bg = u < BACKGROUND_SHARE
    out = (u >= BACKGROUND_SHARE) & (u < BACKGROUND_SHARE + OUTSIDE_SHARE)
    x[bg], y[bg] = _uniform_inside(d, rng, int(bg.sum()))
    x[out], y[out] = _just_outside(d, rng, int(out.sum()))
    hot_rows = np.flatnonzero(~bg & ~out)
    kind_idx = np.array([HOTSPOT_KINDS.index(kd) for kd in hot.kind], dtype=np.int64)
    profile = np.array([c if c in AFFINITY else "" for c in cats[hot_rows]], dtype=object)
    for key in sorted(set(profile.tolist())):
        rows = hot_rows[profile == key]
        aff = np.asarray(AFFINITY.get(key, (1.0, 1.0, 1.0, 1.0)))
        p = hot.weight * aff[kind_idx]
        h = rng.choice(len(p), size=len(rows), p=p / p.sum())
        x[rows] = hot.x[h] + rng.normal(0, 1, len(rows)) * hot.sigma[h]
        y[rows] = hot.y[h] + rng.normal(0, 1, len(rows)) * hot.sigma[h]
    return x, y


def around(
    x0: np.ndarray, y0: np.ndarray, rmin: float, rmax: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Points at a uniform distance in [rmin, rmax] m from (x0, y0), in a random direction."""
    r = rng.uniform(rmin, rmax, len(x0))
    a = rng.uniform(0, 2 * np.pi, len(x0))
    return x0 + r * np.cos(a), y0 + r * np.sin(a)


def pick_components(d: District, cats: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A component of each row's class (damaged ones more often, removed ones never)."""
    out = np.full(len(cats), -1, dtype=np.int64)
    status_w = d.cmp["status"].map(STATUS_WEIGHT).fillna(1.0).to_numpy(np.float64)
    classes = d.cmp["class_code"].to_numpy(object)
    for code in sorted(set(cats.tolist())):
        rows = np.flatnonzero(cats == code)
        cand = np.flatnonzero(classes == code)
        w = status_w[cand]
        if not len(cand) or w.sum() <= 0:
            continue
        out[rows] = cand[rng.choice(len(cand), size=len(rows), p=w / w.sum())]
    return out


def nearest_building(d: District, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    out = np.zeros(len(x), dtype=np.int64)
    if len(x):
        pairs = d.bld_tree.query_nearest(shapely.points(x, y), all_matches=False)
        out[pairs[0]] = pairs[1]
    return out
