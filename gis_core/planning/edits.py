"""Edits on a draft, each one recorded step that undo can take back.

Every edit runs in one transaction that locks the plan row and checks the version the
planner saw (a stale edit is refused, never applied over another's), replaces the draft
rows it touches, bumps the version and appends a step holding the rows it removed and
the ids it added: undo deletes the one and restores the other, ids included, so older
steps still undo after a newer one was undone. An edit to a validated draft returns it
to ``draft`` (and drops the admin units validation wrote).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import shapely
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from gis_core.planning.drafts import COMMUNITY, PlanNotFound
from gis_core.planning.edit_parts import (
    EditError,
    _Change,
    _geom,
    _line,
    _pieces,
    moved_edge,
    polygon,
    renumber_order,
)
from gis_core.planning.parent_edits import PARENT_EDITS
from gis_core.storage.models import DraftUnit, GenerationPlan, GenerationStep
from gis_core.storage.protocol import StoreLike

GRID_EDIT_KINDS = ("split", "merge", "move_edge", "reshape", "reassign", "renumber")
PARENT_EDIT_KINDS = (
    "community_reshape",
    "community_move_edge",
    "community_split",
    "community_merge",
    "community_move",
    "street_reshape",
)
"""Edits of the parents (``gis_core.planning.parent_edits``)."""
EDIT_KINDS = GRID_EDIT_KINDS + PARENT_EDIT_KINDS
EDITABLE_STATES = ("draft", "validated")


class StaleDraft(RuntimeError):
    """The draft changed since the planner loaded it (another planner's edit)."""


class NotEditable(RuntimeError):
    """A draft that is active or retired: a new draft is needed."""


def _snapshot(row: DraftUnit) -> dict[str, Any]:
    return {
        "id": row.id,
        "level": row.level,
        "code": row.code,
        "name": row.name,
        "parent_code": row.parent_code,
        "unit_name": row.unit_name,
        "staff": row.staff,
        "geom": bytes(row.geom).hex(),
    }


def _split(c: _Change, p: dict[str, Any]) -> None:
    row = c.one(p.get("code"))
    line = _line(p.get("line"))
    pieces = _pieces(_geom(row), line)
    if len(pieces) < 2:
        raise EditError(f"the line does not cut grid {row.code} in two: draw it across", "line")
    community = row.code[:COMMUNITY]
    new_codes = c.next_codes(community, len(pieces) - 1)
    c.replace(row, pieces[0])
    for k, (piece, code) in enumerate(zip(pieces[1:], new_codes, strict=True)):
        c.add_like(row, piece, code=code, name=f"{row.name}-{k + 2}", staff=None, unit_name=None)
    c.summary = {"split": row.code, "into": [row.code, *new_codes]}


def _merge(c: _Change, p: dict[str, Any]) -> None:
    codes = p.get("codes")
    if not isinstance(codes, list) or len(codes) < 2 or len(set(codes)) != len(codes):
        raise EditError("merge needs a list of at least two different grid codes", "codes")
    rows = [c.one(code, "codes") for code in codes]
    if len({r.code[:COMMUNITY] for r in rows}) > 1:
        raise EditError("the grids belong to different communities: reassign first", "codes")
    union = shapely.union_all([_geom(r) for r in rows])
    if len(shapely.get_parts(union)) > 1:
        raise EditError("the grids are not adjacent: their union is not one area", "codes")
    keep = min(rows, key=lambda r: r.code)
    for r in rows:
        c.removed.append(r)
        if r is not keep:
            c.renumbered[r.code] = keep.code
    c.add_like(keep, union)
    c.summary = {"merged": sorted(codes), "into": keep.code}


def _move_edge(c: _Change, p: dict[str, Any]) -> None:
    codes = p.get("codes")
    if not isinstance(codes, list) or len(codes) != 2 or codes[0] == codes[1]:
        raise EditError("move_edge needs the two neighbouring grids' codes", "codes")
    a, b = (c.one(code, "codes") for code in codes)
    ga, gb = _geom(a), _geom(b)
    if not ga.intersects(gb):
        raise EditError(f"grids {a.code} and {b.code} do not share an edge", "codes")
    new_a, new_b = moved_edge(ga, gb, _line(p.get("line")))
    c.replace(a, new_a)
    c.replace(b, new_b)
    c.summary = {"moved_edge": [a.code, b.code]}


def _reshape(c: _Change, p: dict[str, Any]) -> None:
    row = c.one(p.get("code"))
    geom = polygon(p.get("geometry"))
    c.replace(row, geom)
    c.summary = {"reshaped": row.code}


def _reassign(c: _Change, p: dict[str, Any]) -> None:
    row = c.one(p.get("code"))
    target = p.get("community_code")
    if not isinstance(target, str) or target not in c.communities:
        raise EditError(f"no community {target!r} in this draft", "community_code")
    if row.code.startswith(target):
        raise EditError(f"grid {row.code} already belongs to community {target}", "community_code")
    (code,) = c.next_codes(target, 1)
    c.replace(row, _geom(row), code=code, parent_code=target)
    c.renumbered[row.code] = code
    c.summary = {"reassigned": row.code, "to": target, "new_code": code}


def _renumber(c: _Change, p: dict[str, Any]) -> None:
    wanted = p.get("community_code")
    if wanted is not None and wanted not in c.communities:
        raise EditError(f"no community {wanted!r} in this draft", "community_code")
    groups: dict[str, list[DraftUnit]] = {}
    for r in c.grids:
        key = (r.parent_code or r.code)[:COMMUNITY]
        if wanted is None or key == wanted:
            groups.setdefault(key, []).append(r)
    table: dict[str, str] = {}
    for community, members in sorted(groups.items()):
        order = renumber_order([_geom(r) for r in members])
        for serial, k in enumerate(order, start=1):
            r = members[k]
            code = f"{community}{serial:03d}"
            if code != r.code:
                c.replace(r, _geom(r), code=code, parent_code=community)
                table[r.code] = code
    c.renumbered.update(table)
    c.summary = {"renumbered": len(table), "table": table}


EDITS: dict[str, Callable[[_Change, dict[str, Any]], None]] = {
    "split": _split,
    "merge": _merge,
    "move_edge": _move_edge,
    "reshape": _reshape,
    "reassign": _reassign,
    "renumber": _renumber,
}


def _registry() -> dict[str, Callable[[_Change, dict[str, Any]], None]]:
    """Grid edits and parent edits."""
    return EDITS | PARENT_EDITS


def _compose(mapping: dict[str, str], new: dict[str, str]) -> dict[str, str]:
    """The old -> new table after another renumbering: chains collapse to their end."""
    out = {old: new.get(cur, cur) for old, cur in mapping.items()}
    for old, code in new.items():
        if old not in mapping.values():
            out.setdefault(old, code)
    return {k: v for k, v in out.items() if k != v}


def _locked_plan(session: Session, generation_id: int, expected: int | None) -> GenerationPlan:
    plan = session.get(GenerationPlan, generation_id, with_for_update=True)
    if plan is None:
        raise PlanNotFound(f"generation {generation_id} has no draft")
    if plan.state not in EDITABLE_STATES:
        raise NotEditable(f"generation {generation_id} is {plan.state}: draft a new one to edit")
    if expected is not None and expected != plan.version:
        raise StaleDraft(
            f"the draft is at version {plan.version}, not {expected}: reload it and edit again"
        )
    return plan


def _touch(store: StoreLike, session: Session, plan: GenerationPlan) -> None:
    plan.version += 1
    if plan.state == "validated":
        plan.state = "draft"
        store.drop_admin_units(session, plan.generation_id)


def edit(
    store: StoreLike,
    generation_id: int,
    kind: str,
    params: dict[str, Any],
    *,
    actor: str | None = None,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Apply one edit; returns the step (seq, summary) and the new version."""
    kinds = _registry()
    if kind not in kinds:
        raise EditError(f"unknown edit {kind!r}; edits: {', '.join(kinds)}", "kind")
    with store.session() as s:
        plan = _locked_plan(s, generation_id, expected_version)
        units = s.scalars(
            select(DraftUnit).where(DraftUnit.generation_id == generation_id).order_by(DraftUnit.id)
        ).all()
        grids = [u for u in units if u.level == "grid"]
        communities = {u.code for u in units if u.level == "community"}
        parents: dict[str, list[DraftUnit]] = {}
        for u in units:
            if u.level != "grid":
                parents.setdefault(u.level, []).append(u)
        change = _Change(grids, communities, parents)
        kinds[kind](change, params)
        removed = [_snapshot(r) for r in change.removed]
        if removed:
            s.execute(delete(DraftUnit).where(DraftUnit.id.in_([r["id"] for r in removed])))
        added_ids = []
        for row in change.added:
            added_ids.append(
                s.execute(
                    insert(DraftUnit)
                    .values(generation_id=generation_id, **row)
                    .returning(DraftUnit.id)
                ).scalar_one()
            )
        previous = dict(plan.renumbering or {})
        if change.renumbered:
            plan.renumbering = _compose(previous, change.renumbered)
        _touch(store, s, plan)
        seq = store.record_step(
            s,
            generation_id,
            kind,
            actor,
            params=params,
            summary=change.summary,
            undo={"removed": removed, "added": added_ids, "renumbering": previous},
        )
        return {"seq": seq, "kind": kind, "summary": change.summary, "version": plan.version}


def undo(
    store: StoreLike,
    generation_id: int,
    *,
    actor: str | None = None,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Take back the latest edit not yet undone; recorded as a step of its own."""
    with store.session() as s:
        plan = _locked_plan(s, generation_id, expected_version)
        step = s.scalars(
            select(GenerationStep)
            .where(
                GenerationStep.generation_id == generation_id,
                GenerationStep.kind.in_(EDIT_KINDS),
                GenerationStep.undone.is_(False),
            )
            .order_by(GenerationStep.seq.desc())
        ).first()
        if step is None:
            raise EditError("nothing to undo", "undo")
        data = step.undo or {}
        if data.get("added"):
            s.execute(delete(DraftUnit).where(DraftUnit.id.in_(data["added"])))
        for row in data.get("removed", []):
            values = dict(row)
            values["geom"] = bytes.fromhex(values["geom"])
            s.execute(insert(DraftUnit).values(generation_id=generation_id, **values))
        plan.renumbering = data.get("renumbering", plan.renumbering)
        step.undone = True
        _touch(store, s, plan)
        seq = store.record_step(
            s, generation_id, "undo", actor, params={"step": step.seq}, summary={"undid": step.kind}
        )
        return {
            "seq": seq,
            "kind": "undo",
            "summary": {"undid": step.kind, "step": step.seq},
            "version": plan.version,
        }
