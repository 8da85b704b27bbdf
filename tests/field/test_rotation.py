"""Rotation plans checked against their constraints, independently of the solver."""

from __future__ import annotations

import csv
import io

import pytest

from gis_core.field.rotation import (
    RotationInfeasible,
    RotationInputError,
    RotationProblem,
    check_plan,
    solve,
    to_csv,
)

STREETS = [f"340111{n:03d}" for n in range(1, 9)]


def test_plan_meets_every_constraint() -> None:
    inspectors = [f"督察{k:02d}" for k in range(11)]
    problem = RotationProblem(
        inspectors=inspectors,
        areas=STREETS,
        periods=6,
        min_gap=2,
        unavailable={"督察00": [0, 1], "督察03": [5]},
        history={"督察01": [STREETS[1], STREETS[0]], "督察02": [STREETS[2]]},
        weights={STREETS[0]: 2.0, STREETS[1]: 1.5},
        time_limit_s=2.0,  # proving optimality takes longer; a feasible plan is checked
    )
    plan = solve(problem)
    rows = plan["assignments"]
    assert check_plan(problem, rows) == []
    # and the same checks, spelled out here:
    for p in range(6):
        in_period = [r for r in rows if r["period"] == p]
        assert sorted(r["area"] for r in in_period) == STREETS  # each area exactly once
        assert len({r["inspector"] for r in in_period}) == len(in_period)  # one area each
    assert not any(r["inspector"] == "督察00" and r["period"] in (0, 1) for r in rows)
    assert not any(r["inspector"] == "督察03" and r["period"] == 5 for r in rows)
    # history: 督察01 was in street 1 last period, street 2 the period before
    assert not any(
        r["inspector"] == "督察01" and r["area"] == STREETS[0] and r["period"] < 2 for r in rows
    )
    assert not any(
        r["inspector"] == "督察01" and r["area"] == STREETS[1] and r["period"] < 1 for r in rows
    )
    # balanced: weights total 8 areas' worth + 1.5 per period over 11 inspectors
    loads = plan["loads"]
    assert max(loads.values()) - min(loads.values()) == plan["explanation"]["load_spread"]
    assert plan["explanation"]["load_spread"] <= 2.0
    assert sum(loads.values()) == pytest.approx((len(STREETS) + 1.5) * 6)
    parsed = list(csv.DictReader(io.StringIO(to_csv(plan))))
    assert len(parsed) == len(rows) and parsed[0].keys() == {"period", "area", "inspector"}


def test_check_plan_catches_violations() -> None:
    problem = RotationProblem(inspectors=["a", "b"], areas=["x"], periods=3, min_gap=1)
    bad = [
        {"period": 0, "area": "x", "inspector": "a"},
        {"period": 1, "area": "x", "inspector": "a"},  # returns at once
    ]
    broken = check_plan(problem, bad)
    assert any("returns" in b for b in broken) and any("period 2" in b for b in broken)


def test_infeasible_says_why() -> None:
    problem = RotationProblem(
        inspectors=["a", "b"], areas=["x", "y"], periods=2, unavailable={"a": [1]}
    )
    with pytest.raises(RotationInfeasible, match=r"periods \[1\]"):
        solve(problem)
    gap = RotationProblem(inspectors=["a", "b"], areas=["x", "y"], periods=3, min_gap=2)
    with pytest.raises(RotationInfeasible):
        solve(gap)


def test_bad_input() -> None:
    with pytest.raises(RotationInputError):
        solve(RotationProblem(inspectors=["a", "a"], areas=["x"], periods=1))
    with pytest.raises(RotationInputError):
        solve(RotationProblem(inspectors=["a"], areas=["x"], periods=1, unavailable={"z": [0]}))
