"""Field alerts from synthetic tracks: a silent handheld, a member outside their grids,
one standing still too long, and grids not patrolled by the set hour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import geopandas as gpd
import pandas as pd
import pytest

from gis_core.field.anomalies import AlertRules, member_alerts, unpatrolled_alerts
from gis_core.field.coverage import CoverageGrids
from gis_core.paths import SAMPLE_DIR
from gis_core.spatial.io import read_layer
from tests.field.synthetic import ago, stand, streets_in, walk

NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)  # 14:00 China time
OWN, OTHER = "340111006007002", "340111001001001"


@pytest.fixture(scope="module")
def grids() -> CoverageGrids:
    return CoverageGrids.from_frame(read_layer(SAMPLE_DIR / "grids.geojson"))


def _line(grids: CoverageGrids, code: str):  # type: ignore[no-untyped-def]
    return streets_in(grids.geoms[grids.order[code]], grids.projector)


def _members(rows: list[tuple[int, bool, list[str]]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [r[0] for r in rows],
            "name": [f"m{r[0]}" for r in rows],
            "on_duty": [r[1] for r in rows],
            "duty_since": [NOW - timedelta(hours=4)] * len(rows),
            "areas": [r[2] for r in rows],
        }
    )


def _alerts(grids: CoverageGrids, fixes: pd.DataFrame, members: pd.DataFrame) -> dict:
    last = fixes.sort_values("t").groupby("member_id").tail(1)
    items = member_alerts(members, fixes, last, grids.index, now=NOW, rules=AlertRules())
    out: dict[int, set[str]] = {}
    for a in items:
        out.setdefault(a["member_id"], set()).add(a["kind"])
    return out


def test_walking_in_own_grid_raises_nothing(grids: CoverageGrids) -> None:
    fixes = walk(_line(grids, OWN), ago(NOW, 40), grids.projector, 40, member=1)
    assert _alerts(grids, fixes, _members([(1, True, [OWN])])) == {}


def test_silent_handheld(grids: CoverageGrids) -> None:
    # walked until 30 minutes ago, then nothing: silent (15 min threshold)
    fixes = walk(_line(grids, OWN), ago(NOW, 60), grids.projector, 30, member=2)
    alerts = _alerts(grids, fixes, _members([(2, True, [OWN])]))
    assert alerts == {2: {"silent"}}
    # off duty, the same silence is no alert
    assert _alerts(grids, fixes, _members([(2, False, [OWN])])) == {}


def test_on_duty_without_any_fix_is_silent(grids: CoverageGrids) -> None:
    fixes = walk(_line(grids, OWN), ago(NOW, 10), grids.projector, 10, member=1)
    assert _alerts(grids, fixes, _members([(1, True, [OWN]), (3, True, [OWN])])) == {3: {"silent"}}


def test_member_leaving_their_grids(grids: CoverageGrids) -> None:
    fixes = walk(_line(grids, OTHER), ago(NOW, 20), grids.projector, 20, member=4)
    items = member_alerts(_members([(4, True, [OWN])]), fixes, fixes.tail(1), grids.index, now=NOW)
    assert [(a["kind"], a["grid_code"]) for a in items] == [("outside", OTHER)]
    # a street-level assignment covering the grid makes it their own
    street = OTHER[:9]
    assert _alerts(grids, fixes, _members([(4, True, [street])])) == {}


def test_idle_member(grids: CoverageGrids) -> None:
    c = grids.geoms[grids.order[OWN]].representative_point()
    fixes = stand(c.x, c.y, ago(NOW, 40), 40, member=5)
    assert _alerts(grids, fixes, _members([(5, True, [OWN])])) == {5: {"idle"}}
    short = stand(c.x, c.y, ago(NOW, 10), 10, member=5)  # 10 minutes is a pause
    assert _alerts(grids, short, _members([(5, True, [OWN])])) == {}


def test_unpatrolled_by_the_hour() -> None:
    cov = pd.DataFrame({"code": [OWN, OTHER], "patrolled": [True, False]})
    late = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # 18:00 China time
    assert [a["grid_code"] for a in unpatrolled_alerts(cov, now=late)] == [OTHER]
    assert unpatrolled_alerts(cov, now=NOW) == []  # 14:00: still time


def test_rules_are_settings() -> None:
    rules = AlertRules(silent_minutes=60)
    assert rules.silent_minutes == 60 and gpd is not None
