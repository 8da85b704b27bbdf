"""`gridgov grids ...` on SQLite and PostGIS: exit statuses and what is printed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from gis_core.cli import grids
from gis_core.storage import Store
from tests.planning.planning_data import C1, X0, Y0, grid_frame, seed, write

SPLIT = json.dumps(
    {"code": f"{C1}002", "line": [[X0 + 0.0013, Y0 + 0.0025], [X0 + 0.0013, Y0 + 0.0005]]}
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """SQLite only (overrides the two-backend fixture): the command layer is the same on
    both; tests/planning/test_planning.py runs the storage work on both backends."""
    s = Store(f"sqlite:///{tmp_path / 'cli.sqlite'}")
    s.upgrade()
    yield s
    s.dispose()


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()
    grids.register(app)
    return app


def run(cli: typer.Typer, store: Store, *args: str) -> Result:
    url = store.url.render_as_string(hide_password=False)
    actor = [] if args[0] in ("diff", "list") else ["--actor", "planner1"]
    return CliRunner().invoke(cli, ["grids", *args, "--url", url, *actor], env={"COLUMNS": "200"})


def test_draft_validate_edit_diff_activate_rollback(cli: typer.Typer, store: Store) -> None:
    seed(store)
    r = run(cli, store, "draft", "g2", "--from-active")
    assert r.exit_code == 0, r.output
    assert "6 grids" in r.output
    r = run(cli, store, "edit", "g2", "split", SPLIT, "--version", "1")
    assert r.exit_code == 0, r.output
    assert "340111001001005" in r.output
    r = run(
        cli,
        store,
        "edit",
        "g2",
        "merge",
        json.dumps({"codes": [f"{C1}001", f"{C1}003"]}),
        "--version",
        "1",
    )
    assert r.exit_code == 2 and "version 2, not 1" in r.output
    r = run(cli, store, "validate", "g2")
    assert r.exit_code == 0, r.output
    assert "blocking" in r.output
    r = run(cli, store, "validate", "g2", "--json", "-t", "target_area_m2=5000", "-t", "gap_m2=2")
    assert r.exit_code == 0, r.output
    used = json.loads(r.output)["thresholds"]
    assert used["target_area_m2"] == 5000 and used["gap_m2"] == 2 and used["load_ratio"] == 3
    for bad in ("nosuch=1", "gap_m2=x", "gap_m2"):
        r = run(cli, store, "validate", "g2", "-t", bad)
        assert r.exit_code == 2 and "--threshold" in r.output, r.output
    r = run(cli, store, "diff", "g2")
    assert r.exit_code == 0 and "grids added" in r.output and "340111001001005" in r.output
    r = run(cli, store, "activate", "g2")
    assert r.exit_code == 0, r.output
    assert "g2 is active" in r.output
    r = run(cli, store, "list", "--json")
    states = {g["name"]: g["state"] for g in json.loads(r.output)}
    assert states == {"g1": "retired", "g2": "active"}
    r = run(cli, store, "sweep")
    assert r.exit_code == 0 and "0 open events re-routed" in r.output
    r = run(cli, store, "rollback")
    assert r.exit_code == 0 and "g1 is active" in r.output


def test_blocking_files_and_bad_input_exit_non_zero(
    cli: typer.Typer, store: Store, tmp_path: Path
) -> None:
    seed(store)
    g = grid_frame()
    codes = g["code"].tolist()
    codes[1] = codes[0]
    g["code"] = codes
    dup = write(g, tmp_path / "dup.geojson")
    r = run(cli, store, "validate", str(dup))
    assert r.exit_code == 1 and "duplicate_code" in r.output
    r = run(cli, store, "draft", "dup", "--from", str(dup))
    assert r.exit_code == 0
    r = run(cli, store, "activate", "dup")
    assert r.exit_code == 1 and "duplicate_code" in r.output
    (tmp_path / "x.geojson").write_text("nonsense")
    r = run(cli, store, "draft", "x", "--from", str(tmp_path / "x.geojson"))
    assert r.exit_code == 2 and "nothing stored" in r.output
    r = run(cli, store, "edit", "dup", "split", "{not json")
    assert r.exit_code == 2 and "not JSON" in r.output
    r = run(cli, store, "diff", "nosuch")
    assert r.exit_code == 2 and "no boundary generation" in r.output
