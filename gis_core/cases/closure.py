"""Closure standards (结案标准): what must be on record before a case may be verified or
closed, checked over plain facts so the rule is the same wherever the facts come from.

The matter catalogue says what a class requires (a photo after handling, a measured value,
a site check by a grid member, at least one co-handling unit); any co-task still running
blocks verification and closing whatever the class. :class:`ClosureRefused` is a
``StatusError`` (HTTP 409) that lists what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass

from gis_core.cases.errors import StatusError
from gis_core.cases.vocab import CLOSURE_LABELS, Action


@dataclass(frozen=True)
class ClosureStandard:
    """What one event class requires before closing (all False: only running co-tasks)."""

    after_photo: bool = False
    measurement: bool = False
    site_check: bool = False
    co_unit: bool = False


@dataclass(frozen=True)
class CaseFacts:
    """What is on record for one case."""

    after_photos: int = 0
    measured: bool = False
    site_checked: bool = False
    running_co_tasks: tuple[int, ...] = ()
    finished_co_tasks: int = 0  # handled co-tasks


class ClosureRefused(StatusError):
    """Verification or closing refused: ``missing`` names each unmet requirement."""

    def __init__(self, message: str, missing: list[str], action: Action) -> None:
        super().__init__(message, status=None, action=action, role=None)
        self.missing = missing
        self.problem_extra = {"missing": missing}


def missing_for(action: Action, standard: ClosureStandard, facts: CaseFacts) -> list[str]:
    """Unmet requirements for ``action``: verification waits for co-tasks only; closing
    checks the whole standard."""
    missing: list[str] = []
    if facts.running_co_tasks:
        missing.append("co_tasks_done")
    if action is not Action.CLOSE:
        return missing
    if standard.co_unit and facts.finished_co_tasks == 0 and not facts.running_co_tasks:
        missing.append("co_unit")
    if standard.after_photo and facts.after_photos == 0:
        missing.append("after_photo")
    if standard.measurement and not facts.measured:
        missing.append("measurement")
    if standard.site_check and not facts.site_checked:
        missing.append("site_check")
    return missing


def check_closure(action: Action, standard: ClosureStandard, facts: CaseFacts) -> None:
    """Raise :class:`ClosureRefused` when ``action`` (verify_pass or close) may not happen."""
    missing = missing_for(action, standard, facts)
    if not missing:
        return
    parts = [f"{m} ({CLOSURE_LABELS[m]})" for m in missing]
    if facts.running_co_tasks:
        ids = ", ".join(str(i) for i in facts.running_co_tasks)
        parts[0] += f": co-task(s) {ids} still open"
    raise ClosureRefused(
        f"{action.value} ({action.label}) refused: missing " + "; ".join(parts),
        missing,
        action,
    )


__all__ = ["CaseFacts", "ClosureRefused", "ClosureStandard", "check_closure", "missing_for"]
