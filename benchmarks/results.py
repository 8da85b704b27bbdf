"""Benchmark rows as JSON next to the scripts (minimal version; bench-infra's is kept at merge).

``record(bench, rows, load=...)`` writes ``benchmarks/results/<bench>.json``, from which
``scripts/bench_table.py`` rebuilds the README's benchmark table.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
KEYS = ("path", "gridgov", "peer", "ratio", "goal")


def record(bench: str, rows: list[dict], *, load: str) -> Path:
    """Write ``rows`` (one per README table row: path, gridgov, peer, ratio, goal) of the
    script ``bench`` with the load note; the file's path."""
    for row in rows:
        missing = [k for k in KEYS if k not in row]
        if missing:
            raise ValueError(f"row {row!r} lacks {', '.join(missing)}")
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{bench}.json"
    doc = {
        "bench": bench,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "load": load,
        "rows": [{k: str(row[k]) for k in KEYS} for row in rows],
    }
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


__all__ = ["record"]
