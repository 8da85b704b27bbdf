"""Counts per unit (grid, community, street, H3, squares), rates, Dask equal to local,
queen contiguity equal to libpysal's, and the binned KDE against a direct sum."""

from __future__ import annotations

import geopandas as gpd
import h3
import libpysal
import numpy as np
import pandas as pd
import pytest

from gis_core.analytics import Filters, aggregate, density, prepare_events, unit_set
from gis_core.analytics.density import bandwidth
from gis_core.analytics.units import households_by_grid
from gis_core.paths import SAMPLE_DIR
from tests.analytics.synthetic import PROJ, cell_code, events_from_counts, lattice

N = 10


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(3)
    counts = rng.poisson(6, size=(N, N))
    raw = events_from_counts(rng, counts, pd.Timestamp("2025-05-01", tz="Asia/Shanghai"))
    raw["handled_at"] = raw["reported_at"] + pd.to_timedelta(
        rng.uniform(1, 48, len(raw)), unit="h")
    raw.loc[::7, "source"] = "12345"
    return lattice(N), prepare_events(raw), counts, raw


def test_counts_by_admin_levels_h3_and_squares(data):
    grids, events, counts, raw = data
    t = aggregate(events, unit_set("grid", grids)).table.set_index("unit")
    for r in range(N):
        for c in range(N):
            assert t.loc[cell_code(r, c), "count"] == counts[r, c]
    com = aggregate(events, unit_set("community", grids)).table.set_index("unit")
    assert com.loc["340111001003", "count"] == counts[2].sum()
    assert aggregate(events, unit_set("street", grids)).table["count"].tolist() == [counts.sum()]
    hx = aggregate(events, unit_set("h3:9", grids))
    ref = pd.Series([h3.latlng_to_cell(b, a, 9) for a, b in zip(raw.lon, raw.lat, strict=True)])
    got = hx.table.set_index("unit")["count"]
    ref_counts = ref.value_counts()
    common = ref_counts.index.intersection(got.index)
    assert (got.loc[common] == ref_counts.loc[common]).all()
    assert got.sum() + hx.outside == len(raw)
    sq = aggregate(events, unit_set("square:400", grids))
    assert sq.table["count"].sum() + sq.outside == len(raw) and sq.outside == 0
    assert sq.params["by"] == "square:400"


def test_median_handling_filters_and_dask_equal_local(data):
    grids, events, _, raw = data
    units = unit_set("grid", grids)
    res = aggregate(events, units, Filters(source="12345"))
    assert res.table["count"].sum() == (raw["source"] == "12345").sum()
    local = aggregate(events, units)
    hours = (raw["handled_at"] - raw["reported_at"]).dt.total_seconds() / 3600
    ref = hours.groupby(raw["grid_code"]).median()
    t = local.table.set_index("unit")
    np.testing.assert_allclose(t.loc[ref.index, "median_handling_hours"], ref.to_numpy())
    dask = aggregate(events, units, engine="dask")
    np.testing.assert_array_equal(dask.table["count"], local.table["count"])
    assert dask.params["engine"] == "dask"


def test_rates_per_1000_households_on_the_sample_district():
    grids = gpd.read_file(SAMPLE_DIR / "grids.geojson")
    buildings = gpd.read_file(SAMPLE_DIR / "buildings.geojson")
    units = unit_set("grid", grids, households_by_grid(buildings))
    one = grids.iloc[0]
    pt = one.geometry.representative_point()
    ev = prepare_events(pd.DataFrame({"lon": [pt.x] * 3, "lat": [pt.y] * 3,
                                      "reported_at": [pd.Timestamp("2025-01-02")] * 3,
                                      "grid_code": [one["code"]] * 3}))
    t = aggregate(ev, units).table.set_index("unit")
    hh = buildings.loc[buildings.grid_code == one["code"], "households"].sum()
    assert t.loc[one["code"], "households"] == hh
    if hh:
        assert t.loc[one["code"], "rate_per_1000_households"] == pytest.approx(3 / hh * 1000)
    # queen contiguity equals libpysal's on the real-shaped sample district
    w = libpysal.weights.Queen.from_dataframe(grids, use_index=False, silence_warnings=True)
    assert (units.neighbours != w.sparse).nnz == 0


def test_binned_kde_matches_a_direct_sum(data):
    _, events, _, _ = data
    res = density(events, cell_m=20.0, bandwidth_m=150.0)
    x, y = PROJ.to_metres(events["lon"].to_numpy(), events["lat"].to_numpy())
    cx, cy = res.cell_centres()
    rng = np.random.default_rng(0)
    rows = rng.integers(20, res.values.shape[0] - 20, 25)
    cols = rng.integers(20, res.values.shape[1] - 20, 25)
    for r, c in zip(rows, cols, strict=True):
        d2 = (x - cx[r, c]) ** 2 + (y - cy[r, c]) ** 2
        exact = np.exp(-d2 / (2 * 150.0**2)).sum() / (2 * np.pi * 150.0**2) * 1e6
        assert res.values[r, c] == pytest.approx(exact, rel=0.03, abs=1.0)
    # the whole surface integrates to the number of events
    assert res.values.sum() * (20.0**2) / 1e6 == pytest.approx(len(events), rel=1e-3)
    assert res.params["bandwidth_rule"] == "override" and res.params["bandwidth_m"] == 150.0


def test_bandwidth_rules_are_the_stated_formulas(data):
    _, events, _, _ = data
    x, y = PROJ.to_metres(events["lon"].to_numpy(), events["lat"].to_numpy())
    n = len(x)
    sil = np.mean([0.9 * min(np.std(v, ddof=1), np.subtract(*np.percentile(v, [75, 25])) / 1.349)
                   * n ** -0.2 for v in (x, y)])
    assert bandwidth(x, y, "silverman") == pytest.approx(sil)
    scott = np.sqrt((np.var(x, ddof=1) + np.var(y, ddof=1)) / 2) * n ** (-1 / 6)
    assert bandwidth(x, y, "scott") == pytest.approx(scott)
    res = density(events)
    assert res.params["bandwidth_rule"] == "silverman"
    assert res.params["bandwidth_m"] == pytest.approx(sil, abs=1e-3)


def test_wide_bandwidths_are_refused_or_coarsened(data):
    from gis_core.analytics.frame import AnalyticsInputError

    _, events, _, _ = data
    with pytest.raises(AnalyticsInputError) as err:
        density(events, cell_m=10.0, bandwidth_m=5000.0)
    assert err.value.field == "bandwidth_m"
    res = density(events, cell_m=10.0, bandwidth_m=5000.0, coarsen=True)
    assert res.cell_m == pytest.approx(5000.0 / 16) and res.params["cell_m"] == res.cell_m
