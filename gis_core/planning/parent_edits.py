"""Edits of a draft's parents: communities and streets, each one undoable step.

Planners redraw parents too. These edits run through ``edits.edit`` (the same plan-row
lock, version check, step record and undo as grid edits) and change only what the
planner asked for: a community's grids keep their outlines, so a grid that no longer
fits its (reshaped) community is what validation then reports (``outside_parent``,
``gap``, ``not_tiling``), as are communities that no longer tile their street. Grids
that move to another community (split, merge, move to another street) are re-coded:
the new codes, and the community's own, go into the renumbering table so rules naming
the old codes can be remapped at activation.

| kind | params |
|---|---|
| ``community_reshape`` | ``code``, ``geometry`` |
| ``community_move_edge`` | ``codes`` (2 neighbours), ``line`` |
| ``community_split`` | ``code``, ``line``: the largest piece keeps the code |
| ``community_merge`` | ``codes`` (≥ 2, adjacent, one street): the smallest code stays |
| ``community_move`` | ``code``, ``street_code``: new code in that street |
| ``street_reshape`` | ``code``, ``geometry`` |
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from gis_core.planning.drafts import COMMUNITY
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
from gis_core.standards.codes import ADMIN_CODE_LENGTHS
from gis_core.storage.models import DraftUnit

STREET = ADMIN_CODE_LENGTHS["street"]


def _grids_of(c: _Change, community: str) -> list[DraftUnit]:
    return [r for r in c.grids if r.code.startswith(community)]


def _community_codes(c: _Change, street: str, n: int) -> list[str]:
    """``n`` free community codes in a street (its next serials)."""
    used = {
        r.code[STREET:]
        for r in c.parents.get("community", [])
        if r.code.startswith(street) and len(r.code) == COMMUNITY
    }
    used |= {a["code"][STREET:] for a in c.added if a["level"] == "community"}
    free = [f"{street}{k:03d}" for k in range(1, 1000) if f"{k:03d}" not in used][:n]
    if len(free) < n:
        raise EditError(f"street {street} has no free community serials left")
    return free


def _recode(c: _Change, grids: list[DraftUnit], community: str, keep_serial: bool) -> None:
    """Move grids into ``community``: their serial kept (an empty new community) or the
    community's next free serials in reading order; each old code goes in the table."""
    if not grids:
        return
    order = renumber_order([_geom(r) for r in grids])
    ordered = [grids[k] for k in order]
    codes = (
        [f"{community}{r.code[COMMUNITY:]}" for r in ordered]
        if keep_serial
        else c.next_codes(community, len(ordered))
    )
    for r, code in zip(ordered, codes, strict=True):
        c.replace(r, _geom(r), code=code, parent_code=community)
        c.renumbered[r.code] = code


def _community_reshape(c: _Change, p: dict[str, Any]) -> None:
    row = c.parent(p.get("code"), "community")
    c.replace(row, polygon(p.get("geometry")))
    c.summary = {"community_reshaped": row.code}


def _street_reshape(c: _Change, p: dict[str, Any]) -> None:
    row = c.parent(p.get("code"), "street")
    c.replace(row, polygon(p.get("geometry")))
    c.summary = {"street_reshaped": row.code}


def _community_move_edge(c: _Change, p: dict[str, Any]) -> None:
    codes = p.get("codes")
    if not isinstance(codes, list) or len(codes) != 2 or codes[0] == codes[1]:
        raise EditError("community_move_edge needs the two neighbouring communities", "codes")
    a, b = (c.parent(code, "community", "codes") for code in codes)
    ga, gb = _geom(a), _geom(b)
    if not ga.intersects(gb):
        raise EditError(f"communities {a.code} and {b.code} do not share an edge", "codes")
    new_a, new_b = moved_edge(ga, gb, _line(p.get("line")), "community")
    c.replace(a, new_a)
    c.replace(b, new_b)
    c.summary = {"community_moved_edge": [a.code, b.code]}


def _largest_overlap(geoms: list[BaseGeometry], pieces: list[BaseGeometry]) -> list[int]:
    """For each geometry, the piece it overlaps most."""
    g = np.asarray(geoms, dtype=object)
    areas = np.column_stack([shapely.area(shapely.intersection(g, piece)) for piece in pieces])
    return [int(k) for k in np.argmax(areas, axis=1)]


def _community_split(c: _Change, p: dict[str, Any]) -> None:
    row = c.parent(p.get("code"), "community")
    pieces = _pieces(_geom(row), _line(p.get("line")))
    if len(pieces) < 2:
        raise EditError(f"the line does not cut community {row.code} in two", "line")
    new_codes = _community_codes(c, row.code[:STREET], len(pieces) - 1)
    c.replace(row, pieces[0])
    for k, (piece, code) in enumerate(zip(pieces[1:], new_codes, strict=True)):
        c.add_like(row, piece, code=code, name=f"{row.name}-{k + 2}")
    grids = _grids_of(c, row.code)
    if grids:
        owner = _largest_overlap([_geom(r) for r in grids], pieces)
        for k, code in enumerate(new_codes, start=1):
            _recode(c, [r for r, o in zip(grids, owner, strict=True) if o == k], code, True)
    c.summary = {"community_split": row.code, "into": [row.code, *new_codes]}


def _community_merge(c: _Change, p: dict[str, Any]) -> None:
    codes = p.get("codes")
    if not isinstance(codes, list) or len(codes) < 2 or len(set(codes)) != len(codes):
        raise EditError("community_merge needs at least two different community codes", "codes")
    rows = [c.parent(code, "community", "codes") for code in codes]
    if len({r.code[:STREET] for r in rows}) > 1:
        raise EditError("the communities belong to different streets: move one first", "codes")
    union = shapely.union_all([_geom(r) for r in rows])
    if len(shapely.get_parts(union)) > 1:
        raise EditError("the communities are not adjacent: their union is not one area", "codes")
    keep = min(rows, key=lambda r: r.code)
    c.removed.extend(rows)
    c.add_like(keep, union)
    for r in rows:
        if r is not keep:
            c.renumbered[r.code] = keep.code
            _recode(c, _grids_of(c, r.code), keep.code, False)
    c.summary = {"community_merged": sorted(codes), "into": keep.code}


def _community_move(c: _Change, p: dict[str, Any]) -> None:
    row = c.parent(p.get("code"), "community")
    street = c.parent(p.get("street_code"), "street", "street_code")
    if row.code.startswith(street.code):
        raise EditError(f"community {row.code} is already in street {street.code}", "street_code")
    old_street = c.parent(row.code[:STREET], "street", "code")
    (code,) = _community_codes(c, street.code, 1)
    outline = _geom(row)
    c.replace(row, outline, code=code, parent_code=street.code)
    c.renumbered[row.code] = code
    rest = shapely.difference(_geom(old_street), outline)
    if rest.is_empty or rest.area < 1e-10:  # (about 1 m²) it held only this community
        c.removed.append(old_street)
    else:
        c.replace(old_street, rest)
    c.replace(street, shapely.union_all([_geom(street), outline]))
    _recode(c, _grids_of(c, row.code), code, True)
    c.summary = {"community_moved": row.code, "to": street.code, "new_code": code}


PARENT_EDITS: dict[str, Callable[[_Change, dict[str, Any]], None]] = {
    "community_reshape": _community_reshape,
    "community_move_edge": _community_move_edge,
    "community_split": _community_split,
    "community_merge": _community_merge,
    "community_move": _community_move,
    "street_reshape": _street_reshape,
}
