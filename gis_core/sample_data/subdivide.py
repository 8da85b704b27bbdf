"""Split polygons (in metres) with curving "roads" and "rivers" into pieces of wanted weight.

A bare Voronoi of random dots does not look like a city: real grid and community edges
follow streets and rivers, which are long, gently curving lines that cross a whole block.
So every split here is one such line, cut across the piece's longer axis (which keeps the
pieces compact) and slid along that axis until the two sides carry the wanted share of
"weight" (area times a density that is higher near the urban core, so that urban pieces
come out smaller than rural ones, as they do in reality).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

Density = Callable[[float, float], float]


@dataclass(frozen=True)
class CutStyle:
    """How a cut line looks: meander size, waviness, how far it may turn, vertex count."""

    name: str
    amplitude: float
    """Meander amplitude as a fraction of the piece's half-width across the cut."""
    waves: tuple[float, float]
    """Range of the number of half-waves of the main meander across the piece."""
    angle_noise_deg: float
    points: int
    jitter: float
    """Per-vertex noise as a fraction of the half-width (small kinks, like surveyed roads)."""


RIVER = CutStyle("river", 0.09, (1.5, 3.5), 18.0, 160, 0.002)
MAJOR_ROAD = CutStyle("major_road", 0.015, (0.5, 1.5), 10.0, 70, 0.0008)
ROAD = CutStyle("road", 0.012, (0.5, 1.5), 8.0, 28, 0.001)


def _weight(area: float, cx: float, cy: float, density: Density) -> float:
    return area * density(cx, cy)


def _parts(geom: BaseGeometry) -> list[BaseGeometry]:
    return [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and p.area > 0]


def _axes(
    poly: BaseGeometry, rng: np.random.Generator, style: CutStyle, flip: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Unit vector along the piece's longer axis (noisy) and the one across it."""
    env = shapely.oriented_envelope(poly)
    ring = np.asarray(env.exterior.coords)[:4] if env.geom_type == "Polygon" else None
    if ring is None:
        angle = 0.0
    else:
        e1 = ring[1] - ring[0]
        e2 = ring[2] - ring[1]
        longer = e1 if np.hypot(*e1) >= np.hypot(*e2) else e2
        angle = math.atan2(longer[1], longer[0])
    if flip:  # second attempt: cut along the other axis
        angle += math.pi / 2
    angle += math.radians(rng.normal(0.0, style.angle_noise_deg / 2))
    a = np.array([math.cos(angle), math.sin(angle)])
    u = np.array([-a[1], a[0]])
    return a, u


def _cut_template(
    poly: BaseGeometry, rng: np.random.Generator, style: CutStyle, flip: bool
) -> tuple[np.ndarray, np.ndarray, float, float]:
    """The half-plane polygon bounded by the cut line at offset 0, its shift axis and t-range.

    The region on the +a side of the curve c + s*u + w(s)*a. Moving the curve along a by t
    shrinks the region monotonically, so the share of weight on that side is a monotonic
    function of t, which is what makes the bisection below safe.
    """
    a, u = _axes(poly, rng, style, flip)
    c = np.asarray(poly.centroid.coords[0])
    xy = shapely.get_coordinates(poly) - c
    pa = xy @ a
    pu = xy @ u
    half = max(abs(pu.min()), abs(pu.max())) * 1.05 + 1.0
    s = np.linspace(-half, half, style.points)
    amp = style.amplitude * half
    w = np.zeros_like(s)
    f1 = rng.uniform(*style.waves)
    for k, share in enumerate((1.0, 0.35, 0.12)):
        freq = f1 * (1.0 + 1.7 * k) * rng.uniform(0.85, 1.15)
        phase = rng.uniform(0, 2 * math.pi)
        w += amp * share * np.sin(math.pi * freq * (s + half) / (2 * half) + phase)
    w += rng.normal(0.0, style.jitter * half, size=s.size)
    w -= w.mean()
    reach = float(np.abs(pa).max() + np.abs(w).max()) * 2 + 10.0
    curve = c + np.outer(s, u) + np.outer(w, a)
    far = np.array([curve[-1] + reach * a, curve[0] + reach * a])
    ring = np.vstack([curve, far, curve[:1]])
    lo = float(pa.min() - np.abs(w).max() - 1.0)
    hi = float(pa.max() + np.abs(w).max() + 1.0)
    return ring, a, lo, hi


def _share(
    poly: BaseGeometry,
    ring: np.ndarray,
    a: np.ndarray,
    t: float,
    total_area: float,
    centroid: tuple[float, float],
    density: Density,
) -> float:
    """Share of weight on the +a side when the cut sits at offset t."""
    side = shapely.intersection(poly, shapely.polygons(ring + t * a))
    area = side.area
    if area <= 0:
        return 0.0
    rest = total_area - area
    if rest <= 0:
        return 1.0
    cx, cy = side.centroid.coords[0]
    rx = (total_area * centroid[0] - area * cx) / rest
    ry = (total_area * centroid[1] - area * cy) / rest
    w1 = _weight(area, cx, cy, density)
    w2 = _weight(rest, rx, ry, density)
    return w1 / (w1 + w2)


def _solve_offset(
    poly: BaseGeometry,
    ring: np.ndarray,
    a: np.ndarray,
    lo: float,
    hi: float,
    target: float,
    density: Density,
    tol: float = 0.002,
) -> float:
    """Illinois (regula falsi) search for the offset where the +a side has the target share."""
    total = poly.area
    cen = poly.centroid.coords[0]
    flo, fhi = 1.0 - target, -target
    side = 0
    t = 0.5 * (lo + hi)
    for _ in range(40):
        t = hi - fhi * (hi - lo) / (fhi - flo) if fhi != flo else 0.5 * (lo + hi)
        ft = _share(poly, ring, a, t, total, cen, density) - target
        if abs(ft) < tol or hi - lo < 0.5:
            break
        if ft > 0:  # too much on the +a side: move the cut further along +a
            lo, flo = t, ft
            if side == -1:
                fhi /= 2
            side = -1
        else:
            hi, fhi = t, ft
            if side == 1:
                flo /= 2
            side = 1
    return t


def _tidy(first: BaseGeometry, second: BaseGeometry) -> tuple[BaseGeometry, BaseGeometry, float]:
    """Give stray fragments to the side they share most edge with; report stray area.

    A cut across a concave piece can leave a small part of one side cut off from the rest;
    a grid in two parts only because of that would be an artefact, not a feature.
    """
    parts = [(p, 0) for p in _parts(first)] + [(p, 1) for p in _parts(second)]
    mains: dict[int, BaseGeometry] = {}
    for label in (0, 1):
        own = [p for p, lab in parts if lab == label]
        if own:
            mains[label] = max(own, key=lambda p: p.area)
    groups: dict[int, list[BaseGeometry]] = {0: [], 1: []}
    stray = 0.0
    for p, label in parts:
        if mains.get(label) is p:
            groups[label].append(p)
            continue
        shared = {
            lab: shapely.length(shapely.intersection(p.boundary, m.boundary))
            for lab, m in mains.items()
        }
        best = max(shared, key=lambda lab: (shared[lab], lab == label))
        if shared[best] <= 0:
            best = label
        groups[best].append(p)
        stray += p.area
    out = []
    for label in (0, 1):
        geoms = groups[label]
        out.append(geoms[0] if len(geoms) == 1 else shapely.union_all(geoms))
    return out[0], out[1], stray


def cut(
    poly: BaseGeometry,
    share: float,
    rng: np.random.Generator,
    style: CutStyle,
    density: Density,
) -> tuple[BaseGeometry, BaseGeometry]:
    """Split poly in two with one cut line; the first result holds ``share`` of the weight."""
    best = None
    for attempt in range(3):
        ring, a, lo, hi = _cut_template(poly, rng, style, flip=attempt == 2)
        t = _solve_offset(poly, ring, a, lo, hi, share, density)
        half = shapely.polygons(ring + t * a)
        first = shapely.intersection(poly, half)
        second = shapely.difference(poly, half)
        if first.is_empty or second.is_empty:
            continue
        first, second, stray = _tidy(first, second)
        if first.is_empty or second.is_empty:
            continue
        if best is None or stray < best[2]:
            best = (first, second, stray)
        if stray < 1e-3 * poly.area:
            break
    if best is None:
        raise RuntimeError("could not cut a piece in two")
    return best[0], best[1]


def split(
    poly: BaseGeometry,
    weights: Sequence[float],
    rng: np.random.Generator,
    density: Density,
    style_for: Callable[[int], CutStyle],
    on_piece: Callable[[], None] | None = None,
) -> list[BaseGeometry]:
    """Split poly into len(weights) pieces; piece i carries about weights[i] of the weight.

    Splits are done breadth-first so that ``style_for(n)`` can make the first n cuts of a
    district rivers and the later ones roads.
    """
    n = len(weights)
    out: list[BaseGeometry | None] = [None] * n
    queue: list[tuple[BaseGeometry, list[int]]] = [(poly, list(rng.permutation(n)))]
    done = 0
    while queue:
        piece, idx = queue.pop(0)
        if len(idx) == 1:
            out[idx[0]] = piece
            if on_piece is not None:
                on_piece()
            continue
        k = len(idx) // 2 if rng.random() < 0.5 else (len(idx) + 1) // 2
        left, right = idx[:k], idx[k:]
        wl = sum(weights[i] for i in left)
        wr = sum(weights[i] for i in right)
        first, second = cut(piece, wl / (wl + wr), rng, style_for(done), density)
        done += 1
        queue.append((first, left))
        queue.append((second, right))
    return [p for p in out if p is not None]
