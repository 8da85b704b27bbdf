"""Working-time deadlines: cost against the length of the limit (issue 14), one run.

An extension of 1e9 working hours once burnt 50 s of CPU inside the write lock, because
deadlines were found by walking day by day. Now whole workdays are skipped with per-year
arrays. This prints, for limits from 1 to 3,000 working days, p50 and p99 ms of
``add_working_time`` and ``working_delta`` beside a day-by-day walk (the peer: the old
algorithm, re-implemented here) measured in the same run, and checks both agree.

    python benchmarks/bench_working_time.py            # ~10 s
"""

from __future__ import annotations

import platform
import time
import warnings
from datetime import datetime, timedelta

import numpy as np
from tabulate import tabulate

from gis_core.cases import calendar as cal


def day_by_day(start: datetime, amount: timedelta) -> datetime:
    """The peer: walk every day's periods until the amount is used up."""
    start = cal.to_local(start)
    remaining, day = amount, start.date()
    while True:
        for lo, hi in cal.DEFAULT_HOURS.periods_on(day):
            lo = max(lo, start)
            if lo >= hi:
                continue
            if remaining <= hi - lo:
                return lo + remaining
            remaining -= hi - lo
        day += timedelta(days=1)


def timed(fn, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return float(np.percentile(times, 50)), float(np.percentile(times, 99))


def main() -> None:
    warnings.simplefilter("ignore", cal.CalendarRangeWarning)
    start = datetime(2026, 3, 2, 10, tzinfo=cal.TZ)
    per_day = cal.DEFAULT_HOURS.per_day
    rows = []
    for days in (1, 30, 300, 3000):
        amount = per_day * days
        new_end = cal.add_working_delta(start, amount)
        assert new_end == day_by_day(start, amount)
        repeat = 200 if days <= 300 else 20
        add = timed(lambda a=amount: cal.add_working_delta(start, a), repeat)
        delta = timed(lambda e=new_end: cal.working_delta(start, e), repeat)
        peer = timed(lambda a=amount: day_by_day(start, a), max(3, repeat // 10))
        rows.append(
            [
                days,
                f"{add[0]:.3f} / {add[1]:.3f}",
                f"{delta[0]:.3f} / {delta[1]:.3f}",
                f"{peer[0]:.3f} / {peer[1]:.3f}",
                f"{peer[0] / max(add[0], 1e-9):.0f}x",
            ]
        )
    print(f"python {platform.python_version()}, {platform.machine()}; shared machine: noisy")
    print(
        tabulate(
            rows,
            headers=[
                "working days",
                "add p50/p99 ms",
                "delta p50/p99 ms",
                "day-by-day p50/p99 ms",
                "speed-up",
            ],
            tablefmt="github",
        )
    )


if __name__ == "__main__":
    main()
