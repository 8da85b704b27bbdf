"""Stored daily coverage on SQLite and PostGIS: ingest marks the day changed, the stored
result equals the direct computation, late fixes make it stale until refreshed, the API
answers from the store with its freshness, and street rates over a period."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from gis_core.cases.calendar import TZ
from gis_core.field import coverage_days, tracks
from gis_core.field.coverage import CoverageGrids, compute, street_rates
from gis_core.field.members import read_members
from gis_core.paths import SAMPLE_DIR
from gis_core.spatial.io import read_layer
from gis_core.storage import Store
from tests.field.synthetic import streets_in, walk

GRID_A, GRID_B = "340111001004001", "340111002002001"
DAY = (datetime.now(TZ) - timedelta(days=5)).date()


@pytest.fixture(scope="module")
def grids() -> CoverageGrids:
    return CoverageGrids.from_frame(read_layer(SAMPLE_DIR / "grids.geojson"))


@pytest.fixture(scope="module")
def walkers(field_store: Store) -> dict[str, int]:
    m = read_members(field_store)
    teams = m[m["unit_kind"] == "grid_team"]
    pick = lambda code: int(teams[teams["area_code"] == code].iloc[0]["id"])  # noqa: E731
    return {"a": pick(GRID_A), "b": pick(GRID_B)}


def _ingest(store: Store, df: pd.DataFrame) -> None:
    res = tracks.ingest(
        store, df["member_id"].astype(str), df["t"].to_numpy(), df["lon"], df["lat"]
    )
    assert res.accepted == len(df), res.as_dict()


def _direct(store: Store, grids: CoverageGrids, day) -> tuple[pd.DataFrame, pd.DataFrame]:
    start, end = tracks.day_bounds(day)
    mem = read_members(store)
    areas = dict(zip(mem["id"].astype(int), mem["areas"], strict=True))
    cov = compute(tracks.fixes_between(store, start, end), grids, areas=areas)
    g = cov.grids.sort_values("code").reset_index(drop=True)
    return g, cov.members.sort_values("member_id").reset_index(drop=True)


def _assert_equal(store: Store, grids: CoverageGrids, day) -> None:
    stored = coverage_days.read_day(store, day)
    assert stored is not None
    g, m = _direct(store, grids, day)
    pd.testing.assert_frame_equal(
        stored.grids.reset_index(drop=True), g, check_dtype=False, check_exact=False, atol=1e-9
    )
    pd.testing.assert_frame_equal(
        stored.members.reset_index(drop=True), m, check_dtype=False, check_exact=False, atol=1e-9
    )


def test_stored_equals_direct(field_store: Store, grids: CoverageGrids, walkers: dict) -> None:
    start = datetime(DAY.year, DAY.month, DAY.day, 9, 0, tzinfo=TZ)
    line = streets_in(grids.geoms[grids.order[GRID_A]], grids.projector)
    _ingest(field_store, walk(line, start, grids.projector, minutes=40, member=walkers["a"]))
    run = coverage_days.run_of(field_store, DAY)
    assert run is not None and run["stale"] and run["computed_at"] is None
    assert DAY in coverage_days.due_days(field_store, DAY - timedelta(days=1))

    done = coverage_days.refresh_day(field_store, grids, DAY)
    assert done["fixes"] >= 40 * 6
    assert coverage_days.run_of(field_store, DAY)["stale"] is False
    assert DAY not in coverage_days.due_days(field_store, DAY - timedelta(days=1))
    _assert_equal(field_store, grids, DAY)
    stored = coverage_days.read_day(field_store, DAY)
    row = stored.grids.set_index("code").loc[GRID_A]
    assert bool(row["patrolled"]) and row["minutes"] == pytest.approx(40, abs=0.5)

    # late fixes (another member, later that day): stale until the next refresh
    later = start + timedelta(hours=5)
    line_b = streets_in(grids.geoms[grids.order[GRID_B]], grids.projector)
    _ingest(field_store, walk(line_b, later, grids.projector, minutes=20, member=walkers["b"]))
    assert coverage_days.run_of(field_store, DAY)["stale"] is True
    coverage_days.refresh_day(field_store, grids, DAY)
    _assert_equal(field_store, grids, DAY)
    b = coverage_days.read_day(field_store, DAY).grids.set_index("code").loc[GRID_B]
    assert bool(b["patrolled"]) and b["covered_share"] > 0


def test_refresher_job(field_store: Store, grids: CoverageGrids, walkers: dict) -> None:
    day = DAY - timedelta(days=1)
    start = datetime(day.year, day.month, day.day, 10, 0, tzinfo=TZ)
    line = streets_in(grids.geoms[grids.order[GRID_A]], grids.projector)
    _ingest(field_store, walk(line, start, grids.projector, minutes=15, member=walkers["a"]))
    job = coverage_days.CoverageRefresher(
        field_store, lambda: grids, coverage_days.CoverageRules(), interval_s=3600
    )
    empty = day - timedelta(days=1)  # no fixes at all: stored as all-zero when asked
    try:
        job.request(empty)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            runs = [coverage_days.run_of(field_store, d) for d in (day, empty)]
            if all(r is not None and not r["stale"] for r in runs):
                break
            time.sleep(0.3)
        else:
            pytest.fail("the background job did not store both days")
    finally:
        job.stop()
    assert not job.running
    _assert_equal(field_store, grids, day)
    zero = coverage_days.read_day(field_store, empty)
    assert len(zero.grids) == 434 and not zero.grids["patrolled"].any()

    # period indicator: street rates over stored grid-days equal those of the direct runs
    days = coverage_days.grid_days(field_store, empty, day)
    direct = pd.concat(
        [_direct(field_store, grids, d)[0].assign(day=d) for d in (empty, day)], ignore_index=True
    )
    got = street_rates(days).set_index("street_code")
    want = street_rates(direct).set_index("street_code")
    pd.testing.assert_frame_equal(got.sort_index(), want.sort_index(), check_dtype=False)
    assert got.loc[GRID_A[:9], "grid_days"] == (direct["code"].str[:9] == GRID_A[:9]).sum()


def _fresh(client: TestClient, params: dict, timeout: float = 90) -> dict:
    """Poll the API until its stored answer is fresh (the background job has run)."""
    deadline = time.monotonic() + timeout
    while True:
        body = client.get("/v1/coverage", params=params).json()
        if not body.get("stale") or time.monotonic() > deadline:
            return body
        time.sleep(0.3)


def test_api_reads_stored(client: TestClient, field_store: Store, grids: CoverageGrids) -> None:
    day = DAY - timedelta(days=3)
    first = client.get("/v1/coverage", params={"date": day.isoformat()})
    assert first.status_code == 200
    body = first.json()
    assert body["type"] == "FeatureCollection" and "stale" in body and "computed_at" in body
    body = _fresh(client, {"date": day.isoformat()})
    assert body["stale"] is False and body["computed_at"] and body["grids"] == 434
    fixed = datetime.fromisoformat(body["computed_at"])
    assert fixed <= datetime.now(TZ)

    period = {"by": "street", "from": day.isoformat(), "to": (day + timedelta(days=1)).isoformat()}
    deadline = time.monotonic() + 90
    while True:
        rates = client.get("/v1/coverage", params=period).json()
        if not rates["missing_days"] or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert rates["days"] == 2 and rates["days_stored"] == 2
    assert {s["street_code"] for s in rates["streets"]} >= {GRID_A[:9], GRID_B[:9]}
    month = client.get("/v1/coverage", params={"by": "street", "period": day.strftime("%Y-%m")})
    assert month.status_code == 200 and month.json()["from"].endswith("-01")
    bad = client.get("/v1/coverage", params={"by": "street", "period": "2026-13"})
    assert bad.status_code == 422 and "period" in bad.text
    assert client.get("/v1/coverage", params={"from": day.isoformat()}).status_code == 422
