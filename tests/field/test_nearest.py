"""The nearest member, checked against brute force (pyproj geodesic distances)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from pyproj import Geod

from gis_core.field.nearest import NearestMembers

NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
ROLES = np.array(["网格长", "专职网格员", "兼职网格员", "核查员"], dtype=object)


def _members(n: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    return {
        "ids": np.arange(1, n + 1),
        "lon": 117.25 + rng.random(n) * 0.12,
        "lat": 31.75 + rng.random(n) * 0.10,
        "seen": [NOW - timedelta(seconds=int(s)) for s in rng.integers(0, 3600, n)],
        "roles": ROLES[rng.integers(0, len(ROLES), n)],
        "on_duty": rng.random(n) < 0.8,
    }


def _brute(m: dict, lon: float, lat: float, k: int, max_age: float, roles: set | None) -> list:
    geod = Geod(ellps="WGS84")
    rows = []
    for i in range(len(m["ids"])):
        if not m["on_duty"][i] or (NOW - m["seen"][i]).total_seconds() > max_age:
            continue
        if roles is not None and m["roles"][i] not in roles:
            continue
        _, _, d = geod.inv(lon, lat, m["lon"][i], m["lat"][i])
        rows.append((d, int(m["ids"][i])))
    return sorted(rows)[:k]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_nearest_matches_brute_force(seed: int) -> None:
    m = _members(500, seed)
    index = NearestMembers(m["ids"], m["lon"], m["lat"], m["seen"], m["roles"], m["on_duty"])
    rng = np.random.default_rng(100 + seed)
    for _ in range(50):
        lon, lat = 117.25 + rng.random() * 0.12, 31.75 + rng.random() * 0.10
        roles = None if rng.random() < 0.5 else {"网格长", "专职网格员"}
        got = index.query(lon, lat, k=5, now=NOW, max_age_s=1800, roles=roles)
        want = _brute(m, lon, lat, 5, 1800, roles)
        assert [c.member_id for c in got] == [i for _, i in want]
        for c, (d, _) in zip(got, want, strict=True):
            # Gauss-Krüger plane vs ellipsoid: within 0.1 % at district scale
            assert c.distance_m == pytest.approx(d, rel=1e-3, abs=0.2)
            assert c.on_duty
            assert (NOW - c.last_seen).total_seconds() <= 1800


def test_filters_and_edge_cases() -> None:
    m = _members(10, 5)
    m["on_duty"][:] = False
    index = NearestMembers(m["ids"], m["lon"], m["lat"], m["seen"], m["roles"], m["on_duty"])
    assert index.query(117.3, 31.8, now=NOW) == []
    assert len(index.query(117.3, 31.8, now=NOW, on_duty_only=False, max_age_s=None, k=20)) == 10
    empty = NearestMembers([], [], [], [], [], [])
    assert empty.query(117.3, 31.8, now=NOW) == []
