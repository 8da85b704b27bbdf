"""Benchmark results as files (minimal version; bench-infra's full one replaces it at
merge): ``record`` writes ``benchmarks/results/<bench>.json`` with the README rows."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"
ROW_KEYS = ("path", "gridgov", "peer", "ratio", "goal")


def record(bench: str, rows: list[dict], *, load: str) -> Path:
    """Write ``benchmarks/results/<bench>.json`` (``GRIDGOV_BENCH_RESULTS`` overrides the
    folder) with ``rows`` (each with every key of ``ROW_KEYS``) and the load note."""
    if not rows or any(k not in row for row in rows for k in ROW_KEYS):
        raise ValueError(f"rows need {', '.join(ROW_KEYS)}")
    folder = Path(os.environ.get("GRIDGOV_BENCH_RESULTS") or RESULTS_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    payload = {
        "bench": bench,
        "script": f"benchmarks/bench_{bench}.py",
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load": load,
        "rows": [{k: str(row[k]) for k in ROW_KEYS} for row in rows],
    }
    path = folder / f"{bench}.json"
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"recorded {len(rows)} row(s) in {path}")
    return path
