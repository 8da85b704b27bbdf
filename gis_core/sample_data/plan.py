"""The plan of a district before any cut: how many communities per street and grids
per community, a density field that makes urban pieces smaller, and the enclave and
exclave grids carved into the leaves afterwards."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from gis_core.spatial.crs import Projector

from . import buildings as buildings_mod
from .config import DistrictSpec


@dataclass
class Leaf:
    street: int
    community: int
    geom: BaseGeometry
    kind: str = "block"


def density_field(spec: DistrictSpec, projector: Projector) -> Callable[[float, float], float]:
    """Weight per m²: higher near the urban core, so urban pieces come out smaller."""
    cx, cy = (float(v) for v in projector.to_metres(*spec.centre))
    scale = spec.density_scale_m

    def density(x: float, y: float) -> float:
        return 1.0 + 4.0 * math.exp(-math.hypot(x - cx, y - cy) / scale)

    return density


def _allocate(total: int, weights: np.ndarray, minimum: int) -> np.ndarray:
    """Largest-remainder split of an integer total by weights, each share at least minimum."""
    n = len(weights)
    base = np.full(n, minimum)
    rest = total - minimum * n
    raw = weights / weights.sum() * rest
    share = np.floor(raw).astype(int)
    left = rest - share.sum()
    order = np.argsort(-(raw - share), kind="stable")
    share[order[:left]] += 1
    return base + share


def plan_counts(
    spec: DistrictSpec, n_grids: int, rng: np.random.Generator
) -> tuple[list[list[int]], int, int]:
    """How many communities per street and leaf grids per community, and the extras."""
    scale = n_grids / spec.grids
    n_comm = spec.communities if n_grids == spec.grids else round(spec.communities * scale)
    n_comm = int(min(max(n_comm, spec.streets), n_grids))
    n_enclave = max(1, round(spec.enclaves * scale)) if n_grids >= 2 * n_comm + 1 else 0
    n_exclave = max(1, round(spec.exclaves * scale)) if n_grids >= 2 * n_comm else 0
    leaves = n_grids - n_enclave
    lo, hi = spec.grids_per_community
    lo = max(1, min(lo, leaves // n_comm))
    hi = max(hi, math.ceil(leaves / n_comm))
    per_street = _allocate(n_comm, rng.gamma(8.0, size=spec.streets), 1)
    counts = np.full(n_comm, lo)
    pull = rng.gamma(2.5, size=n_comm)
    rem = leaves - lo * n_comm
    while rem > 0:
        open_ = counts < hi
        p = np.where(open_, pull, 0.0)
        counts += rng.multinomial(rem, p / p.sum())
        rem = int(np.maximum(counts - hi, 0).sum())
        counts = np.minimum(counts, hi)
    starts = np.concatenate([[0], np.cumsum(per_street)])
    groups = [counts[starts[i] : starts[i + 1]].tolist() for i in range(spec.streets)]
    return groups, n_enclave, n_exclave


def _rectangle(centre: np.ndarray, angle: float, hw: float, hd: float) -> BaseGeometry:
    a = np.array([math.cos(angle), math.sin(angle)])
    u = np.array([-a[1], a[0]])
    pts = [centre + sx * hw * a + sy * hd * u for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1))]
    return shapely.Polygon(pts)


def carve_enclaves(
    leaves: list[Leaf], n_enclave: int, n_exclave: int, rng: np.random.Generator
) -> tuple[int, int]:
    """Enclave grids (a campus filling a hole in another grid) and exclave grids (two parts).

    They exist so that point-in-polygon code meets holes and multipolygons in the sample.
    """
    order = [int(i) for i in rng.permutation(len(leaves))]
    used_comm: set[tuple[int, int]] = set()
    made_en = made_ex = 0
    for i in order:
        if made_en >= n_enclave and made_ex >= n_exclave:
            break
        host = leaves[i]
        key = (host.street, host.community)
        if host.kind != "block" or key in used_comm or host.geom.geom_type != "Polygon":
            continue
        mic = shapely.maximum_inscribed_circle(host.geom, 2.0)
        centre = np.asarray(mic.coords[0])
        radius = mic.length
        if radius < 90.0:
            continue
        angle = buildings_mod.grid_direction(host.geom) + math.radians(rng.normal(0, 4))
        if made_en < n_enclave:
            rect = _rectangle(centre, angle, min(0.5 * radius, 160.0), min(0.36 * radius, 110.0))
            host.geom = shapely.difference(host.geom, rect)
            leaves.append(Leaf(host.street, host.community, rect, "enclave"))
            made_en += 1
        else:
            mates = [
                j
                for j, lf in enumerate(leaves)
                if j != i and lf.kind == "block" and (lf.street, lf.community) == key
            ]
            if not mates:
                continue
            mate = leaves[mates[int(rng.integers(len(mates)))]]
            rect = _rectangle(centre, angle, min(0.42 * radius, 130.0), min(0.3 * radius, 90.0))
            host.geom = shapely.difference(host.geom, rect)
            mate.geom = shapely.MultiPolygon([mate.geom, rect])
            mate.kind = "exclave"
            made_ex += 1
        used_comm.add(key)
    return made_en, made_ex
