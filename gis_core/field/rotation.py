"""Rotation of inspectors across areas (定期轮岗), solved by OR-Tools CP-SAT.

For the next ``periods`` periods, every area gets exactly one inspector per period, an
inspector has at most one area per period and none in their unavailable periods, nobody
returns to an area within ``min_gap`` periods (counting the history before the plan), and
the workloads (sum of the areas' weights over the plan) are balanced: the solver
minimises the spread between the heaviest and the lightest load, then the number of
inspectors staying on one area for consecutive periods.

:func:`check_plan` re-checks a plan against the constraints independently of the solver;
the API stores every solved plan with its explanation (``field_rotation_plans``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ortools.sat.python import cp_model

MAX_INSPECTORS = 200
MAX_AREAS = 200
MAX_PERIODS = 52


class RotationInputError(ValueError):
    """A rotation request that cannot be a problem (empty, repeated or unknown names)."""

    field = "body"


class RotationInfeasible(ValueError):
    """No plan meets the constraints (the message says which are too tight)."""

    field = "constraints"


@dataclass
class RotationProblem:
    inspectors: list[str]
    areas: list[str]
    periods: int
    min_gap: int = 1
    """After serving area A in period p, not A again before period p + min_gap + 1."""
    unavailable: dict[str, list[int]] = field(default_factory=dict)
    """Inspector -> periods (0-based) they cannot serve."""
    history: dict[str, list[str]] = field(default_factory=dict)
    """Inspector -> areas of the periods just before the plan, most recent last."""
    weights: dict[str, float] = field(default_factory=dict)
    """Area -> workload weight per period (default 1), e.g. its monthly case count."""
    time_limit_s: float = 10.0

    def validate(self) -> None:
        if not self.inspectors or not self.areas:
            raise RotationInputError("inspectors and areas must not be empty")
        if len(set(self.inspectors)) != len(self.inspectors):
            raise RotationInputError("inspectors repeat")
        if len(set(self.areas)) != len(self.areas):
            raise RotationInputError("areas repeat")
        if len(self.inspectors) > MAX_INSPECTORS or len(self.areas) > MAX_AREAS:
            raise RotationInputError(f"at most {MAX_INSPECTORS} inspectors and {MAX_AREAS} areas")
        if not 1 <= self.periods <= MAX_PERIODS:
            raise RotationInputError(f"periods must be 1..{MAX_PERIODS}")
        if not 0 <= self.min_gap < MAX_PERIODS:
            raise RotationInputError("min_gap must be >= 0")
        for who, periods in self.unavailable.items():
            if who not in self.inspectors:
                raise RotationInputError(f"unavailable names an unknown inspector {who!r}")
            if any(not 0 <= p < self.periods for p in periods):
                raise RotationInputError(
                    f"unavailable periods of {who!r} must be 0..{self.periods - 1}"
                )
        for who, areas in self.history.items():
            if who not in self.inspectors:
                raise RotationInputError(f"history names an unknown inspector {who!r}")
            if any(a not in self.areas for a in areas):
                raise RotationInputError(f"history of {who!r} names an unknown area")

    def weight(self, area: str) -> int:
        return round(100 * float(self.weights.get(area, 1.0)))


def solve(problem: RotationProblem) -> dict[str, Any]:
    """A plan: ``{"assignments": [{"period", "area", "inspector"}], "loads", "explanation"}``."""
    problem.validate()
    insp, areas, periods = problem.inspectors, problem.areas, problem.periods
    model = cp_model.CpModel()
    x = {
        (i, a, p): model.new_bool_var(f"x_{i}_{a}_{p}")
        for i in range(len(insp))
        for a in range(len(areas))
        for p in range(periods)
    }
    for a in range(len(areas)):
        for p in range(periods):
            model.add_exactly_one(x[i, a, p] for i in range(len(insp)))
    for i, who in enumerate(insp):
        off = set(problem.unavailable.get(who, ()))
        for p in range(periods):
            cell = [x[i, a, p] for a in range(len(areas))]
            if p in off:
                model.add(sum(cell) == 0)
            else:
                model.add_at_most_one(cell)
        past = problem.history.get(who, [])
        for a, area in enumerate(areas):
            for p in range(periods):  # a window of min_gap + 1 consecutive periods
                window = [x[i, a, q] for q in range(p, min(p + problem.min_gap + 1, periods))]
                if len(window) > 1:
                    model.add_at_most_one(window)
            for back, prev in enumerate(reversed(past)):  # back 0 = the period just before
                if prev == area:
                    for p in range(max(0, problem.min_gap - back)):
                        model.add(x[i, a, p] == 0)
    horizon = sum(problem.weight(a) for a in areas) * periods
    loads = []
    for i in range(len(insp)):
        load = model.new_int_var(0, horizon, f"load_{i}")
        model.add(
            load
            == sum(
                problem.weight(areas[a]) * x[i, a, p]
                for a in range(len(areas))
                for p in range(periods)
            )
        )
        loads.append(load)
    top, bottom = model.new_int_var(0, horizon, "top"), model.new_int_var(0, horizon, "bottom")
    model.add_max_equality(top, loads)
    model.add_min_equality(bottom, loads)
    model.minimize(top - bottom)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = problem.time_limit_s
    solver.parameters.num_workers = 2
    solver.parameters.random_seed = 0
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise RotationInfeasible(_why_infeasible(problem))
    rows = [
        {"period": p, "area": areas[a], "inspector": insp[i]}
        for p in range(periods)
        for a in range(len(areas))
        for i in range(len(insp))
        if solver.value(x[i, a, p])
    ]
    load_of = {who: solver.value(loads[i]) / 100 for i, who in enumerate(insp)}
    explanation = {
        "solver": "OR-Tools CP-SAT",
        "status": solver.status_name(status),
        "optimal": status == cp_model.OPTIMAL,
        "objective": "minimise the spread between the heaviest and lightest workload",
        "load_spread": solver.value(top - bottom) / 100,
        "constraints": [
            f"每期每个区域恰好一名督察员（{len(areas)} 个区域 × {periods} 期）",
            "每名督察员每期至多一个区域",
            f"同一区域 {problem.min_gap} 期内不重复派驻（含计划前的历史）",
            f"不可用时段：{sum(len(v) for v in problem.unavailable.values())} 人期",
        ],
        "wall_time_s": round(solver.wall_time, 3),
    }
    return {"assignments": rows, "loads": load_of, "explanation": explanation}


def _why_infeasible(problem: RotationProblem) -> str:
    need = len(problem.areas)
    short = [
        p
        for p in range(problem.periods)
        if sum(1 for who in problem.inspectors if p not in problem.unavailable.get(who, ())) < need
    ]
    if short:
        return f"periods {short} have fewer available inspectors than the {need} areas"
    if (
        len(problem.inspectors) < need * min(problem.min_gap + 1, problem.periods)
        and problem.min_gap
    ):
        return (
            f"min_gap {problem.min_gap} needs more inspectors: each area needs a different one"
            f" in every {problem.min_gap + 1} consecutive periods"
        )
    return "the constraints admit no plan (history and unavailable periods conflict)"


def check_plan(problem: RotationProblem, assignments: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every constraint the plan breaks (empty = a valid plan); independent of the solver."""
    problems: list[str] = []
    cell: dict[tuple[int, str], list[str]] = {}
    served: dict[tuple[str, int], list[str]] = {}
    for row in assignments:
        cell.setdefault((row["period"], row["area"]), []).append(row["inspector"])
        served.setdefault((row["inspector"], row["period"]), []).append(row["area"])
    for p in range(problem.periods):
        for a in problem.areas:
            if len(cell.get((p, a), [])) != 1:
                problems.append(f"period {p} area {a}: {len(cell.get((p, a), []))} inspectors")
    for (who, p), got in served.items():
        if len(got) > 1:
            problems.append(f"{who} has {len(got)} areas in period {p}")
        if p in problem.unavailable.get(who, ()):
            problems.append(f"{who} is unavailable in period {p}")
    for who in problem.inspectors:
        timeline = list(problem.history.get(who, []))
        offset = len(timeline)
        timeline += [None] * problem.periods
        for (w, p), got in served.items():
            if w == who:
                timeline[offset + p] = got[0]
        for k, area in enumerate(timeline):
            if area is None:
                continue
            for j in range(k + 1, min(k + problem.min_gap + 1, len(timeline))):
                if timeline[j] == area:
                    problems.append(f"{who} returns to {area} within {problem.min_gap} periods")
    return problems


def to_csv(plan: Mapping[str, Any]) -> str:
    """The plan as CSV: period, area, inspector (UTF-8, header row)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["period", "area", "inspector"])
    for row in plan["assignments"]:
        w.writerow([row["period"], row["area"], row["inspector"]])
    return buf.getvalue()
