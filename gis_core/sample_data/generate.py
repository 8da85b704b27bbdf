"""Orchestration: real district outline -> streets -> communities -> grids -> files.

The tree is cut top-down in metres (the first cuts of a district are rivers, then major
roads, then block roads), noded once into an exact WGS84 coverage, and the parents are
rebuilt bottom-up as coverage unions of their children, so every level tiles its parent
with no gap and no overlap. Codes are then given in reading order, and buildings and
components are laid into the final grids.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from gis_core.spatial.crs import Projector, gcj02_to_wgs84
from gis_core.standards.codes import ADMIN_CODE_LENGTHS, ADMIN_PARENT_LEVEL

from . import basemap as basemap_mod
from . import buildings as buildings_mod
from . import components as components_mod
from . import names
from . import units as units_mod
from .assemble import dissolve, node, reading_order, to_metres
from .config import (
    DEFAULT_SEED,
    DISTRICTS_DIR,
    DistrictSpec,
    get_spec,
    stream,
)
from .layer_files import LAYER_FILE_COUNT, write_layers
from .model import Community, Grid, Street
from .plan import Leaf, carve_enclaves, density_field, plan_counts
from .progress import progress_bars, stepper
from .subdivide import MAJOR_ROAD, RIVER, ROAD, CutStyle, split

BUILDINGS_PER_GRID = 12.4
COMPONENTS_PER_GRID = 24.0
_ROLES = ("网格长", "专职网格员", "兼职网格员")
SERIAL_WIDTH = {
    level: ADMIN_CODE_LENGTHS[level] - ADMIN_CODE_LENGTHS[parent]
    for level, parent in ADMIN_PARENT_LEVEL.items()
}
"""Digits a street, community or grid adds to its parent's code."""


def child_code(parent_code: str, level: str, serial: int) -> str:
    """The code of the ``serial``-th (from 1) street, community or grid of a parent."""
    return f"{parent_code}{serial:0{SERIAL_WIDTH[level]}d}"


def load_outline(spec: DistrictSpec) -> BaseGeometry:
    """The real district outline (GCJ-02 in the file) converted to WGS84."""
    raw = json.loads((DISTRICTS_DIR / f"{spec.code}.geojson").read_text(encoding="utf-8"))
    geom = shape(raw.get("geometry", raw))

    def fn(c: np.ndarray) -> np.ndarray:
        return np.column_stack(gcj02_to_wgs84(c[:, 0], c[:, 1]))

    geom = shapely.transform(geom, fn)
    if geom.geom_type == "MultiPolygon" and len(geom.geoms) == 1:
        geom = geom.geoms[0]
    return geom


def _check_coverage(level: str, geoms: list[BaseGeometry]) -> None:
    """Refuse to write a level whose pieces are invalid, overlap, or mismatch on edges."""
    arr = np.asarray(geoms, dtype=object)
    if not shapely.is_valid(arr).all():
        raise RuntimeError(f"invalid {level} geometry")
    if len(arr) > 1 and not shapely.coverage_is_valid(arr):
        raise RuntimeError(f"{level} do not form a valid coverage")


def _assign_street_names(spec, geoms, rng, projector) -> list[tuple[str, bool]]:
    """(name, is_town) per street: real names near their real place, or generated ones."""
    pts = shapely.get_coordinates(shapely.point_on_surface(np.asarray(geoms, dtype=object)))
    x, y = projector.to_metres(pts[:, 0], pts[:, 1])
    if spec.street_anchors:
        anchors = spec.street_anchors
        ax, ay = projector.to_metres([a.lon for a in anchors], [a.lat for a in anchors])
        cost = np.hypot(x[:, None] - ax[None, :], y[:, None] - ay[None, :])
        pick = list(range(len(geoms)))
        improved = True
        while improved:  # pairwise swaps until no swap lowers the total distance
            improved = False
            for i in range(len(pick)):
                for j in range(i + 1, len(pick)):
                    now = cost[i, pick[i]] + cost[j, pick[j]]
                    swap = cost[i, pick[j]] + cost[j, pick[i]]
                    if swap < now - 1e-6:
                        pick[i], pick[j] = pick[j], pick[i]
                        improved = True
        return [(anchors[k].name, anchors[k].name.endswith("镇")) for k in pick]
    cx, cy = projector.to_metres(*spec.centre)
    near = np.argsort(np.hypot(x - cx, y - cy), kind="stable")
    urban = set(int(i) for i in near[: spec.urban_streets])
    roots = names.place_roots(rng, spec.flavour, len(geoms), set())
    return [
        (root + ("街道" if i in urban else "镇"), i not in urban) for i, root in enumerate(roots)
    ]


def _staff(rng: np.random.Generator) -> str:
    n = int(rng.choice([1, 2, 3], p=[0.15, 0.5, 0.35]))
    roles = {1: ["专职网格员"], 2: list(_ROLES[:2]), 3: list(_ROLES)}[n]
    members = [{"name": names.person_name(rng), "role": r} for r in roles]
    return json.dumps(members, ensure_ascii=False, separators=(",", ":"))


def generate(
    district_code: str,
    out_dir: Path,
    *,
    seed: int = DEFAULT_SEED,
    grids: int | None = None,
    progress: bool = True,
) -> dict[str, int]:
    """Generate the sample hierarchy, buildings and components of a district into out_dir.

    Returns the number of features written per layer. Same code, seed and grids (and the
    same shapely/GEOS and PROJ) give byte-identical files.
    """
    spec = get_spec(district_code)
    n_grids = spec.grids if grids is None else int(grids)
    if n_grids < spec.streets:
        raise ValueError(f"{spec.name} needs at least {spec.streets} grids, got {n_grids}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    outline = load_outline(spec)
    projector = Projector.for_lon(outline.centroid.x)
    outline_m = to_metres(outline, projector)
    density = density_field(spec, projector)
    groups, n_enclave, n_exclave = plan_counts(spec, n_grids, stream(seed, "plan"))
    n_comm = sum(len(g) for g in groups)

    with progress_bars(progress) as prog:
        # 1. Cut the tree top-down, in metres.
        rng = stream(seed, "streets")
        street_w = [float(sum(g)) for g in groups]

        def street_style(k: int) -> CutStyle:
            return RIVER if k < spec.rivers else MAJOR_ROAD

        streets_m = split(
            outline_m, street_w, rng, density, street_style, stepper(prog, "streets", spec.streets)
        )
        rng = stream(seed, "communities")
        step_c = stepper(prog, "communities", n_comm)
        step_g = stepper(prog, "grids", n_grids - n_enclave)
        rng_g = stream(seed, "grids")
        leaves: list[Leaf] = []
        for s, (street_m, counts) in enumerate(zip(streets_m, groups, strict=True)):
            comms_m = split(
                street_m,
                [float(c) for c in counts],
                rng,
                density,
                lambda k: MAJOR_ROAD if k == 0 else ROAD,
                step_c,
            )
            for c, (comm_m, k) in enumerate(zip(comms_m, counts, strict=True)):
                weights = rng_g.uniform(0.8, 1.25, size=k).tolist()
                for g in split(comm_m, weights, rng_g, density, lambda _k: ROAD, step_g):
                    leaves.append(Leaf(s, c, g))
        carve_enclaves(leaves, n_enclave, n_exclave, stream(seed, "carve"))

        # 2. Node into an exact WGS84 coverage and rebuild parents bottom-up.
        step_n = stepper(prog, "coverage", 4)
        grid_geoms = node([lf.geom for lf in leaves], projector)
        step_n()
        by_comm: dict[tuple[int, int], list[int]] = {}
        for i, lf in enumerate(leaves):
            by_comm.setdefault((lf.street, lf.community), []).append(i)
        comm_keys = sorted(by_comm)
        comm_geoms = {k: dissolve([grid_geoms[i] for i in by_comm[k]]) for k in comm_keys}
        street_geoms = [
            dissolve([comm_geoms[k] for k in comm_keys if k[0] == s]) for s in range(spec.streets)
        ]
        district_geom = dissolve(street_geoms)
        step_n()
        _check_coverage("grids", grid_geoms)
        _check_coverage("communities", list(comm_geoms.values()))
        _check_coverage("streets", street_geoms)
        _check_coverage("district", [district_geom])
        step_n()

        # 3. Codes in reading order, names, staff.
        grid_metres = to_metres(np.asarray(grid_geoms, dtype=object), projector)
        rng = stream(seed, "names")
        street_names = _assign_street_names(spec, street_geoms, rng, projector)
        taken = {
            n.removesuffix("街道").removesuffix("镇").removesuffix("社区")[:2]
            for n, _ in street_names
        }
        roots = iter(names.place_roots(rng, spec.flavour, len(comm_keys), taken))
        road_taken: set[str] = set()
        streets: list[Street] = []
        communities: list[Community] = []
        grid_list: list[Grid] = []
        for si, s in enumerate(reading_order(street_geoms, district_geom, projector)):
            name, town = street_names[s]
            st = Street(child_code(spec.code, "street", si + 1), name, street_geoms[s], town)
            keys = [k for k in comm_keys if k[0] == s]
            st.roads = names.road_names(rng, 4 + len(keys), road_taken)
            streets.append(st)
            for ci, kc in enumerate(
                reading_order([comm_geoms[k] for k in keys], st.geom, projector)
            ):
                key = keys[kc]
                root = next(roots)
                village = town and rng.random() < 0.7
                cm = Community(
                    child_code(st.code, "community", ci + 1),
                    root + ("村" if village else "社区"),
                    comm_geoms[key],
                    st,
                    village,
                    root=root,
                )
                pick = rng.choice(
                    len(st.roads), size=min(len(st.roads), int(rng.integers(2, 5))), replace=False
                )
                cm.roads = [st.roads[int(p)] for p in sorted(pick)]
                cm.compounds = names.compound_names(rng, int(rng.integers(1, 4)), root)
                communities.append(cm)
                members = by_comm[key]
                unit = cm.name + ("村委会" if village else "居委会") + "网格工作站"
                for gi, m in enumerate(
                    reading_order([grid_geoms[i] for i in members], cm.geom, projector)
                ):
                    leaf = members[m]
                    grid_list.append(
                        Grid(
                            code=child_code(cm.code, "grid", gi + 1),
                            name=f"{cm.name}第{gi + 1}网格",
                            geom=grid_geoms[leaf],
                            geom_m=grid_metres[leaf],
                            community=cm,
                            kind=leaves[leaf].kind,
                            unit_name=unit,
                            staff=_staff(rng),
                        )
                    )
        step_n()

        # 4. Buildings and components.
        bld = buildings_mod.build(
            grid_list,
            spec.name,
            spec.code,
            projector,
            stream(seed, "buildings"),
            BUILDINGS_PER_GRID,
            stepper(prog, "buildings", len(grid_list)),
        )
        footprints: dict[str, list[BaseGeometry]] = {}
        for props, geom in bld:
            footprints.setdefault(props["grid_code"], []).append(geom)
        blocked = {k: shapely.MultiPolygon(v) for k, v in footprints.items()}
        for geom in blocked.values():
            shapely.prepare(geom)
        classes = components_mod.class_table(spec.name, spec.city, spec.code)
        cmp_rows = components_mod.build(
            grid_list,
            blocked,
            classes,
            spec.code,
            projector,
            stream(seed, "components"),
            COMPONENTS_PER_GRID,
            stepper(prog, "components", len(grid_list)),
        )

        # 5. Files.
        step_w = stepper(prog, "writing", LAYER_FILE_COUNT)
        counts = write_layers(
            out,
            spec,
            seed=seed,
            n_grids=n_grids,
            district_geom=district_geom,
            streets=streets,
            communities=communities,
            grid_list=grid_list,
            bld=bld,
            cmp_rows=cmp_rows,
            step_w=step_w,
        )
        step_w()
    # Responsible units, members, duty layers and routing rules (not in the manifest).
    counts.update(units_mod.write(out, spec, seed))
    # The offline basemap (roads, rivers, place names) drawn from all of the above.
    counts.update(basemap_mod.write(out, spec))
    return counts


__all__ = ["generate", "load_outline"]
