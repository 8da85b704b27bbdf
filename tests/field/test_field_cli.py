"""`gridgov field ...` end to end on the seeded store: assignments, loading fixes with
bad rows, the coverage report, a rotation plan written as CSV, a seeded spot-check draw."""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import URL
from typer.testing import CliRunner

from gis_core.cli import app, register_commands
from gis_core.field.members import read_members
from gis_core.storage import Store

runner = CliRunner()


@pytest.fixture(scope="module", autouse=True)
def _commands() -> None:
    register_commands()


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_field_commands(field_db: URL, field_store: Store, tmp_path: Path) -> None:
    url = field_db.render_as_string(hide_password=False)
    m = read_members(field_store)
    member = int(m[m["unit_kind"] == "grid_team"].iloc[60]["id"])
    assignments = tmp_path / "assign.csv"
    assignments.write_text(f"member,area_code\n{member},340111003\n", encoding="utf-8")
    assert "1 assignment(s) stored" in _run("field", "assign", str(assignments), "--url", url)
    assert read_members(field_store).set_index("id").loc[member, "areas"] == ["340111003"]

    day = (datetime.now(UTC) - timedelta(days=3)).date()
    start = datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)
    rows = [
        f"{member},{(start + timedelta(seconds=10 * i)).isoformat()},{117.30 + 1e-5 * i},31.80"
        for i in range(100)
    ]
    rows.append(f"{member},not-a-time,117.3,31.8")
    fixes = tmp_path / "fixes.csv"
    fixes.write_text("member,time,lon,lat\n" + "\n".join(rows) + "\n", encoding="utf-8")
    output = _run("field", "load", str(fixes), "--url", url)
    assert '"accepted": 100' in output and '"invalid_time": 1' in output
    assert '"duplicates": 100' in _run("field", "load", str(fixes), "--url", url)

    report = tmp_path / "members.csv"
    _run(
        "field",
        "coverage",
        "--date",
        day.isoformat(),
        "--by",
        "member",
        "--url",
        url,
        "--out",
        str(report),
    )
    got = {int(r["member_id"]): r for r in csv.DictReader(report.open(encoding="utf-8"))}
    assert float(got[member]["minutes"]) == pytest.approx(99 * 10 / 60, abs=0.01)

    # the loaded day is marked changed; coverage-refresh stores it (what the API reads)
    stored = _run("field", "coverage-refresh", "--url", url)
    assert re.search(rf"{day.isoformat()}\s+\d+ fixes", stored) and "day(s) stored" in stored
    assert "0 day(s) stored" in _run("field", "coverage-refresh", "--url", url)

    plan = tmp_path / "plan.csv"
    out = _run(
        "field",
        "rotation",
        "--inspectors",
        "甲,乙,丙,丁",
        "--areas",
        "340111001,340111002,340111003",
        "--periods",
        "4",
        "--min-gap",
        "2",
        "--unavailable",
        "甲:0",
        "--url",
        url,
        "--out",
        str(plan),
    )
    assert "rotation plan #" in out
    rows = list(csv.DictReader(plan.open(encoding="utf-8")))
    assert len(rows) == 12 and not any(r["inspector"] == "甲" and r["period"] == "0" for r in rows)

    first = _run(
        "field", "spot-check", "--period", "2026-11", "--seed", "42", "--n", "5", "--url", url
    )
    again = _run(
        "field", "spot-check", "--period", "2026-11", "--seed", "42", "--n", "5", "--url", url
    )
    assert first.splitlines()[:5] == again.splitlines()[:5]
    assert "0 new check(s)" in again


def test_cli_errors(field_db: URL, tmp_path: Path) -> None:
    url = field_db.render_as_string(hide_password=False)
    bad = tmp_path / "bad.csv"
    bad.write_text("member,area_code\nnobody,340111001\n", encoding="utf-8")
    result = runner.invoke(app, ["field", "assign", str(bad), "--url", url])
    assert result.exit_code == 2 and "nobody" in result.output
    result = runner.invoke(
        app, ["field", "rotation", "--inspectors", "a", "--areas", "x,y", "--url", url]
    )
    assert result.exit_code == 2 and "fewer available inspectors" in result.output
