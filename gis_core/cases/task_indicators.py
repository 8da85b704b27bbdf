"""Indicators of calls and follow-ups, pure over rows: response rate and time per
department (街呼区应), and satisfaction (回访满意率).

A call is *responded* once answered or refused; *late* when that came after its deadline;
a call still running past its deadline counts as overdue. Satisfied means 4 or 5.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

SATISFIED_FROM = 4


def _rate(n: int, d: int) -> float | None:
    return None if d == 0 else round(n / d, 4)


def call_indicators(calls: Iterable[Mapping[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """One row per called unit: rows need unit_id, unit_name, status, created_at, done_at,
    deadline_at, on_time."""
    groups: dict[Any, list[Mapping[str, Any]]] = {}
    for c in calls:
        groups.setdefault(c["unit_id"], []).append(c)
    out = []
    for unit_id, rows in sorted(groups.items(), key=lambda kv: str(kv[0])):
        answered = [r for r in rows if r["status"] == "answered"]
        refused = [r for r in rows if r["status"] == "refused"]
        responded = answered + refused
        running = [r for r in rows if r["status"] in ("open", "accepted")]
        late = [r for r in responded if r["on_time"] is False]
        hours = [(r["done_at"] - r["created_at"]).total_seconds() / 3600 for r in responded]
        out.append(
            {
                "unit_id": unit_id,
                "unit_name": rows[0].get("unit_name"),
                "calls": len(rows),
                "answered": len(answered),
                "refused": len(refused),
                "running": len(running),
                "overdue": sum(1 for r in running if r["deadline_at"] and r["deadline_at"] < now),
                "late": len(late),
                "response_rate": _rate(len(responded), len(rows)),
                "on_time_rate": _rate(len(responded) - len(late), len(responded)),
                "mean_response_hours": None if not hours else round(sum(hours) / len(hours), 2),
            }
        )
    return out


def satisfaction(followups: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Follow-ups done: answered, unreachable, mean score, satisfied rate, reopened."""
    rows = list(followups)
    answered = [r for r in rows if r["status"] == "answered" and r["satisfaction"] is not None]
    scores = [int(r["satisfaction"]) for r in answered]
    return {
        "followups": len(rows),
        "answered": len(answered),
        "unreachable": sum(1 for r in rows if r["status"] == "unreachable"),
        "pending": sum(1 for r in rows if r["status"] == "pending"),
        "mean_satisfaction": None if not scores else round(sum(scores) / len(scores), 2),
        "satisfaction_rate": _rate(sum(1 for s in scores if s >= SATISFIED_FROM), len(scores)),
        "reopened": sum(1 for r in rows if r.get("reopened")),
    }
