"""scripts/bench_table.py and benchmarks/results.py: recorded rows become the README table."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


bench_table = _load("bench_table_under_test", ROOT / "scripts" / "bench_table.py")
results = _load("bench_results_under_test", ROOT / "benchmarks" / "results.py")

README = """# project

Intro text.

<!-- bench:start -->
| path (script) | gridgov | peer or floor, same run |
|:--|--:|--:|
| old | table | here |
<!-- bench:end -->

After the table.
"""


def _row(path: str, ours: str, peer: str = "peer: 1 req/s") -> dict[str, str]:
    return {"path": path, "gridgov": ours, "peer": peer, "ratio": "2.00x", "goal": ">= 1x"}


@pytest.fixture()
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    out = tmp_path / "results"
    monkeypatch.setenv("GRIDGOV_BENCH_RESULTS", str(out))
    return out


def _run(tmp_path: Path, folder: Path, *extra: str) -> int:
    return bench_table.main(
        ["--readme", str(tmp_path / "README.md"), "--results", str(folder), *extra]
    )


def test_record_writes_rows_date_and_load(folder: Path) -> None:
    path = results.record("province", [_row("bulk locate", "2 M/s")], load="load average 3.0")
    assert path == folder / "province.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["bench"] == "province"
    assert data["load"] == "load average 3.0"
    assert data["rows"] == [_row("bulk locate", "2 M/s")]
    assert data["date"].endswith("UTC")


def test_record_refuses_incomplete_rows(folder: Path) -> None:
    with pytest.raises(ValueError, match="ratio"):
        results.record("api", [{"path": "x", "gridgov": "1", "peer": "2", "goal": "g"}],
                       load="l")
    with pytest.raises(ValueError):
        results.record("api", [], load="l")
    with pytest.raises(ValueError):
        results.record("../evil", [_row("a", "b")], load="l")
    assert not (folder / "api.json").exists()


def test_table_between_markers_in_order_then_check(tmp_path: Path, folder: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(README, encoding="utf-8")
    results.record("zeta", [_row("something new", "5 /s")], load="load Z")
    results.record("province", [_row("bulk locate", "2 M/s")], load="load P")
    results.record("api", [_row("GET /v1/locate | c32", "3,853 req/s")], load="load A")
    assert _run(tmp_path, folder, "--check") == 1  # the old table is stale
    assert _run(tmp_path, folder) == 0
    text = readme.read_text(encoding="utf-8")
    before, rest = text.split("<!-- bench:start -->\n")
    body, after = rest.split("<!-- bench:end -->")
    assert before == README.split("<!-- bench:start -->\n")[0]
    assert after == README.split("<!-- bench:end -->")[1]
    lines = body.splitlines()
    assert lines[0] == "| path (script) | gridgov | peer or floor, same run | ratio | goal |"
    rows = [line for line in lines[2:] if line.startswith("| ")]
    # Known hot paths in the fixed order, unknown benches after them.
    assert [r.split("(`")[1].split("`")[0] for r in rows] == [
        "bench_api.py", "bench_province.py", "bench_zeta.py",
    ]
    assert "GET /v1/locate \\| c32" in rows[0]  # a pipe in a cell does not split it
    assert "| 3,853 req/s | peer: 1 req/s | 2.00x | >= 1x |" in rows[0]
    assert any("`bench_api.py`" in line and "load A" in line and "UTC" in line
               for line in lines)
    assert "old | table" not in text
    assert _run(tmp_path, folder, "--check") == 0
    assert _run(tmp_path, folder) == 0
    assert readme.read_text(encoding="utf-8") == text  # idempotent
    # A new figure makes the README stale again.
    results.record("province", [_row("bulk locate", "3 M/s")], load="load P")
    assert _run(tmp_path, folder, "--check") == 1
    assert readme.read_text(encoding="utf-8") == text  # --check never writes


def test_bad_input_is_a_message_and_exit_2(
    tmp_path: Path, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# no markers\n", encoding="utf-8")
    results.record("api", [_row("a", "b")], load="l")
    assert _run(tmp_path, folder) == 2
    assert "markers" in capsys.readouterr().err
    readme.write_text(README + "<!-- bench:start -->\n", encoding="utf-8")
    assert _run(tmp_path, folder) == 2
    assert "exactly one" in capsys.readouterr().err
    readme.write_text(README, encoding="utf-8")
    (folder / "broken.json").write_text("{not json", encoding="utf-8")
    assert _run(tmp_path, folder) == 2
    assert "broken.json" in capsys.readouterr().err
    (folder / "broken.json").write_text(
        json.dumps({"bench": "broken", "date": "d", "load": "l", "rows": [{"path": "p"}]}),
        encoding="utf-8",
    )
    assert _run(tmp_path, folder) == 2
    assert "row 0 needs keys" in capsys.readouterr().err
    (folder / "broken.json").unlink()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _run(tmp_path, empty) == 2
    assert "no results" in capsys.readouterr().err
    assert readme.read_text(encoding="utf-8") == README  # nothing written on bad input


def test_the_repository_readme_has_one_pair_of_markers() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert text.count(bench_table.START) == 1 and text.count(bench_table.END) == 1
    assert text.index(bench_table.START) < text.index(bench_table.END)
