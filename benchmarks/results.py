"""Benchmark results as files: each script records the rows it contributes to the README.

Every script in `benchmarks/` prints its own full table; besides, it calls `record` with
the row(s) the README's hot-path table shows, so `scripts/bench_table.py` can regenerate
that table from `benchmarks/results/*.json` instead of figures typed in by hand. One file
per script (overwritten by its next run), committed with the code that produced it.
"""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"
"""Where the JSON files live (`benchmarks/results/`); `GRIDGOV_BENCH_RESULTS` overrides."""

ROW_KEYS = ("path", "gridgov", "peer", "ratio", "goal")
"""The keys of one README row: what was measured, our figure, the peer's or floor's
figure with its name, the ratio, and the issue's goal for the row."""


def results_dir() -> Path:
    """The results folder: `GRIDGOV_BENCH_RESULTS` if set (tests, trial runs), else
    `benchmarks/results/`."""
    return Path(os.environ.get("GRIDGOV_BENCH_RESULTS") or RESULTS_DIR)


def check_rows(rows: list[dict]) -> list[dict[str, str]]:
    """Rows as the README needs them: every key of `ROW_KEYS`, each a string.

    Raises ValueError on a missing key or an empty list, so a script cannot silently
    record a row the table cannot show.
    """
    if not rows:
        raise ValueError("no rows to record")
    out = []
    for i, row in enumerate(rows):
        missing = [k for k in ROW_KEYS if k not in row]
        if missing:
            raise ValueError(f"row {i} lacks {', '.join(missing)}")
        out.append({k: str(row[k]) for k in ROW_KEYS})
    return out


def record(bench: str, rows: list[dict], *, load: str) -> Path:
    """Write `benchmarks/results/<bench>.json` with `rows` and the load note; its path.

    `bench` is the script's id (`bench_<bench>.py`); `load` is `serving.load_note()`
    taken when the figures were measured (the machine is shared: figures are noisy).
    """
    if not bench or not bench.replace("_", "").isalnum():
        raise ValueError(f"bench id must be a plain name, not {bench!r}")
    folder = results_dir()
    folder.mkdir(parents=True, exist_ok=True)
    payload = {
        "bench": bench,
        "script": f"benchmarks/bench_{bench}.py",
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load": load,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "rows": check_rows(rows),
    }
    path = folder / f"{bench}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    print(f"recorded {len(rows)} row(s) in {path}")
    return path
