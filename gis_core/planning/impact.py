"""What a draft would change, against the active generation.

Per changed grid: its status (added, removed, reshaped), area and load before and after
(buildings, households, components, open events, grid members). Over the district: the
buildings, components and open events that would change grid, community or street; the
units gaining or losing open events (routed by the same rules intake uses); and routing
rules, units and responsibility layers naming a code that would no longer exist, with
the code the renumbering table would put in its place.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray

from gis_core.events.routing import Router
from gis_core.planning.checking import Assets, read_assets
from gis_core.planning.drafts import COMMUNITY, GRID, load_draft
from gis_core.planning.loads import points_in, staff_counts
from gis_core.planning.validation import Metric
from gis_core.standards.codes import ADMIN_CODE_LENGTHS
from gis_core.storage.protocol import StoreLike

STREET = ADMIN_CODE_LENGTHS["street"]
CHANGED_M2 = 1.0
"""A grid whose outline moved by less than this (symmetric difference) is unchanged."""


def assign(points: NDArray[np.object_], geoms: NDArray[np.object_]) -> NDArray[np.int64]:
    """Index of the polygon holding each point (-1 outside all), one STRtree query."""
    out = np.full(len(points), -1, dtype=np.int64)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not len(points) or not ok.any():
        return out
    usable = np.flatnonzero(ok)
    pt, poly = points_in(np.asarray(points, dtype=object), geoms[usable])
    out[pt[::-1]] = usable[poly[::-1]]  # the first hit wins where polygons overlap
    return out


def _codes(idx: NDArray[np.int64], codes: list[str]) -> list[str | None]:
    return [codes[i] if i >= 0 else None for i in idx]


def _levels(codes: list[str], n: int) -> NDArray[np.object_]:
    """Each code cut to ``n`` characters, plus ``None`` last (for index -1: no grid)."""
    return np.array([c[:n] for c in codes] + [None], dtype=object)


def _moves(
    old: NDArray[np.int64], new: NDArray[np.int64], old_codes: list[str], new_codes: list[str]
) -> dict[str, int]:
    """How many points change grid, community and street (array comparisons)."""
    out = {}
    for level, n in (("grid", GRID), ("community", COMMUNITY), ("street", STREET)):
        a, b = _levels(old_codes, n)[old], _levels(new_codes, n)[new]
        out[level] = int(np.count_nonzero(a != b))
    return out


def impact(store: StoreLike, key: int | str, assets: Assets | None = None) -> dict[str, Any]:
    """The impact table of a generation's draft (JSON-ready)."""
    draft = load_draft(store, key)
    active = store.active_generation()
    new = draft.grids
    old = (
        store.read_admin_layer("grid", active.id)
        if active is not None
        else gpd.GeoDataFrame({"code": [], "name": [], "staff": []}, geometry=[], crs=4326)
    )
    assets = assets if assets is not None else read_assets(store)
    new_codes, old_codes = [str(c) for c in new["code"]], [str(c) for c in old["code"]]
    new_geoms = np.asarray(new.geometry.values, dtype=object)
    old_geoms = np.asarray(old.geometry.values, dtype=object)
    metric = Metric(np.concatenate([new_geoms, old_geoms]))

    event_pts = np.asarray(assets.events.geometry.values, dtype=object)
    kinds = {
        "buildings": (assets.buildings, None),
        "households": (assets.buildings, assets.households),
        "components": (assets.components, None),
        "open_events": (event_pts, None),
    }
    placed = {}
    for name, (pts, _) in kinds.items():
        if name != "households":
            placed[name] = (assign(pts, old_geoms), assign(pts, new_geoms))
    placed["households"] = placed["buildings"]

    changed = _changed_grids(new_codes, new_geoms, old_codes, old_geoms, metric)
    rows = []
    old_staff = _staff_of(old, old_codes, changed)
    new_staff = _staff_of(new, new_codes, changed)
    new_area_by = _area_of(new_geoms, new_codes, changed, metric)
    old_area_by = _area_of(old_geoms, old_codes, changed, metric)
    sums = {}
    for name, (_, weights) in kinds.items():
        before, after = placed[name]
        w = np.ones(len(before)) if weights is None else np.nan_to_num(weights)
        sums[name] = (_sum_by(before, w, old_codes), _sum_by(after, w, new_codes))
    for code, status in sorted(changed.items()):
        row: dict[str, Any] = {
            "code": code,
            "status": status,
            "area_m2": [_r(old_area_by.get(code)), _r(new_area_by.get(code))],
            "grid_members": [_r(old_staff.get(code)), _r(new_staff.get(code))],
        }
        for name, (before, after) in sums.items():
            row[name] = [_r(before.get(code, 0.0)), _r(after.get(code, 0.0))]
        rows.append(row)

    routed = _routing(store, assets, _codes(placed["open_events"][1], new_codes))
    existing = _all_prefixes(new_codes)
    mapping = draft.renumbering
    rules = store.read_rules()
    units = store.read_units()
    layers = store.read_responsibility_layers()
    retired_units = {
        str(u.code): str(u.area_code)
        for u in units.itertuples()
        if isinstance(u.area_code, str) and u.area_code not in existing
    }
    return {
        "generation": draft.name,
        "against": None if active is None else active.name,
        "changed_grids": rows,
        "totals": {
            "added": sum(s == "added" for s in changed.values()),
            "removed": sum(s == "removed" for s in changed.values()),
            "reshaped": sum(s == "reshaped" for s in changed.values()),
            **{
                f"{name}_moving": _moves(*placed[name], old_codes, new_codes)
                for name in ("buildings", "components", "open_events")
            },
        },
        "units": routed,
        "rules_naming_retired_codes": [
            {
                "rule_id": int(r.id),
                "area_code": r.area_code,
                "unit_code": r.unit_code,
                "remap_to": mapping.get(r.area_code),
            }
            for r in rules.itertuples()
            if isinstance(r.area_code, str) and r.area_code not in existing
        ],
        "units_naming_retired_codes": [
            {"unit_code": code, "area_code": area, "remap_to": mapping.get(area)}
            for code, area in sorted(retired_units.items())
        ],
        "layers_of_those_units": [
            {"id": int(x.id), "name": x.name, "kind": x.kind, "unit_code": x.unit_code}
            for x in layers.itertuples()
            if x.unit_code in retired_units
        ],
        "renumbering": mapping,
    }


def _sum_by(
    idx: NDArray[np.int64], weights: NDArray[np.float64], codes: list[str]
) -> dict[str, float]:
    """Weight per grid code (points outside every grid left out)."""
    inside = idx >= 0
    totals = np.bincount(idx[inside], weights=weights[inside], minlength=len(codes))
    out: dict[str, float] = {}
    for code, value in zip(codes, totals.tolist(), strict=True):
        out[code] = out.get(code, 0.0) + value
    return out


def _area_of(
    geoms: NDArray[np.object_], codes: list[str], wanted: dict[str, str], metric: Metric
) -> dict[str, float]:
    """Area (m²) of the grids in ``wanted`` only: unchanged grids need no projection."""
    rows = [i for i, c in enumerate(codes) if c in wanted and geoms[i] is not None]
    if not rows:
        return {}
    return dict(zip([codes[i] for i in rows], metric.area(geoms[rows]).tolist(), strict=True))


def _staff_of(
    grids: gpd.GeoDataFrame, codes: list[str], wanted: dict[str, str]
) -> dict[str, float]:
    """Grid members of the grids in ``wanted`` only (parsing every grid's staff JSON
    costs more than the rest of the table)."""
    rows = [i for i, c in enumerate(codes) if c in wanted]
    if not rows:
        return {}
    counts = staff_counts(grids.iloc[rows])
    return {codes[i]: float(n) for i, n in zip(rows, counts, strict=True)}


def _r(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


def _all_prefixes(codes: list[str]) -> set[str]:
    out: set[str] = set()
    for code in codes:
        for n in (6, 9, COMMUNITY, GRID):
            out.add(code[:n])
    return out


def _changed_grids(
    new_codes: list[str],
    new_geoms: NDArray[np.object_],
    old_codes: list[str],
    old_geoms: NDArray[np.object_],
    metric: Metric,
) -> dict[str, str]:
    new_by = dict(zip(new_codes, new_geoms, strict=False))
    old_by = dict(zip(old_codes, old_geoms, strict=True))
    out = {c: "added" for c in new_by if c not in old_by}
    out |= {c: "removed" for c in old_by if c not in new_by}
    common = [c for c in new_by if c in old_by]
    if common:
        a = np.array([new_by[c] for c in common], dtype=object)
        b = np.array([old_by[c] for c in common], dtype=object)
        same = shapely.equals_exact(a, b, tolerance=0.0)  # untouched grids: no overlay
        ok = ~same & shapely.is_valid(a)
        diff = np.zeros(len(common))
        if ok.any():
            diff[ok] = metric.area(shapely.symmetric_difference(a[ok], b[ok]))
        diff[~same & ~ok] = np.inf
        out |= {c: "reshaped" for c, d in zip(common, diff, strict=True) if d > CHANGED_M2}
    return out


def _routing(store: StoreLike, assets: Assets, new_grids: list[str | None]) -> list[dict[str, Any]]:
    """Units gaining or losing open events when they are re-routed by the draft."""
    events = assets.events
    if not len(events):
        return []
    router = Router.from_store(store)
    gained: Counter[int | None] = Counter()
    lost: Counter[int | None] = Counter()
    for k, r in enumerate(events.itertuples()):
        grid = new_grids[k]
        if grid == r.grid_code:
            continue
        answer = None
        if grid is not None:
            answer = {
                "grid_code": grid,
                "community_code": grid[:COMMUNITY],
                "street_code": grid[:STREET],
                "district_code": grid[:6],
            }
        unit = router.route(answer, r.lon, r.lat, r.category_code or "", r.priority).unit_id
        if unit != r.unit_id:
            lost[r.unit_id] += 1
            gained[unit] += 1
    names = {int(u.id): (u.code, u.name) for u in store.read_units().itertuples()}
    out = []
    for unit in sorted(set(gained) | set(lost), key=lambda u: (u is None, u or 0)):
        code, name = names.get(unit, (None, None)) if unit is not None else (None, None)
        out.append(
            {
                "unit_id": unit,
                "unit_code": code,
                "unit_name": name,
                "open_events_gained": gained[unit],
                "open_events_lost": lost[unit],
            }
        )
    return out
