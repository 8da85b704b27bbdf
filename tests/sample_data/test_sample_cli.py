"""`gridgov sample-data` and `gridgov sample-events`: the generators' one command line."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from gis_core.cli import app, register_commands
from gis_core.sample_data.events import generate_events, write_events

runner = CliRunner()
register_commands()


def test_sample_events_writes_the_seeded_file(sample_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "cli" / "events.parquet"
    args = ["sample-events", "--out", str(out), "--n", "1500", "--year", "2024", "--seed", "5"]
    result = runner.invoke(app, [*args, "--sample-dir", str(sample_dir), "--quiet"])
    assert result.exit_code == 0, result.output
    assert f"wrote {out}: 1500 events" in result.output
    expected = write_events(
        generate_events(sample_dir, n=1500, year=2024, seed=5), tmp_path / "api.parquet"
    )
    assert out.read_bytes() == expected.read_bytes()


def test_sample_events_refuses_no_rows(tmp_path: Path) -> None:
    result = runner.invoke(app, ["sample-events", "--out", str(tmp_path / "e.parquet"), "--n", "0"])
    assert result.exit_code == 2
    assert not (tmp_path / "e.parquet").exists()


def test_sample_data_unknown_district_is_bad_input(tmp_path: Path) -> None:
    result = runner.invoke(app, ["sample-data", "999999", "--out", str(tmp_path), "--quiet"])
    assert result.exit_code == 2
    assert "unknown district code" in result.output
