"""Emerging hot spots: a planted rising trend is an emerging hot spot, a flat area shows
no pattern; the vectorised Mann-Kendall equals pymannkendall."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pymannkendall
import pytest

from gis_core.analytics import emerging_hotspots, prepare_events, unit_set
from gis_core.analytics.emerging import _classify
from gis_core.analytics.trend import mann_kendall
from tests.analytics.synthetic import cell_code, events_from_counts, lattice

N = 16
RISING = [(r, c) for r in (2, 3) for c in (2, 3)]
MONTHS = 12


@pytest.fixture(scope="module")
def result():
    grids = lattice(N)
    rng = np.random.default_rng(2025)
    frames = []
    for m in range(MONTHS):
        counts = rng.poisson(4, size=(N, N))
        for r, c in RISING:  # 4 a month in January, about 40 in December
            counts[r, c] = rng.poisson(4 + 36 * m / (MONTHS - 1))
        start = pd.Timestamp(2025, m + 1, 1, tz="Asia/Shanghai")
        frames.append(events_from_counts(rng, counts, start, days=start.days_in_month - 1))
    events = prepare_events(pd.concat(frames, ignore_index=True))
    return emerging_hotspots(events, unit_set("grid", grids), step="month")


def test_planted_rising_trend_is_an_emerging_hot_spot(result):
    t = result.table.set_index("unit")
    assert len(result.steps) == MONTHS and result.steps[0] == "2025-01"
    emerging = {"new hot spot", "consecutive hot spot", "intensifying hot spot"}
    for r, c in RISING:
        row = t.loc[cell_code(r, c)]
        assert row["category"] in emerging, (r, c, row["category"])
        assert row["trend"] == "increasing"
        assert result.significant[-1, list(t.index).index(cell_code(r, c))]


def test_flat_area_is_no_pattern(result):
    t = result.table.set_index("unit")
    far = [cell_code(r, c) for r in range(8, N) for c in range(8, N)]
    cats = t.loc[far, "category"]
    assert (cats == "no pattern").mean() >= 0.97, cats.value_counts()
    assert result.params["alpha"] == 0.10 and result.params["time_window"] == 1


def test_categories_follow_the_documented_rules():
    steps = 10
    hot = np.zeros((steps, 9), dtype=bool)
    cold = np.zeros((steps, 9), dtype=bool)
    trend = np.zeros(9, dtype=np.int8)
    hot[-1, 0] = True  # new
    hot[-3:, 1] = True  # consecutive
    hot[:, 2] = True
    trend[2] = 1  # intensifying
    hot[:, 3] = True  # persistent
    hot[:, 4] = True
    trend[4] = -1  # diminishing
    hot[[2, 5, 9], 5] = True  # sporadic
    hot[[6, 9], 6] = True
    cold[2, 6] = True  # oscillating
    hot[:-1, 7] = True  # historical
    cold[:, 8] = True  # persistent cold
    got = [p + " " + k if p else "none" for p, k in _classify(hot, cold, trend)]
    assert got == ["new hot", "consecutive hot", "intensifying hot", "persistent hot",
                   "diminishing hot", "sporadic hot", "oscillating hot", "historical hot",
                   "persistent cold"]


def test_mann_kendall_equals_pymannkendall():
    rng = np.random.default_rng(7)
    series = np.vstack([
        rng.normal(size=(40, 12)),
        rng.integers(0, 3, size=(40, 12)).astype(float),  # many ties
        np.arange(12.0)[None, :] + rng.normal(0, 0.5, size=(5, 12)),
    ])
    ours = mann_kendall(series, alpha=0.05)
    for i, row in enumerate(series):
        ref = pymannkendall.original_test(row, alpha=0.05)
        assert ours.s[i] == pytest.approx(ref.s)
        assert ours.var_s[i] == pytest.approx(ref.var_s)
        assert ours.z[i] == pytest.approx(ref.z, abs=1e-12)
        assert ours.p[i] == pytest.approx(ref.p, abs=1e-12)
        expected = {"increasing": 1, "decreasing": -1, "no trend": 0}[ref.trend]
        assert ours.trend[i] == expected
