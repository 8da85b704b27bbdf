"""Edits of communities and streets on a draft, on SQLite and PostGIS: each is one
version-checked, undoable step; grids that no longer fit their parent are reported by
validation; grids moving to another community are re-coded into the renumbering table."""

from __future__ import annotations

from pathlib import Path

import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import box, mapping

from api.app import create_app
from api.settings import ApiSettings
from gis_core.auth import Accounts
from gis_core.planning import checking, drafts, edits
from gis_core.storage import Store
from tests.planning.planning_data import C1, C2, STREET, X0, Y0, D, grid_frame, seed, write


def _codes(store: Store, gen: int, level: str = "grid") -> set[str]:
    return set(store.read_draft(gen, level)["code"])


def _blocking(store: Store, gen: int) -> dict[str, set[str]]:
    report = checking.report_for(store, drafts.load_draft(store, gen))
    out: dict[str, set[str]] = {}
    for item in report.items:
        if item.severity == "blocking":
            out.setdefault(item.code, set()).update(item.grids)
    return out


def test_move_community_edge_reports_crossing_grids_and_undoes(store: Store) -> None:
    seed(store)
    gen = drafts.create_draft(store, "p1", from_active=True)
    edge = [[X0 + 1.5 * D, Y0 + 2.5 * D], [X0 + 1.5 * D, Y0 - 0.5 * D]]
    step = edits.edit(
        store, gen, "community_move_edge", {"codes": [C1, C2], "line": edge}, expected_version=1
    )
    assert step["version"] == 2 and step["summary"] == {"community_moved_edge": [C1, C2]}
    c = store.read_draft(gen, "community").set_index("code").geometry
    assert c[C1].equals(box(X0, Y0, X0 + 1.5 * D, Y0 + 2 * D))
    assert c[C2].equals(box(X0 + 1.5 * D, Y0, X0 + 3 * D, Y0 + 2 * D))
    blocking = _blocking(store, gen)
    # The east column of community 1 (grids 002 and 004) now crosses into community 2.
    assert blocking["outside_parent"] == {f"{C1}002", f"{C1}004"}
    assert {f"{C1}002", f"{C1}004"} <= blocking["not_tiling"]
    # Stale and bad edits are refused, nothing applied.
    with pytest.raises(edits.StaleDraft):
        edits.edit(
            store, gen, "community_reshape", {"code": C1, "geometry": {}}, expected_version=1
        )
    with pytest.raises(edits.EditError) as bad:
        edits.edit(store, gen, "community_move_edge", {"codes": [C1, "340111001009"], "line": edge})
    assert bad.value.field == "codes"
    edits.undo(store, gen, expected_version=2)
    assert _blocking(store, gen) == {}


def test_reshape_community_and_street(store: Store) -> None:
    seed(store)
    gen = drafts.create_draft(store, "p2", from_active=True)
    smaller = mapping(box(X0, Y0, X0 + 2 * D, Y0 + 1.5 * D))
    edits.edit(store, gen, "community_reshape", {"code": C1, "geometry": smaller})
    blocking = _blocking(store, gen)
    assert blocking["outside_parent"] == {f"{C1}001", f"{C1}002"}  # the north row
    assert C1 in blocking["not_tiling"]  # community 1 no longer tiles the street
    edits.undo(store, gen)
    wider = mapping(box(X0, Y0, X0 + 4 * D, Y0 + 2 * D))
    edits.edit(store, gen, "street_reshape", {"code": STREET, "geometry": wider})
    blocking = _blocking(store, gen)
    assert "gap" in blocking and STREET not in _codes(store, gen, "grid")
    gaps = [i for i in checking.report_for(store, drafts.load_draft(store, gen)).items]
    assert any(i.code == "gap" and STREET in i.message for i in gaps)


def test_split_and_merge_communities_recode_their_grids(store: Store) -> None:
    seed(store)
    gen = drafts.create_draft(store, "p3", from_active=True)
    cut = [[X0 - 0.5 * D, Y0 + D], [X0 + 2.5 * D, Y0 + D]]
    step = edits.edit(store, gen, "community_split", {"code": C1, "line": cut})
    new = f"{STREET}003"
    assert step["summary"] == {"community_split": C1, "into": [C1, new]}
    assert _codes(store, gen, "community") == {C1, C2, new}
    grids = _codes(store, gen)
    moved = {f"{C1}001", f"{C1}002"} & grids  # one row stays, the other moves
    assert len(moved) in (0, 2) and len(grids) == 6
    table = drafts.load_draft(store, gen).renumbering
    assert len(table) == 2 and all(v.startswith(new) for v in table.values())
    assert _blocking(store, gen) == {}  # the grids tile both halves

    step = edits.edit(store, gen, "community_merge", {"codes": [new, C1]})
    assert step["summary"] == {"community_merged": sorted([new, C1]), "into": C1}
    assert _codes(store, gen, "community") == {C1, C2}
    assert all(c.startswith((C1, C2)) for c in _codes(store, gen))
    assert _blocking(store, gen) == {}
    with pytest.raises(edits.EditError, match="not adjacent"):
        far = drafts.create_draft(store, "p3b", from_active=True)
        edits.edit(
            store,
            far,
            "community_reshape",
            {"code": C2, "geometry": mapping(box(X0 + 5 * D, Y0, X0 + 6 * D, Y0 + D))},
        )
        edits.edit(store, far, "community_merge", {"codes": [C1, C2]})
    edits.undo(store, gen)
    edits.undo(store, gen)
    assert _codes(store, gen) == set(grid_frame()["code"])
    assert drafts.load_draft(store, gen).renumbering == {}


def test_move_community_to_another_street(store: Store, tmp_path: Path) -> None:
    """Without an active generation the parents come from the code prefixes: community 2
    sits alone in street 340111002; moving it to street 340111001 re-codes it and its
    grids, widens that street and drops the emptied one."""
    g = grid_frame()
    other = "340111002001"
    g["code"] = [c if c.startswith(C1) else other + c[12:] for c in g["code"]]
    gen = drafts.create_draft(store, "p4", path=write(g, tmp_path / "two.geojson"))
    assert _codes(store, gen, "street") == {STREET, "340111002"}
    with pytest.raises(edits.EditError) as bad:
        edits.edit(store, gen, "community_move", {"code": C1, "street_code": STREET})
    assert bad.value.field == "street_code"
    step = edits.edit(store, gen, "community_move", {"code": other, "street_code": STREET})
    assert step["summary"]["new_code"] == C2
    assert _codes(store, gen, "street") == {STREET}
    assert _codes(store, gen) == set(grid_frame()["code"])
    street = store.read_draft(gen, "street").geometry.iloc[0]
    assert abs(street.area - shapely.union_all(grid_frame().geometry).area) < 1e-12
    assert drafts.load_draft(store, gen).renumbering[other] == C2
    assert _blocking(store, gen) == {}


def test_parent_edits_over_http(store: Store) -> None:
    seed(store)
    Accounts(store).add_user("pe", "planner password 1", "planner", "340111")
    url = store.url.render_as_string(hide_password=False)
    with TestClient(create_app(ApiSettings(_env_file=None, database_url=url))) as c:
        r = c.post("/v1/auth/token", data={"username": "pe", "password": "planner password 1"})
        c.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
        gen = c.post("/v1/generations", data={"name": "p5", "from_active": "true"}).json()
        base = f"/v1/generations/{gen['id']}"
        cut = [[X0 - 0.5 * D, Y0 + D], [X0 + 2.5 * D, Y0 + D]]
        body = {"kind": "community_split", "params": {"code": C1, "line": cut}}
        r = c.post(f"{base}/edits", json=body | {"expected_version": 1})
        assert r.status_code == 200 and r.json()["version"] == 2, r.text
        r = c.post(f"{base}/edits", json=body | {"expected_version": 1})
        assert r.status_code == 409
        r = c.post(f"{base}/edits", json={"kind": "community_move", "params": {"code": C1}})
        assert r.status_code == 422 and r.json()["field"] == "street_code", r.text
        r = c.post(f"{base}/validate", params={"background": "false"})
        assert r.status_code == 200 and r.json()["blocking"] is False
        assert c.post(f"{base}/undo", json={"expected_version": 2}).status_code == 200
