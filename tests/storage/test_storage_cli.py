"""`gridgov db ...` and `gridgov import ...`: reports, exit codes, no tracebacks."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import typer
from sqlalchemy import URL
from storage_data import make_grids
from typer.testing import CliRunner

from gis_core.cli import db
from gis_core.storage import Store


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()
    db.register(app)
    return app


def _url(db_url: URL) -> str:
    return db_url.render_as_string(hide_password=False)


def test_upgrade_info_and_import(cli: typer.Typer, db_url: URL, tmp_path: Path) -> None:
    runner = CliRunner()
    url = _url(db_url)
    result = runner.invoke(cli, ["db", "upgrade", "--url", url])
    assert result.exit_code == 0, result.output
    assert Store(url).head_revision() in result.output  # it names the revision reached
    result = runner.invoke(cli, ["db", "upgrade", "--url", url])
    assert result.exit_code == 0 and "already at revision" in result.output

    grids = make_grids()
    grids.loc[0, "code"] = "12345"
    path = tmp_path / "grids.geojson"
    grids.to_file(path)
    result = runner.invoke(
        cli, ["import", "grids", str(path), "--url", url, "--generation", "v1", "--activate"]
    )
    assert result.exit_code == 0, result.output
    assert "accepted" in result.output and "15" in result.output
    assert "is not 15 digits" in result.output

    result = runner.invoke(cli, ["db", "info", "--url", url])
    assert result.exit_code == 0, result.output
    for text in ("admin_units", "v1", "up to date"):
        assert text in result.output


def test_import_failures_exit_non_zero_without_traceback(
    cli: typer.Typer, db_url: URL, tmp_path: Path
) -> None:
    runner = CliRunner()
    url = _url(db_url)
    assert runner.invoke(cli, ["db", "upgrade", "--url", url]).exit_code == 0
    cases: list[list[str]] = []
    missing = tmp_path / "missing.geojson"
    cases.append(["import", "grids", str(missing), "--url", url])
    garbage = tmp_path / "garbage.geojson"
    garbage.write_text("not geojson at all")
    cases.append(["import", "grids", str(garbage), "--url", url])
    all_bad = tmp_path / "units.csv"
    pd.DataFrame({"code": ["A"], "name": ["a"], "kind": ["nonsense"]}).to_csv(all_bad, index=False)
    cases.append(["import", "units", str(all_bad), "--url", url])
    cases.append(["import", "grids", str(garbage), "--url", url, "--crs", "EPSG:1"])
    for args in cases:
        result = runner.invoke(cli, args)
        assert result.exit_code != 0, args
        assert result.exception is None or isinstance(result.exception, SystemExit), args
        assert "Traceback" not in result.output
    result = runner.invoke(cli, ["import", "units", str(all_bad), "--url", url])
    assert "unknown kind 'nonsense'" in result.output


def test_commands_on_a_database_that_does_not_exist(cli: typer.Typer, tmp_path: Path) -> None:
    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'nothing.sqlite'}"
    path = tmp_path / "grids.geojson"
    make_grids().to_file(path)
    result = runner.invoke(cli, ["import", "grids", str(path), "--url", url])
    assert result.exit_code == 2 and "gridgov db upgrade" in result.output
    result = runner.invoke(cli, ["db", "info", "--url", url])
    assert result.exit_code == 1 and "does not exist" in result.output
    assert not (tmp_path / "nothing.sqlite").exists()
    result = runner.invoke(cli, ["db", "info", "--url", "mysql://x@y/z"])
    assert result.exit_code == 2 and "unsupported database" in result.output
