"""Boundary planning in the store: plan states, draft units, steps, the activation log,
and the one switch of the active generation every activation goes through."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from sqlalchemy import delete, func, insert, literal, select, update
from sqlalchemy.orm import Session

from gis_core.storage.models import (
    AdminUnit,
    BoundaryGeneration,
    Building,
    Component,
    DraftUnit,
    GenerationActivation,
    GenerationPlan,
    GenerationStep,
)
from gis_core.storage.store import frames
from gis_core.storage.store.core import StoreCore
from gis_core.storage.types import utcnow

DRAFT_COLUMNS = ("id", "level", "code", "name", "parent_code", "unit_name", "staff")


@dataclass(frozen=True)
class Activation:
    generation_id: int
    previous_id: int | None
    kind: str
    at: datetime
    actor: str | None


def switch_active(
    session: Session,
    generation_id: int,
    *,
    kind: str = "activate",
    actor: str | None = None,
    data: Any = None,
) -> int | None:
    """Make ``generation_id`` active inside ``session``'s transaction and log it; returns
    the previously active id. Deactivate first, then activate: the partial unique index
    is checked row by row in PostgreSQL."""
    gen = session.get(BoundaryGeneration, generation_id, with_for_update=True)
    if gen is None:
        raise LookupError(f"no boundary generation with id {generation_id}")
    previous = session.scalars(
        select(BoundaryGeneration.id).where(BoundaryGeneration.active).with_for_update()
    ).first()
    if previous == generation_id:
        return previous
    session.execute(
        update(BoundaryGeneration)
        .where(BoundaryGeneration.active, BoundaryGeneration.id != generation_id)
        .values(active=False)
    )
    session.flush()
    now = utcnow()
    gen.active = True
    gen.activated_at = now
    session.add(
        GenerationActivation(
            generation_id=generation_id,
            previous_id=previous,
            kind=kind,
            at=now,
            actor=actor,
            data=data,
        )
    )
    for gid, state in ((previous, "retired"), (generation_id, "active")):
        if gid is not None:
            plan = session.get(GenerationPlan, gid)
            if plan is not None:
                plan.state = state
    session.flush()
    return previous


class PlanningStore(StoreCore):
    """Drafts and their history; see ``gis_core.planning`` for what is done with them."""

    def activation_log(self) -> list[Activation]:
        """Every switch, oldest first (``at=`` lookups read it)."""
        t = GenerationActivation
        with self.session(write=False) as s:
            rows = s.execute(
                select(t.generation_id, t.previous_id, t.kind, t.at, t.actor).order_by(t.at, t.id)
            ).all()
        return [Activation(*r) for r in rows]

    def create_plan(
        self,
        generation_id: int,
        layers: dict[str, gpd.GeoDataFrame],
        *,
        base_generation_id: int | None,
        source: str,
        actor: str | None,
    ) -> None:
        """Store a new draft's units (one transaction) and its first step."""
        with self.session() as s:
            s.add(
                GenerationPlan(
                    generation_id=generation_id,
                    state="draft",
                    version=1,
                    base_generation_id=base_generation_id,
                    source=source,
                    renumbering={},
                )
            )
            for level, gdf in layers.items():
                rows = draft_rows(generation_id, level, gdf)
                for chunk in frames.chunks(rows):
                    s.execute(insert(DraftUnit), chunk)
            s.add(
                GenerationStep(
                    generation_id=generation_id,
                    seq=1,
                    kind="create",
                    actor=actor,
                    params={"source": source},
                    summary={level: len(gdf) for level, gdf in layers.items()},
                )
            )

    def read_draft(self, generation_id: int, level: str = "grid") -> gpd.GeoDataFrame:
        """One level of a draft, in insertion order, with row ids."""
        t = DraftUnit
        with self.session(write=False) as s:
            rows = s.execute(
                select(*[getattr(t, c) for c in DRAFT_COLUMNS], t.geom)
                .where(t.generation_id == generation_id, t.level == level)
                .order_by(t.id)
            ).all()
        return draft_frame(rows)

    def grid_count(self, generation_id: int) -> int:
        """A generation's grids, counted without reading them: its draft's if it has one,
        else its admin units' (decides whether planning work runs as a job)."""
        with self.session(write=False) as s:
            drafted = s.get(GenerationPlan, generation_id) is not None
            table = DraftUnit if drafted else AdminUnit
            return int(
                s.scalar(
                    select(func.count())
                    .select_from(table)
                    .where(table.generation_id == generation_id, table.level == "grid")
                )
                or 0
            )

    def plan_state(self, generation_id: int) -> dict[str, Any] | None:
        with self.session(write=False) as s:
            plan = s.get(GenerationPlan, generation_id)
            if plan is None:
                return None
            return {
                "state": plan.state,
                "version": plan.version,
                "base_generation_id": plan.base_generation_id,
                "source": plan.source,
                "renumbering": plan.renumbering or {},
                "validated_version": plan.validated_version,
                "updated_at": plan.updated_at,
            }

    def planning_steps(self, generation_id: int) -> list[dict[str, Any]]:
        t = GenerationStep
        with self.session(write=False) as s:
            rows = s.execute(
                select(t.seq, t.kind, t.actor, t.at, t.params, t.summary, t.undone)
                .where(t.generation_id == generation_id)
                .order_by(t.seq)
            ).all()
        return [
            dict(zip(("seq", "kind", "actor", "at", "params", "summary", "undone"), r, strict=True))
            for r in rows
        ]

    def record_step(
        self,
        session: Session,
        generation_id: int,
        kind: str,
        actor: str | None,
        params: Any = None,
        summary: Any = None,
        undo: Any = None,
    ) -> int:
        """Append a step inside ``session``; its sequence number."""
        seq = (
            session.scalar(
                select(func.max(GenerationStep.seq)).where(
                    GenerationStep.generation_id == generation_id
                )
            )
            or 0
        ) + 1
        session.add(
            GenerationStep(
                generation_id=generation_id,
                seq=seq,
                kind=kind,
                actor=actor,
                params=params,
                summary=summary,
                undo=undo,
            )
        )
        return seq

    def asset_points(self, kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Centres of the stored bboxes of buildings or components (x, y) and, for
        buildings, households: enough to count a grid's load without parsing geometries."""
        table = {"buildings": Building, "components": Component}[kind]
        weight = table.households if kind == "buildings" else literal(None)
        stmt = select((table.minx + table.maxx) / 2, (table.miny + table.maxy) / 2, weight).where(
            table.minx.is_not(None)
        )
        with self.session(write=False) as s:
            # the driver's plain tuples straight into numpy: 100,000s of rows, no Row objects
            rows = s.connection().execute(stmt).cursor.fetchall()
        if not rows:
            return np.zeros(0), np.zeros(0), np.zeros(0)
        arr = np.array(rows, dtype=float)  # a NULL weight becomes NaN, then 0
        return arr[:, 0], arr[:, 1], np.nan_to_num(arr[:, 2])

    def drop_generation(self, generation_id: int) -> None:
        """Delete a generation that never became active (its units go with it)."""
        with self.session() as s:
            gen = s.get(BoundaryGeneration, generation_id)
            if gen is not None and gen.activated_at is None:
                s.delete(gen)

    def drop_admin_units(self, session: Session, generation_id: int) -> None:
        session.execute(delete(AdminUnit).where(AdminUnit.generation_id == generation_id))


def draft_rows(generation_id: int, level: str, gdf: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """Insert rows of ``gdf`` (code, name, optional parent_code/unit_name/staff)."""
    geoms = shapely.to_wkb(gdf.geometry.values, output_dimension=2, byte_order=1)
    cols = {c: (gdf[c].tolist() if c in gdf.columns else [None] * len(gdf)) for c in DRAFT_COLUMNS}
    out = []
    for i in range(len(gdf)):
        code = cols["code"][i]
        out.append(
            {
                "generation_id": generation_id,
                "level": level,
                "code": str(code),
                "name": _text(cols["name"][i]) or str(code),
                "parent_code": _text(cols["parent_code"][i]),
                "unit_name": _text(cols["unit_name"][i]),
                "staff": _text(cols["staff"][i]),
                "geom": geoms[i],
            }
        )
    return out


def draft_frame(rows: list[Any]) -> gpd.GeoDataFrame:
    data = {c: [r[i] for r in rows] for i, c in enumerate(DRAFT_COLUMNS)}
    geoms = shapely.from_wkb([bytes(r[len(DRAFT_COLUMNS)]) for r in rows]) if rows else []
    return gpd.GeoDataFrame(data, geometry=list(geoms), crs=4326)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value != value:  # NaN from pandas
        return None
    text = str(value)
    return text or None
