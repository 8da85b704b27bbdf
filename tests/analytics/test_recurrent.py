"""Recurrent problems: a planted problem (one class, one place, many days) ranks first;
a one-day burst is not a recurrence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gis_core.analytics import Filters, prepare_events, recurrent
from gis_core.analytics.frame import AnalyticsInputError
from tests.analytics.synthetic import PROJ, X0, Y0

START = pd.Timestamp("2025-01-01", tz="Asia/Shanghai")


def _frame(rng, x, y, days, category):
    lon, lat = PROJ.to_lonlat(x, y)
    return pd.DataFrame({"lon": lon, "lat": lat,
                         "reported_at": START + pd.to_timedelta(days, unit="D"),
                         "category_code": category, "source": "12345", "status": "closed"})


@pytest.fixture(scope="module")
def events():
    rng = np.random.default_rng(31)
    n = 4000  # background: 12 classes uniform over 4 km × 4 km and a year
    bg = _frame(rng, X0 + rng.uniform(0, 4000, n), Y0 + rng.uniform(0, 4000, n),
                rng.uniform(0, 365, n), rng.choice([f"0{i:04d}" for i in range(1, 13)], n))
    k = 24  # planted: class 05003 within 15 m of one drain, every five days or so for four months
    angle, radius = rng.uniform(0, 2 * np.pi, k), rng.uniform(0, 15, k)
    planted = _frame(rng, X0 + 1500 + radius * np.cos(angle), Y0 + 2500 + radius * np.sin(angle),
                     60 + 5 * np.arange(k) + rng.uniform(0, 2, k), "05003")
    burst = _frame(rng, X0 + 3000 + rng.uniform(0, 10, 30), Y0 + 500 + rng.uniform(0, 10, 30),
                   200 + rng.uniform(0, 0.3, 30), "01002")  # one incident, 30 calls
    frame = pd.concat([bg, planted, burst], ignore_index=True)
    frame["event_id"] = np.arange(1, len(frame) + 1)
    return prepare_events(frame), set(range(n + 1, n + k + 1)), set(range(n + k + 1, n + k + 31))


def test_planted_recurrent_problem_ranks_first(events):
    ev, planted_ids, burst_ids = events
    res = recurrent(ev)
    top = res.problems.iloc[0]
    assert top["rank"] == 1 and top["category_code"] == "05003"
    found = set(top["event_ids"])
    assert len(found & planted_ids) >= 0.9 * len(planted_ids)
    assert found <= planted_ids
    assert top["days"] >= 20 and top["radius_m"] < 30
    for ids in res.problems["event_ids"]:
        assert not set(ids) & burst_ids  # a one-day burst is not recurrent
    assert res.params["eps_m"] == 50.0 and res.params["min_days"] == 3


def test_filters_and_bad_parameters(events):
    ev, _, _ = events
    assert len(recurrent(ev, Filters(category="05003")).problems) == 1
    assert len(recurrent(ev, Filters(category="99999")).problems) == 0
    with pytest.raises(AnalyticsInputError) as err:
        recurrent(ev, eps_m=0)
    assert err.value.field == "eps_m"


def test_prefilter_gives_the_same_clusters_as_plain_dbscan():
    from sklearn.cluster import DBSCAN

    from gis_core.analytics.recurrent import may_cluster

    rng = np.random.default_rng(5)
    x = np.concatenate([rng.uniform(0, 3000, 3000), 1000 + rng.normal(0, 20, 60)])
    y = np.concatenate([rng.uniform(0, 3000, 3000), 2000 + rng.normal(0, 20, 60)])
    days = np.concatenate([rng.uniform(0, 365, 3000), rng.uniform(100, 160, 60)])
    pts = np.column_stack([x, y, days * 50 / 14])
    keep = may_cluster(pts, np.zeros(len(pts), dtype=np.int64), 50.0, 5)
    assert keep.mean() < 0.5  # most background points are dropped before DBSCAN
    ours = np.full(len(pts), -1)
    ours[keep] = DBSCAN(eps=50.0, min_samples=5).fit(pts[keep]).labels_
    plain = DBSCAN(eps=50.0, min_samples=5).fit(pts).labels_
    assert (ours >= 0).sum() > 40
    # same partition: labels may be numbered differently
    pairs = {(a, b) for a, b in zip(ours, plain, strict=True)}
    assert len(pairs) == len(set(ours)) == len(set(plain))
    assert ((ours == -1) == (plain == -1)).all()
