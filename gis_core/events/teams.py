"""Joint teams (联合执法队, "4+X"): one responsible unit of kind ``joint_team`` that leads a
case for several departments, e.g. city management, market supervision, police and
traffic police plus others.

The team is an ordinary unit (dispatch names it as the lead; its handlers act for it),
and its member units are listed (``joint_team_members``) so the case detail shows who the
team brings. :func:`define_team` creates or redefines one; :func:`teams_of` reads the
members of the given units for views.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from gis_core.events.context import EventContext
from gis_core.events.reports import IntakeRejected
from gis_core.standards.codes import ADMIN_CODE_LENGTHS
from gis_core.storage.models import JointTeamMember, ResponsibleUnit

TEAM_KIND = "joint_team"
MAX_MEMBERS = 20
MAX_NAME = 200
MAX_CODE = 32


def define_team(
    ctx: EventContext,
    code: str,
    name: str,
    member_codes: Sequence[str],
    area_code: str | None = None,
) -> dict[str, Any]:
    """Create or redefine the team ``code`` with these member units (their codes, in
    order). A code that names a unit of another kind is refused (422 on ``code``)."""
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME:
        raise IntakeRejected("name", f"name is 1..{MAX_NAME} characters")
    if area_code is not None and not (
        area_code.isdigit() and len(area_code) in ADMIN_CODE_LENGTHS.values()
    ):
        raise IntakeRejected("area_code", "area_code is a 6, 9, 12 or 15-digit code")
    if not code or len(code) > MAX_CODE:
        raise IntakeRejected("code", f"code is 1..{MAX_CODE} characters")
    codes = list(dict.fromkeys(c.strip() for c in member_codes if c and c.strip()))
    if not 2 <= len(codes) <= MAX_MEMBERS:
        raise IntakeRejected("member_unit_codes", f"a joint team has 2..{MAX_MEMBERS} member units")
    with ctx.session() as session:
        members = {
            u.code: u
            for u in session.scalars(select(ResponsibleUnit).where(ResponsibleUnit.code.in_(codes)))
        }
        missing = [c for c in codes if c not in members]
        if missing:
            raise IntakeRejected("member_unit_codes", f"no unit {missing[0][:40]!r}")
        if any(u.kind == TEAM_KIND for u in members.values()):
            raise IntakeRejected("member_unit_codes", "a joint team cannot be a member of one")
        team = session.scalars(select(ResponsibleUnit).where(ResponsibleUnit.code == code)).first()
        if team is None:
            team = ResponsibleUnit(code=code, name=name, kind=TEAM_KIND, area_code=area_code)
            session.add(team)
            session.flush()
        elif team.kind != TEAM_KIND:
            raise IntakeRejected("code", f"unit {code} exists and is not a joint team")
        else:
            team.name, team.area_code = name, area_code
            session.execute(delete(JointTeamMember).where(JointTeamMember.team_id == team.id))
        session.add_all(
            JointTeamMember(team_id=team.id, unit_id=members[c].id, seq=i)
            for i, c in enumerate(codes, 1)
        )
        session.flush()
        return _team_view(team, [members[c] for c in codes])


def _team_view(team: ResponsibleUnit, members: Iterable[ResponsibleUnit]) -> dict[str, Any]:
    return {
        "id": team.id,
        "code": team.code,
        "name": team.name,
        "area_code": team.area_code,
        "members": [
            {"unit_id": u.id, "code": u.code, "name": u.name, "kind": u.kind} for u in members
        ],
    }


def teams_of(session: Session, unit_ids: Iterable[int | None]) -> dict[int, list[dict[str, Any]]]:
    """Joint team id -> its member units (for those of ``unit_ids`` that are teams)."""
    ids = [u for u in set(unit_ids) if u is not None]
    if not ids:
        return {}
    rows = session.execute(
        select(JointTeamMember.team_id, ResponsibleUnit.id, ResponsibleUnit.code,
               ResponsibleUnit.name)
        .join(ResponsibleUnit, ResponsibleUnit.id == JointTeamMember.unit_id)
        .where(JointTeamMember.team_id.in_(ids))
        .order_by(JointTeamMember.team_id, JointTeamMember.seq)
    ).all()
    out: dict[int, list[dict[str, Any]]] = {}
    for team_id, uid, code, name in rows:
        out.setdefault(team_id, []).append({"unit_id": uid, "code": code, "name": name})
    return out


def list_teams(ctx: EventContext) -> list[dict[str, Any]]:
    """Every joint team with its members."""
    with ctx.session(write=False) as session:
        teams = session.scalars(
            select(ResponsibleUnit).where(ResponsibleUnit.kind == TEAM_KIND)
            .order_by(ResponsibleUnit.code)
        ).all()
        members = teams_of(session, [t.id for t in teams])
        return [
            {"id": t.id, "code": t.code, "name": t.name, "area_code": t.area_code,
             "members": members.get(t.id, [])}
            for t in teams
        ]


__all__ = ["TEAM_KIND", "define_team", "list_teams", "teams_of"]
