"""Issue 10's "How this will be judged" list, end to end from the CLI on a fresh SQLite
store, with lookups answered by a real two-worker API server (``gridgov serve``):

held-out drafts with an overlap, a gap, a grid crossing its community and duplicate
codes are refused with the right items (validate and activate exit 1); a split passes;
activating it while two threads run lookups gives no error and no answer mixing
generations; the open events in the moved part are re-routed with one history entry
each naming the old and new grid; ``at=`` lookups answer across the change; rollback
is one command, re-routes them back on record, and ``at=`` still answers the past."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pandas as pd
import pytest
import typer
from shapely.geometry import box
from sqlalchemy import select
from typer.testing import CliRunner

from gis_core.cli import grids
from gis_core.storage import Store
from gis_core.storage.models import Event, EventHistory
from tests.planning.planning_data import C1, DISTRICT, X0, Y0, D, grid_frame, parents, write

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "judged planner 1"
POINT = (X0 + 0.0011, Y0 + 0.0015)  # west part of C1 002: a split moves it


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def db(tmp_path: Path) -> Iterator[str]:
    """A fresh SQLite store loaded by the CLI: grids, units, rules, three open events."""
    url = f"sqlite:///{tmp_path / 'judged.sqlite'}"
    g = grid_frame()
    write(g, tmp_path / "grids.geojson")
    units = [{"code": "C0", "name": "区指挥中心", "kind": "district_centre", "area_code": DISTRICT}]
    units += [
        {"code": f"T{c[-4:]}", "name": f"网格{c[-4:]}站", "kind": "grid_team", "area_code": c}
        for c in g["code"]
    ]
    pd.DataFrame(units).to_csv(tmp_path / "units.csv", index=False)
    rules = [{"area_code": c, "unit_code": f"T{c[-4:]}"} for c in g["code"]]
    pd.DataFrame(rules).to_csv(tmp_path / "rules.csv", index=False)
    events = [(POINT[0], POINT[1]), (X0 + 0.0012, Y0 + 0.0018), (X0 + 0.0005, Y0 + 0.0005)]
    pd.DataFrame(
        [
            {
                "source": "12345",
                "category_code": "09006",
                "external_id": f"J{k}",
                "lon": x,
                "lat": y,
            }
            for k, (x, y) in enumerate(events)
        ]
    ).to_csv(tmp_path / "events.csv", index=False)
    env = os.environ | {"PYTHONPATH": str(ROOT), "GRIDGOV_DATABASE_URL": url}
    for args in (
        ["db", "upgrade"],
        ["import", "grids", str(tmp_path / "grids.geojson"), "--generation", "g1", "--activate"],
        ["import", "units", str(tmp_path / "units.csv")],
        ["import", "rules", str(tmp_path / "rules.csv")],
        ["events", "load", str(tmp_path / "events.csv")],
        ["users", "add", "judge", "--role", "planner", "--area", DISTRICT, "--password", PASSWORD],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "gis_core.cli", *args], env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, (args, done.stdout, done.stderr)
    yield url


@pytest.fixture
def server(db: str, tmp_path: Path) -> Iterator[str]:
    """``gridgov serve --workers 2`` on a free port; its base URL."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDGOV_")}
    env |= {
        "PYTHONPATH": str(ROOT),
        "GRIDGOV_DATABASE_URL": db,
        "GRIDGOV_ACTIVE_GENERATION_TTL": "1",
        "GRIDGOV_LOGIN_RATE": "1000/min",
    }
    command = [sys.executable, "-m", "gis_core.cli", "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", "2", "--log-level", "warning"]
    with (tmp_path / "serve.log").open("wb") as log:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        end = time.monotonic() + 120
        while True:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < end, "the server did not start"
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _cli(db: str, *args: str, exit_code: int = 0) -> str:
    app = typer.Typer()
    grids.register(app)
    r = CliRunner().invoke(
        app, ["grids", *args, "--url", db], env={"COLUMNS": "200"}, catch_exceptions=False
    )
    assert r.exit_code == exit_code, r.output
    return r.output


def _held_out(tmp_path: Path) -> dict[str, tuple[Path, str, str]]:
    """Drafts that must be refused: file, the item, a grid it must name."""
    g = grid_frame()
    overlap = g.copy()
    overlap.loc[0, "geometry"] = g.geometry[0].buffer(0.0002, join_style="mitre")
    gap = g.copy()
    gap.loc[1, "geometry"] = box(X0 + D, Y0 + D, X0 + 1.7 * D, Y0 + 2 * D)
    cross = g.copy()  # C1 002 reaches into community 2, whose grid 001 gives way
    cross.loc[1, "geometry"] = box(X0 + D, Y0 + D, X0 + 2.3 * D, Y0 + 2 * D)
    cross.loc[4, "geometry"] = box(X0 + 2.3 * D, Y0 + D, X0 + 3 * D, Y0 + 2 * D)
    dup = g.copy()
    dup.loc[1, "code"] = g.loc[0, "code"]
    return {
        "overlap": (write(overlap, tmp_path / "o.geojson"), "overlap", f"{C1}001"),
        "gap": (write(gap, tmp_path / "g.geojson"), "gap", f"{C1}002"),
        "cross": (write(cross, tmp_path / "c.geojson"), "outside_parent", f"{C1}002"),
        "dup": (write(dup, tmp_path / "d.geojson"), "duplicate_code", f"{C1}001"),
    }


def test_how_this_will_be_judged(db: str, server: str, tmp_path: Path) -> None:
    assert len(parents()["community"]) == 2
    for name, (path, item, grid) in _held_out(tmp_path).items():
        _cli(db, "draft", f"bad-{name}", "--from", str(path))
        out = _cli(db, "validate", f"bad-{name}", exit_code=1)
        assert item in out and grid in out, (name, out)
        out = _cli(db, "activate", f"bad-{name}", exit_code=1)
        assert item in out, (name, out)

    _cli(db, "draft", "g2", "--from-active")
    line = [[X0 + 0.0013, Y0 + 0.0025], [X0 + 0.0013, Y0 + 0.0005]]
    _cli(db, "edit", "g2", "split", json.dumps({"code": f"{C1}002", "line": line}))
    _cli(db, "validate", "g2")

    token = httpx.post(
        f"{server}/v1/auth/token", data={"username": "judge", "password": PASSWORD}
    ).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    where = {"lon": POINT[0], "lat": POINT[1]}
    truth = {
        name: httpx.get(
            f"{server}/v1/locate", params=where | {"generation": name}, headers=auth
        ).json()["grid"]["code"]
        for name in ("g1", "g2")
    }
    assert truth == {"g1": f"{C1}002", "g2": f"{C1}005"}

    stop = threading.Event()
    answers: list[tuple[str, str, str]] = []
    errors: list[str] = []

    def lookups() -> None:
        with httpx.Client(headers=auth, timeout=30) as c:
            while not stop.is_set():
                r = c.get(f"{server}/v1/locate", params=where)
                if r.status_code != 200:
                    errors.append(f"{r.status_code} {r.text[:200]}")
                    continue
                a = r.json()
                answers.append((a["generation"], a["grid"]["code"], a["community"]["code"]))

    threads = [threading.Thread(target=lookups) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        time.sleep(1.5)
        before = datetime.now(UTC)
        time.sleep(0.5)
        out = _cli(db, "activate", "g2")
        assert "2 open events re-routed" in out, out
        time.sleep(2.5)  # the workers see the switch within their 1 s TTL
    finally:
        stop.set()
        for t in threads:
            t.join()
    after = datetime.now(UTC)
    assert errors == []
    assert {a[0] for a in answers} == {"g1", "g2"}, "lookups on both sides of the switch"
    assert all(truth[gen] == grid and grid.startswith(c) for gen, grid, c in answers)
    assert answers[-1][0] == "g2"

    store = Store(db)
    try:
        with store.session(write=False) as s:
            moved = s.execute(
                select(Event.external_id, Event.grid_code, EventHistory.data)
                .join(EventHistory, EventHistory.event_id == Event.id)
                .where(EventHistory.action == "reroute")
            ).all()
        assert sorted(m[0] for m in moved) == ["J0", "J1"]
        assert all(m[1] == f"{C1}005" for m in moved)
        assert all(m[2]["boundary_change"]["grid"] == [f"{C1}002", f"{C1}005"] for m in moved)

        def located(**params: str) -> tuple[str, str]:
            a = httpx.get(f"{server}/v1/locate", params=where | params, headers=auth).json()
            return a["generation"], a["grid"]["code"]

        assert located(at=before.isoformat()) == ("g1", f"{C1}002")
        assert located(at=after.isoformat()) == ("g2", f"{C1}005")

        out = _cli(db, "rollback")
        assert "g1 is active" in out and "2 open events re-routed" in out, out
        time.sleep(2.5)
        assert located() == ("g1", f"{C1}002")
        assert located(at=after.isoformat()) == ("g2", f"{C1}005")  # the past keeps its answer
        with store.session(write=False) as s:
            entries = s.scalars(
                select(EventHistory.data).where(EventHistory.action == "reroute")
            ).all()
        assert len(entries) == 4  # there and back, each on record
        assert store.activation_log()[-1].kind == "rollback"
        assert "g1" in _cli(db, "list")
    finally:
        store.dispose()
