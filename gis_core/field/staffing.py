"""Staffing completeness of the 1+1+1+N model per grid: a district inspector (区级督察员),
a street supervisor (街道监督员), a community grid member (社区网格员), plus N helpers
(part-time grid members, volunteers).

Who counts as what comes from the members' units and roles: the district's inspectors are
核查员 of the district centre, assigned to the grid (or an area containing it) in
``field_assignments``, or, without any assignment, covering the whole district; a street
supervisor is a 核查员 of the grid's street office; a grid member is the grid team's 网格长
or 专职网格员; the N are the team's 兼职网格员 and the volunteers registered in the grid's
community. A grid is complete when the first three are all present.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import func, select

from gis_core.standards.codes import ADMIN_CODE_LENGTHS
from gis_core.storage.models.field import Volunteer
from gis_core.storage.protocol import Database

INSPECTOR_ROLE = "核查员"
GRID_MEMBER_ROLES = ("网格长", "专职网格员")
HELPER_ROLES = ("兼职网格员",)
SLOTS = {
    "district_inspector": "区级督察员",
    "street_supervisor": "街道监督员",
    "grid_member": "社区网格员",
    "helpers": "志愿者及兼职网格员（N）",
}


def staffing(
    members: pd.DataFrame, grid_codes: list[str], volunteers: dict[str, int]
) -> pd.DataFrame:
    """One row per grid: counts per slot and ``complete`` (members as ``read_members``)."""
    street_len = ADMIN_CODE_LENGTHS["street"]
    community_len = ADMIN_CODE_LENGTHS["community"]
    inspectors = members[
        (members["unit_kind"] == "district_centre") & (members["role"] == INSPECTOR_ROLE)
    ]
    supervisors = members[
        (members["unit_kind"] == "street_office") & (members["role"] == INSPECTOR_ROLE)
    ]
    team = members[members["unit_kind"] == "grid_team"]
    sup_by_street = supervisors.groupby(supervisors["area_code"].astype(str)).size().to_dict()
    core = team[team["role"].isin(GRID_MEMBER_ROLES)].groupby("area_code").size().to_dict()
    helpers = team[team["role"].isin(HELPER_ROLES)].groupby("area_code").size().to_dict()
    rows: list[dict[str, Any]] = []
    for code in grid_codes:
        n_insp = sum(
            1
            for areas, area in zip(inspectors["areas"], inspectors["area_code"], strict=True)
            if any(code.startswith(a) for a in (areas or [area]))
        )
        row = {
            "code": code,
            "district_inspector": n_insp,
            "street_supervisor": int(sup_by_street.get(code[:street_len], 0)),
            "grid_member": int(core.get(code, 0)),
            "helpers": int(helpers.get(code, 0)) + int(volunteers.get(code[:community_len], 0)),
        }
        row["complete"] = bool(
            row["district_inspector"] and row["street_supervisor"] and row["grid_member"]
        )
        rows.append(row)
    return pd.DataFrame(rows)


def volunteers_by_community(store: Database) -> dict[str, int]:
    v = Volunteer.__table__
    with store.connection(write=False) as conn:
        rows = conn.execute(
            select(v.c.community_code, func.count())
            .where(v.c.community_code.is_not(None))
            .group_by(v.c.community_code)
        ).all()
    return {str(c): int(n) for c, n in rows}
