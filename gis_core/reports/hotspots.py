"""Hotspots and recurrent problems as simple grouped counts over the period's events.

A placeholder-free first version the analytics package (issue 11) can replace: the report
calls :func:`hotspots` and :func:`recurrent` only, with a frame of the period's events
(``grid_code``, ``category_code`` columns).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

TOP = 10
RECURRENT_MIN = 3
"""A grid reporting one class this many times in the period is a recurrent problem."""


def hotspots(frame: pd.DataFrame, top: int = TOP) -> list[dict[str, Any]]:
    """The grids with the most events, most first (ties by code)."""
    located = frame.dropna(subset=["grid_code"])
    counts = located.groupby("grid_code").size().rename("events").reset_index()
    counts = counts.sort_values(["events", "grid_code"], ascending=[False, True]).head(top)
    return counts.to_dict("records")


def recurrent(frame: pd.DataFrame, at_least: int = RECURRENT_MIN) -> list[dict[str, Any]]:
    """(grid, class) pairs reported at least ``at_least`` times, most first."""
    located = frame.dropna(subset=["grid_code", "category_code"])
    counts = located.groupby(["grid_code", "category_code"]).size().rename("events").reset_index()
    counts = counts[counts["events"] >= at_least]
    counts = counts.sort_values(
        ["events", "grid_code", "category_code"], ascending=[False, True, True]
    )
    return counts.to_dict("records")
