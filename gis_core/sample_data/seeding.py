"""The demo: the sample district loaded into the embedded store, then real lookups.

Seeding is idempotent: a store that already has an active generation is left alone, so
running the demo twice never duplicates data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import shapely

from gis_core.boundaries.sources import DirectorySource, StoreSource, build_locator
from gis_core.paths import SAMPLE_DIR
from gis_core.spatial.crs import from_wgs84
from gis_core.spatial.io import read_layer
from gis_core.spatial.locator import Locator
from gis_core.spatial.nearby import BuildingIndex, ComponentIndex
from gis_core.storage.columns import BASEMAP_LAYERS
from gis_core.storage.protocol import StoreLike

SAMPLE_GENERATION = "sample-340111"
LEVEL_FILES = {
    "district": "districts",
    "street": "streets",
    "community": "communities",
    "grid": "grids",
}


def seed_store(
    store: StoreLike,
    sample_dir: Path = SAMPLE_DIR,
    *,
    components: bool = True,
    duties: bool = True,
) -> dict[str, int] | None:
    """Load the sample district into an empty store; None when it already holds grids.

    `components=False` skips the 10,000 component points and `duties=False` the units,
    duty layers and routing rules (for tests that bring their own).
    """
    store.upgrade()
    if store.active_generation() is not None:
        return None
    files = DirectorySource(sample_dir)
    layers = {level: files.layer(name) for level, name in LEVEL_FILES.items()}
    generation = store.create_generation(
        SAMPLE_GENERATION,
        description="Synthetic grids on the real 包河区 outline (data/sample_grids)",
        activate=False,
    )
    store.load_admin_units(generation, layers)
    store.activate_generation(generation)
    buildings = files.layer("buildings")
    store.replace_buildings(buildings)
    components_gdf = files.layer("components") if components else buildings.iloc[:0]
    if components:
        store.replace_components(components_gdf)
    counts = {f"{name}": len(layers[level]) for level, name in LEVEL_FILES.items()}
    counts |= {"buildings": len(buildings), "components": len(components_gdf)}
    counts |= seed_basemap(store, sample_dir)
    if duties:
        counts |= seed_duties(store, sample_dir)
    return counts


def seed_basemap(store: StoreLike, sample_dir: Path = SAMPLE_DIR) -> dict[str, int]:
    """Load the offline basemap files (roads, rivers, place names) that ``sample_dir``
    has; a directory without them (an older generated district) loads none."""
    paths = {n: Path(sample_dir) / f"{n}.geojson" for n in BASEMAP_LAYERS}
    present = {n: read_layer(p) for n, p in paths.items() if p.is_file()}
    return store.replace_basemap(present) if present else {}


def seed_duties(store: StoreLike, sample_dir: Path = SAMPLE_DIR) -> dict[str, int]:
    """Responsible units, their members, duty layers and routing rules, where shipped."""
    counts: dict[str, int] = {}
    units_csv = sample_dir / "units.csv"
    if not units_csv.exists():
        return counts

    def table(name: str) -> pd.DataFrame:
        return pd.read_csv(sample_dir / name, dtype=str, keep_default_na=False).replace({"": None})

    counts["units"] = sum(store.add_units(table("units.csv")).values())
    if (sample_dir / "members.csv").exists():
        counts["members"] = store.add_members(table("members.csv"))
    if (sample_dir / "duty_layers.geojson").exists():
        counts["duty_layers"] = store.add_responsibility_layers(
            read_layer(sample_dir / "duty_layers.geojson")
        )
    if (sample_dir / "rules.csv").exists():
        rules = table("rules.csv")
        rules["precedence"] = pd.to_numeric(rules["precedence"]).fillna(0).astype(int)
        rules["time_limit_value"] = pd.to_numeric(rules["time_limit_value"])
        counts["rules"] = store.add_rules(rules)
    return counts


def seed_live_events(
    store: StoreLike, *, days: int = 3, now: datetime | None = None, seed: int = 20261122
) -> dict[str, int]:
    """A recent week of sample reports, moved through the loop as a centre would have.

    The sample year is generated for the current year; reports from the last `days`
    days are submitted, then older ones are filed and dispatched, and the oldest handled,
    verified and closed, so that lights, overdue cases and every status are on screen.
    """
    from gis_core.cases import TZ, Actor
    from gis_core.cases.vocab import Action, Role
    from gis_core.events.loader import reports_from_frame
    from gis_core.events.service import EventService
    from gis_core.sample_data.events import generate_events

    now = now or datetime.now(TZ)
    frame = generate_events(n=250_000, year=now.year, seed=seed)
    recent = frame[
        (frame["reported_at"] > now - timedelta(days=days)) & (frame["reported_at"] <= now)
    ]
    service = EventService(store)
    result = service.submit_many(list(reports_from_frame(recent)))
    dispatcher = Actor("demo-dispatcher", Role.DISPATCHER, name="演示派遣员")
    verifier = Actor("demo-verifier", Role.VERIFIER, name="演示核查员")
    moved = 0
    for event_id in result.created:
        event = service.get(event_id, with_history=False)
        if event["routing"].get("queue") != "unit":
            continue
        reported = datetime.fromisoformat(event["reported_at"])
        age = now - reported
        step = min(timedelta(minutes=20), age / 6)
        if age < timedelta(hours=2):
            continue
        t = reported + step
        try:
            quick = {"with_history": False}
            service.act(event_id, Action.FILE, dispatcher, at=t, **quick)
            service.act(event_id, Action.DISPATCH, dispatcher, at=t + step, **quick)
            if age > timedelta(days=1) and event_id % 3:
                handler = Actor("demo-handler", Role.HANDLER, unit_id=event["unit_id"])
                service.act(event_id, Action.HANDLE, handler, "已处置", at=t + 2 * step, **quick)
                service.act(event_id, Action.VERIFY_PASS, verifier, at=t + 3 * step, **quick)
                service.act(event_id, Action.CLOSE, dispatcher, at=t + 4 * step, **quick)
        except ValueError:
            continue  # a combination the loop refuses stays where it is
        moved += 1
    return {
        "events": len(result.created),
        "retries": result.retries,
        "rejected": len(result.rejected),
        "progressed": moved,
    }


@dataclass
class DemoServices:
    """What the demo (and later the API) answers from."""

    locator: Locator
    components: ComponentIndex
    buildings: BuildingIndex

    @classmethod
    def from_store(cls, store: StoreLike) -> DemoServices:
        source = StoreSource(store)
        return cls(
            build_locator(source),
            ComponentIndex.from_geodataframe(source.layer("components")),
            BuildingIndex(source.layer("buildings")),
        )


def demo_lookups(services: DemoServices) -> list[dict[str, Any]]:
    """A handful of lookups that show each capability on real sample features."""
    loc = services.locator
    grids = loc.grids
    rows: list[dict[str, Any]] = []
    picks = grids.drop_duplicates("street_code").head(3)
    for _, grid in picks.iterrows():
        p = grid.geometry.representative_point()
        for crs in ("wgs84", "gcj02", "bd09"):
            x, y = from_wgs84(p.x, p.y, crs)
            ans = loc.locate_one(float(x), float(y), crs)
            rows.append(_row(f"grid interior ({crs})", float(x), float(y), ans))
    # A vertex shared by several grids: the smallest code wins, by the documented rule.
    vx, vy = _most_shared_vertex(grids)
    sharing = loc.index.covering_all(vx, vy)
    rows.append(_row(f"vertex shared by {', '.join(sharing)}", vx, vy, loc.locate_one(vx, vy)))
    rows.append(
        _row("outside (上海 People's Square)", 121.4737, 31.2304, loc.locate_one(121.4737, 31.2304))
    )
    b = services.buildings.buildings.iloc[0]
    c = b.geometry.representative_point()
    rows.append(
        _row(
            f"in building {services.buildings.containing(c.x, c.y)[0]}",
            c.x,
            c.y,
            loc.locate_one(c.x, c.y),
        )
    )
    for cls in services.components.classes():
        near = services.components.nearest(c.x, c.y, cls, 300.0)[0]
        if near is not None:
            rows.append(
                {
                    "case": f"nearest component of class {cls} within 300 m",
                    "x": c.x,
                    "y": c.y,
                    "grid": near.component_id,
                    "where": f"{near.distance_m:.1f} m",
                }
            )
            break
    return rows


def _most_shared_vertex(grids: Any) -> tuple[float, float]:
    coords, owner = shapely.get_coordinates(grids.geometry.values, return_index=True)
    frame = pd.DataFrame({"x": coords[:, 0], "y": coords[:, 1], "grid": owner})
    sharing = frame.drop_duplicates().groupby(["x", "y"])["grid"].nunique()
    x, y = sharing.idxmax()
    return float(x), float(y)


def _row(case: str, x: float, y: float, ans: dict[str, Any] | None) -> dict[str, Any]:
    if ans is None:
        return {"case": case, "x": x, "y": y, "grid": "—", "where": "outside coverage"}
    where = " / ".join(str(ans[f"{lv}_name"]) for lv in ("district", "street", "community"))
    return {"case": case, "x": x, "y": y, "grid": ans["grid_code"], "where": where}
