"""Benchmark rows for the README table: each script records its rows here (minimal
version; the lead keeps bench-infra's at merge)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def record(bench: str, rows: list[dict], *, load: str) -> Path:
    """Write ``benchmarks/results/<bench>.json`` (rows with path, gridgov, peer, ratio,
    goal) and return its path."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{bench}.json"
    doc = {"bench": bench, "at": datetime.now(UTC).isoformat(), "load": load, "rows": rows}
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


__all__ = ["record"]
