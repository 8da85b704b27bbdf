"""Activation and rollback: one transaction switches the active generation, re-routes
every open event by the new boundaries (each with a `reroute` history entry naming the
old and new grid and unit) and, when the planner confirms, remaps the routing rules and
units that name retired codes through the renumbering table. Closed events keep the grid
they had. Everything slow (validation, the new index, the routing decisions) happens
before the transaction, so the switch itself is short and lookups never wait on it.

No lookup mixes generations: a `LookupService` answer comes from one generation's index
(grid and parents alike) and names it; other processes pick up the switch within their
``active_ttl``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import shapely
from sqlalchemy import select, update

from gis_core.boundaries.generations import LookupService
from gis_core.boundaries.sources import StoreSource, layer_set
from gis_core.cases.state import Actor
from gis_core.cases.vocab import OPEN_VALUES, Role
from gis_core.events.context import current_time
from gis_core.events.routing import Router
from gis_core.planning.checking import read_open_events, validate_generation
from gis_core.planning.drafts import PlanNotFound
from gis_core.planning.points import PointLocator
from gis_core.planning.reroute import REROUTE_NOTE as REROUTE_NOTE
from gis_core.planning.reroute import reroute_all
from gis_core.planning.validation import Report, Thresholds
from gis_core.spatial.locator import Locator
from gis_core.storage.models import Event, ResponsibleUnit, RoutingRule
from gis_core.storage.protocol import StoreLike
from gis_core.storage.store import switch_active


class ActivationRefused(RuntimeError):
    """The generation cannot become active (blocking items, already active, no units)."""

    def __init__(self, message: str, report: Report | None = None) -> None:
        super().__init__(message)
        self.report = report


@dataclass
class Move:
    """One open event's re-routing by the new boundaries."""

    event_id: int
    old_grid: str | None
    new_grid: str | None
    old_unit: int | None
    new_unit: int | None
    answer: dict[str, Any] | None
    decision: Any


@dataclass
class SwitchResult:
    generation: str
    previous: str | None
    kind: str
    rerouted: int
    moves: list[dict[str, Any]] = field(default_factory=list)
    rules_remapped: int = 0
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "generation": self.generation,
            "previous": self.previous,
            "kind": self.kind,
            "rerouted": self.rerouted,
            "rules_remapped": self.rules_remapped,
            "moves": self.moves[:200],
            "seconds": round(self.seconds, 3),
        }


def _locator(
    store: StoreLike, generation_id: int, lookup: LookupService | None
) -> Locator | PointLocator:
    """The lookup's index when this process serves lookups (prebuilt for them anyway);
    else one STRtree query's worth (`PointLocator`), not a lookup index."""
    if lookup is not None:
        lookup.prewarm(generation_id)
        loc, _ = lookup.locator(generation_id)
        return loc
    return PointLocator(layer_set(StoreSource(store, generation_id)))


def plan_moves(
    store: StoreLike,
    generation_id: int,
    generation_name: str,
    locator: Locator | PointLocator,
    router: Router,
    *,
    stale_only: bool = False,
) -> list[Move]:
    """Where each open event goes under the generation: located in one vectorised call,
    routed by the same rules intake uses. ``stale_only``: only events located in another
    generation."""
    events = read_open_events(store)
    if stale_only and len(events):
        events = events[events["generation_id"] != generation_id]
    if not len(events):
        return []
    lon = shapely.get_x(np.asarray(events.geometry.values, dtype=object))
    lat = shapely.get_y(np.asarray(events.geometry.values, dtype=object))
    located = locator.locate(lon, lat, "wgs84")
    columns = [c for c in located.columns if c.endswith("_code") or c.endswith("_name")]
    values = {c: located[c].tolist() for c in columns}  # lists: no pandas call per event
    moves = []
    for k, r in enumerate(events.itertuples()):
        grid = values["grid_code"][k]
        grid = None if not isinstance(grid, str) else grid
        answer = None
        if grid is not None:
            answer = {c: (None if not isinstance(v := values[c][k], str) else v) for c in columns}
            answer["generation"] = generation_name
        decision = router.route(answer, lon[k], lat[k], r.category_code or "", r.priority)
        if grid != r.grid_code or decision.unit_id != r.unit_id:
            moves.append(
                Move(int(r.id), r.grid_code, grid, r.unit_id, decision.unit_id, answer, decision)
            )
    return moves


def _switch(
    store: StoreLike,
    generation_id: int,
    *,
    kind: str,
    who: str,
    lookup: LookupService | None,
    remap: dict[str, str] | None,
    quiet: bool = False,
) -> SwitchResult:
    """Switch to ``generation_id`` and re-route (``kind="sweep"``: re-route only;
    ``quiet``: a sweep that moved nothing is not recorded as a step)."""
    started = current_time()
    gen = store.get_generation(generation_id)
    assert gen is not None
    previous = store.active_generation()
    locator = _locator(store, generation_id, lookup)
    router = Router.from_store(store)
    if remap:
        router.rules = [
            replace(r, area_code=remap.get(r.area_code or "", r.area_code)) for r in router.rules
        ]
    moves = plan_moves(store, generation_id, gen.name, locator, router, stale_only=kind == "sweep")
    actor = Actor(id=f"boundary:{who}"[:100], role=Role.ADMIN, name=who)
    at = current_time()
    remapped = 0
    with store.session() as s:
        if kind != "sweep":
            switch_active(
                s,
                generation_id,
                kind=kind,
                actor=who,
                data={
                    "rerouted": len(moves),
                    "previous": None if previous is None else previous.id,
                },
            )
        if remap:
            for old, new in remap.items():
                remapped += s.execute(
                    update(RoutingRule).where(RoutingRule.area_code == old).values(area_code=new)
                ).rowcount
                s.execute(
                    update(ResponsibleUnit)
                    .where(ResponsibleUnit.area_code == old)
                    .values(area_code=new)
                )
        moves = reroute_all(s, moves, actor, at, generation_id, stale_only=kind == "sweep")
        if moves or not quiet:
            store.record_step(
                s,
                generation_id,
                kind,
                who,
                params={"remap_rules": bool(remap)},
                summary={"rerouted": len(moves), "rules_remapped": remapped},
            )
    if lookup is not None:
        lookup.forget_active()
    return SwitchResult(
        gen.name,
        None if previous is None else previous.name,
        kind,
        len(moves),
        [
            {
                "event_id": m.event_id,
                "grid": [m.old_grid, m.new_grid],
                "unit": [m.old_unit, m.new_unit],
            }
            for m in moves
        ],
        remapped,
        (current_time() - started).total_seconds(),
    )


def activate(
    store: StoreLike,
    key: int | str,
    *,
    who: str,
    lookup: LookupService | None = None,
    remap_rules: bool = False,
    thresholds: Thresholds | None = None,
) -> SwitchResult:
    """Validate if needed, refuse on blocking items, then switch and re-route."""
    gen = store.get_generation(key)
    if gen is None:
        raise PlanNotFound(f"no boundary generation {key!r}")
    if gen.active:
        raise ActivationRefused(f"generation {gen.name!r} is already active")
    plan = store.plan_state(gen.id)
    remap = None
    if plan is not None:
        if plan["state"] not in ("draft", "validated"):
            raise ActivationRefused(
                f"generation {gen.name!r} is {plan['state']}: roll back or draft anew"
            )
        if plan["state"] != "validated" or plan["validated_version"] != plan["version"]:
            _, report = validate_generation(store, gen.id, thresholds=thresholds, actor=who)
            if report.blocking:
                counts = ", ".join(
                    f"{code} {n}"
                    for code, n in sorted(report.counts().items())
                    if code in report.codes("blocking")
                )
                raise ActivationRefused(
                    f"generation {gen.name!r} has blocking validation items: {counts}", report
                )
        remap = plan["renumbering"] if remap_rules else None
    elif len(store.read_admin_layer("grid", gen.id)) == 0:
        raise ActivationRefused(f"generation {gen.name!r} has no grids")
    return _switch(store, gen.id, kind="activate", who=who, lookup=lookup, remap=remap)


def rollback(store: StoreLike, *, who: str, lookup: LookupService | None = None) -> SwitchResult:
    """Back to the generation active before the current one; recorded, events re-routed."""
    current = store.active_generation()
    if current is None:
        raise ActivationRefused("no active generation to roll back")
    log = [a for a in store.activation_log() if a.generation_id == current.id]
    previous_id = log[-1].previous_id if log else None
    if previous_id is None or store.get_generation(previous_id) is None:
        raise ActivationRefused(f"generation {current.name!r} has no previous generation")
    return _switch(store, previous_id, kind="rollback", who=who, lookup=lookup, remap=None)


def sweep(
    store: StoreLike, *, who: str, lookup: LookupService | None = None, quiet: bool = False
) -> SwitchResult:
    """Re-route open events located in another generation than the active one: reported
    through a worker that had not yet seen a switch (within its ``active_ttl``). Run it
    a few seconds after an activation (every API worker's `SwitchWatcher` does); it is
    recorded like one (``quiet``: only when it moved something)."""
    active = store.active_generation()
    if active is None:
        raise ActivationRefused("no active generation")
    return _switch(store, active.id, kind="sweep", who=who, lookup=lookup, remap=None, quiet=quiet)


def open_event_grids(store: StoreLike) -> dict[int, str | None]:
    """Open events' grid codes (for checks and tests)."""
    with store.session(write=False) as s:
        rows = s.execute(
            select(Event.id, Event.grid_code).where(Event.status.in_(OPEN_VALUES))
        ).all()
    return {int(i): g for i, g in rows}
