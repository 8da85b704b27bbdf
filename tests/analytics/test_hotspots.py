"""Gi* hot spots: a planted hot spot is found (and little else), z equals esda's and the
textbook formula on the same counts and weights, Esri bins and FDR behave."""

from __future__ import annotations

import esda
import libpysal
import numpy as np
import pandas as pd
import pytest

from gis_core.analytics import Filters, hotspots, prepare_events, unit_set
from gis_core.analytics.emerging import space_time_gi_star
from gis_core.analytics.frame import AnalyticsInputError
from gis_core.analytics.hotspots import esri_bins
from tests.analytics.synthetic import cell_code, events_from_counts, lattice

N = 20
BLOCK = [(r, c) for r in range(8, 11) for c in range(8, 11)]


@pytest.fixture(scope="module")
def grids():
    return lattice(N)


@pytest.fixture(scope="module")
def planted(grids):
    rng = np.random.default_rng(11)
    counts = rng.poisson(5, size=(N, N))
    for r, c in BLOCK:
        counts[r, c] = rng.poisson(30)
    ev = events_from_counts(rng, counts, pd.Timestamp("2025-03-01", tz="Asia/Shanghai"))
    return prepare_events(ev), counts


def test_planted_hotspot_found_and_little_else(grids, planted):
    events, counts = planted
    units = unit_set("grid", grids)
    res = hotspots(events, units)
    t = res.table.set_index("unit")
    assert t["count"].sum() == counts.sum()
    # The block's centre and every block cell are hot at 99 %.
    assert t.loc[cell_code(9, 9), "bin"] == 3
    assert all(t.loc[cell_code(r, c), "bin"] >= 2 for r, c in BLOCK)
    # Hot cells are the block and its ring (Gi* includes neighbours), nothing far away.
    near = {cell_code(r, c) for r in range(7, 12) for c in range(7, 12)}
    far_hot = [u for u in t.index[t["bin"] > 0] if u not in near]
    assert len(far_hot) <= 2, far_hot
    assert (t["bin"] < 0).sum() <= 2
    assert res.params["permutations"] == 999 and res.params["seed"] == 0
    assert res.params["fdr"] is True and res.params["star"] is True


def test_z_equals_esda_and_textbook_on_same_counts_and_weights(grids, planted):
    events, _ = planted
    units = unit_set("grid", grids)
    res = hotspots(events, units, permutations=0)
    y = res.table["count"].to_numpy(float)
    # Independent weights: libpysal's own Queen contiguity from the polygons.
    w = libpysal.weights.Queen.from_dataframe(grids, use_index=False, silence_warnings=True)
    g = esda.G_Local(y, w, transform="B", star=True, permutations=0)
    np.testing.assert_allclose(res.table["z"].to_numpy(), g.Zs, rtol=1e-9, atol=1e-9)
    # Textbook Gi* (Getis & Ord 1995), binary star weights.
    a = w.sparse.toarray() + np.eye(len(y))
    n, xbar = len(y), y.mean()
    s = np.sqrt((y**2).mean() - xbar**2)
    wi = a.sum(1)
    z = (a @ y - xbar * wi) / (s * np.sqrt((n * wi - wi**2) / (n - 1)))
    np.testing.assert_allclose(res.table["z"].to_numpy(), z, rtol=1e-9)
    # The space-time Gi* with one step and no lag is the same statistic.
    st = space_time_gi_star(y[None, :], units.neighbours, time_window=0)[0]
    np.testing.assert_allclose(st, z, rtol=1e-9)


def test_permutations_are_seeded(grids, planted):
    events, _ = planted
    units = unit_set("grid", grids)
    a = hotspots(events, units, permutations=99, seed=5, p_value="permutation")
    b = hotspots(events, units, permutations=99, seed=5, p_value="permutation")
    np.testing.assert_array_equal(a.table["p_sim"], b.table["p_sim"])
    assert a.params["p_value"] == "permutation"
    assert a.table["p_sim"].min() >= 0.0099  # (1 + 0) / (99 + 1), stored as float32


def test_esri_bins_and_fdr():
    z = np.array([4.0, 2.2, 1.8, 0.1, -2.2, -4.0])
    p = np.array([0.00006, 0.028, 0.072, 0.92, 0.028, 0.00006])
    assert esri_bins(z, p, fdr=False).tolist() == [3, 2, 1, 0, -2, -3]
    # FDR raises the bar: with many null p-values the marginal ones drop out.
    z2 = np.concatenate([z, np.zeros(200)])
    p2 = np.concatenate([p, np.full(200, 0.5)])
    assert esri_bins(z2, p2, fdr=True)[:6].tolist() == [3, 0, 0, 0, 0, -3]


def test_bad_parameters_name_their_field(grids, planted):
    events, _ = planted
    units = unit_set("grid", grids)
    with pytest.raises(AnalyticsInputError) as err:
        hotspots(events, units, permutations=-1)
    assert err.value.field == "permutations"
    with pytest.raises(AnalyticsInputError) as err:
        unit_set("hex:9", grids)
    assert err.value.field == "by"


def test_filters_keep_only_matching_events(grids, planted):
    events, counts = planted
    units = unit_set("grid", grids)
    res = hotspots(events, units, Filters(category="99999"), permutations=0)
    assert res.table["count"].sum() == 0 and res.summary["0"] == N * N
    street = hotspots(events, units, Filters(jurisdiction="340111001"), permutations=0)
    assert street.table["count"].sum() == counts.sum()
    other = hotspots(events, units, Filters(jurisdiction="340111002"), permutations=0)
    assert other.table["count"].sum() == 0
