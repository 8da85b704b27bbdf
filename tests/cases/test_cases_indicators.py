"""Evaluation indicators on a small hand-built table; expected values computed by hand.

Period P = March 2025, [2025-03-01, 2025-04-01) Asia/Shanghai; March 2025 has no public
holiday, so working hours are Mon-Fri 09:00-12:00 and 13:30-17:30 (7 h a day).
"""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from gis_core.cases.calendar import TZ
from gis_core.cases.indicators import OUTPUT_COLUMNS, event_flags, grade, indicators

START = datetime(2025, 3, 1, tzinfo=TZ)
END = datetime(2025, 4, 1, tzinfo=TZ)


def t(text: str | None) -> pd.Timestamp | None:
    return None if text is None else pd.Timestamp(text, tz="Asia/Shanghai")


# fmt: off
ROWS = [
    # id, grid, community, unit, reported, filed, dispatched, deadline, handled, closed,
    # status, rework
    ("E1", "G1", "C1", "U1", "2025-03-03 09:00", "2025-03-03 09:10", "2025-03-03 09:30",
     "2025-03-03 16:00", "2025-03-03 11:30", "2025-03-03 15:00", "evaluated", 0),
    ("E2", "G1", "C1", "U1", "2025-03-10 10:00", "2025-03-10 10:05", "2025-03-10 10:30",
     "2025-03-12 17:30", "2025-03-13 10:00", "2025-03-13 15:00", "closed", 1),
    ("E3", "G1", "C1", "U2", "2025-03-20 08:00", "2025-03-20 08:30", "2025-03-20 09:00",
     "2025-03-21 17:30", None, None, "dispatched", 0),
    ("E4", "G1", "C1", "U1", "2025-02-25 08:00", "2025-02-25 08:30", "2025-02-25 09:00",
     "2025-02-27 17:30", "2025-02-26 10:00", "2025-03-02 10:00", "closed", 0),
    ("E5", "G1", "C1", "U2", "2025-03-28 08:00", "2025-03-28 08:30", "2025-03-28 10:00",
     "2025-04-03 17:30", None, None, "dispatched", 0),
    ("E6", "G1", "C1", None, "2025-03-05 10:00", None, None,
     None, None, None, "rejected", 0),
    ("E7", "G1", "C1", "U2", "2025-03-04 08:00", "2025-03-04 08:30", "2025-03-04 09:00",
     "2025-03-06 17:30", None, None, "parked", 0),
    ("E8", "G2", "C1", "U1", "2025-03-15 10:00", "2025-03-17 08:30", "2025-03-17 09:00",
     "2025-03-18 17:30", "2025-03-18 10:00", "2025-03-31 23:00", "closed", 0),
    ("E9", "G2", "C1", "U2", "2025-03-25 08:00", "2025-03-25 08:30", "2025-03-25 09:00",
     "2025-03-26 17:30", "2025-03-26 16:00", "2025-04-02 10:00", "closed", 0),
    ("E10", "G3", "C2", "U3", "2025-02-10 08:00", "2025-02-10 08:30", "2025-02-10 10:00",
     "2025-02-12 17:30", "2025-02-11 10:00", "2025-02-12 15:00", "evaluated", 0),
]
# fmt: on
COLUMNS = [
    "event_id",
    "grid_code",
    "community_code",
    "unit_id",
    "reported_at",
    "filed_at",
    "dispatched_at",
    "deadline_at",
    "handled_at",
    "closed_at",
    "status",
    "rework_count",
]


COUNT_ORDER = [
    "reported",
    "filed",
    "dispatched",
    "closed",
    "due_to_close",
    "closed_on_time",
    "due_to_handle",
    "handled_on_time",
    "reworked",
    "dispatched_reworked",
    "overdue",
]


@pytest.fixture
def events() -> pd.DataFrame:
    df = pd.DataFrame(ROWS, columns=COLUMNS)
    for col in [
        "reported_at",
        "filed_at",
        "dispatched_at",
        "deadline_at",
        "handled_at",
        "closed_at",
    ]:
        df[col] = pd.to_datetime(df[col]).dt.tz_localize("Asia/Shanghai")
    df["street_code"] = "340111001"
    return df


def test_by_grid(events: pd.DataFrame) -> None:
    out = indicators(events, START, END, by="grid_code")
    assert list(out.columns) == OUTPUT_COLUMNS
    assert list(out.index) == ["G1", "G2", "G3"]

    # G1 (E1-E7)
    # reported in P: E1 E2 E3 E5 E6 E7 = 6 (E4 in Feb); filed: E1 E2 E3 E5 E7 = 5;
    # dispatched: E1 E2 E3 E5 E7 = 5; closed in P: E1 E2 E4 = 3
    # due to close: closed in P {E1, E2, E4} + deadline in P and not closed before P
    #   {E1, E2, E3} (E5 due in April, E7 parked) = {E1, E2, E3, E4} = 4
    # closed on time: E1 (15:00 <= 16:00); E2 (3-13 > 3-12) and E4 (3-02 > 2-27) late = 1
    # due to handle: handled in P {E1, E2} + deadline in P {E1, E2, E3} = 3
    #   (E4 handled and due in February)
    # handled on time: E1 (11:30 <= 16:00) = 1; E2 handled 3-13 10:00 > 3-12 17:30
    # reworked: due to close with rework > 0: E2 = 1; dispatched_reworked: E2 = 1
    # overdue at period end: E3 (deadline 3-21, open) = 1 (E5 not yet due, E7 parked)
    g1 = out.loc["G1"]
    assert g1[["reported", "filed", "dispatched", "closed"]].tolist() == [6, 5, 5, 3]
    assert g1[["due_to_close", "closed_on_time", "due_to_handle", "handled_on_time"]].tolist() == [
        4,
        1,
        3,
        1,
    ]
    assert g1[["reworked", "dispatched_reworked", "overdue"]].tolist() == [1, 1, 1]
    assert g1["closure_rate"] == pytest.approx(3 / 4)
    assert g1["on_time_closure_rate"] == pytest.approx(1 / 4)
    assert g1["on_time_handling_rate"] == pytest.approx(1 / 3)
    assert g1["rework_rate"] == pytest.approx(1 / 4)
    assert g1["accurate_dispatch_rate"] == pytest.approx((5 - 1) / 5)
    # handling time of events handled in P: E1 09:30 → 11:30 = 2 h; E2 Mon 3-10 10:30 →
    # Thu 3-13 10:00 = 1.5 + 4 (Mon) + 7 (Tue) + 7 (Wed) + 1 (Thu) = 20.5 h; mean 11.25
    assert g1["avg_handling_hours"] == pytest.approx(11.25)
    # score = 100 × (0.2·0.75 + 0.3·0.25 + 0.3·(1/3) + 0.1·0.8 + 0.1·(1 − 0.25))
    #       = 100 × (0.15 + 0.075 + 0.1 + 0.08 + 0.075) = 48 → D (40-59)
    assert g1["score"] == pytest.approx(48.0)
    assert g1["grade"] == "D"

    # G2 (E8, E9)
    # reported 2, filed 2, dispatched 2; closed in P: E8 (3-31 23:00 < 4-01) = 1
    # due to close: {E8} + deadline in P {E8, E9} = 2; closed on time: E8 closed 3-31 >
    #   deadline 3-18 → 0
    # due to handle: {E8, E9} = 2; handled on time: E8 3-18 10:00 <= 17:30, E9 3-26 16:00
    #   <= 17:30 → 2; reworked 0; overdue: E9 (deadline 3-26, closed only 4-02) = 1
    g2 = out.loc["G2"]
    assert g2[COUNT_ORDER].tolist() == [2, 2, 2, 1, 2, 0, 2, 2, 0, 0, 1]
    assert g2["closure_rate"] == pytest.approx(1 / 2)
    assert g2["on_time_closure_rate"] == 0.0
    assert g2["on_time_handling_rate"] == 1.0
    assert g2["rework_rate"] == 0.0
    assert g2["accurate_dispatch_rate"] == 1.0
    # E8 Mon 3-17 09:00 → Tue 10:00 = 7 + 1 = 8 h; E9 Tue 3-25 09:00 → Wed 16:00 =
    # 7 + 3 + 2.5 = 12.5 h; mean 10.25
    assert g2["avg_handling_hours"] == pytest.approx(10.25)
    # score = 100 × (0.2·0.5 + 0.3·0 + 0.3·1 + 0.1·1 + 0.1·1) = 60 → C, exactly on the edge
    assert g2["score"] == pytest.approx(60.0)
    assert g2["grade"] == "C"

    # G3 (E10): everything happened in February → all counts 0, every rate NaN (not 0 or 1)
    g3 = out.loc["G3"]
    assert g3[COUNT_ORDER].tolist() == [0] * 11
    for col in [
        "closure_rate",
        "on_time_closure_rate",
        "on_time_handling_rate",
        "rework_rate",
        "accurate_dispatch_rate",
        "avg_handling_hours",
        "score",
    ]:
        assert math.isnan(g3[col]), col
    assert pd.isna(g3["grade"])


def test_overall(events: pd.DataFrame) -> None:
    out = indicators(events, START, END)
    assert list(out.index) == ["all"]
    row = out.loc["all"]
    # sums of G1 + G2 + G3
    assert row[COUNT_ORDER].tolist() == [8, 7, 7, 4, 6, 1, 5, 3, 1, 1, 2]
    assert row["closure_rate"] == pytest.approx(4 / 6)
    assert row["on_time_closure_rate"] == pytest.approx(1 / 6)
    assert row["on_time_handling_rate"] == pytest.approx(3 / 5)
    assert row["rework_rate"] == pytest.approx(1 / 6)
    assert row["accurate_dispatch_rate"] == pytest.approx(6 / 7)
    assert row["avg_handling_hours"] == pytest.approx((2 + 20.5 + 8 + 12.5) / 4)
    # 100 × (0.2·4/6 + 0.3·1/6 + 0.3·3/5 + 0.1·6/7 + 0.1·5/6) = 53.238... → D
    expected = 100 * (0.2 * 4 / 6 + 0.3 / 6 + 0.3 * 3 / 5 + 0.1 * 6 / 7 + 0.1 * 5 / 6)
    assert row["score"] == pytest.approx(expected)
    assert row["grade"] == "D"


def test_other_groupings(events: pd.DataFrame) -> None:
    by_unit = indicators(events, START, END, by="unit_id")
    # E6 has no unit: a group of its own (NaN key), counted but with nothing due
    assert by_unit["reported"].sum() == 8
    missing = by_unit[by_unit.index.isna()]
    assert len(missing) == 1 and missing["reported"].iloc[0] == 1
    assert math.isnan(missing["closure_rate"].iloc[0])
    # U1: E1 E2 E4 E8 → due to close E1 E2 E4 E8 = 4, closed 4, on time only E1
    u1 = by_unit.loc["U1"]
    assert (u1["due_to_close"], u1["closed"], u1["closed_on_time"]) == (4, 4, 1)
    assert u1["closure_rate"] == 1.0 and u1["on_time_closure_rate"] == 0.25
    two = indicators(events, START, END, by=["street_code", "community_code"])
    assert two.index.names == ["street_code", "community_code"]
    assert two.loc[("340111001", "C1"), "reported"] == 8
    assert two.loc[("340111001", "C2"), "reported"] == 0


def test_event_without_deadline_is_on_time(events: pd.DataFrame) -> None:
    one = events[events["event_id"] == "E1"].copy()
    one["deadline_at"] = pd.NaT
    row = indicators(one, START, END).loc["all"]
    # no limit: due only through its closing and handling, and never late
    assert (row["due_to_close"], row["closed_on_time"], row["handled_on_time"]) == (1, 1, 1)
    assert row["overdue"] == 0


def test_flags_for_drill_down(events: pd.DataFrame) -> None:
    flags = event_flags(events, START, END).set_index(events["event_id"])
    assert flags.loc["E3", "overdue"] and not flags.loc["E7", "overdue"]
    assert flags.loc["E4", "due_to_close"] and not flags.loc["E4", "due_to_handle"]
    assert flags.loc["E1", "handling_hours"] == 2.0 and np.isnan(flags.loc["E3", "handling_hours"])


def test_input_checks(events: pd.DataFrame) -> None:
    naive = events.copy()
    naive["closed_at"] = naive["closed_at"].dt.tz_localize(None)
    with pytest.raises(ValueError, match="timezone-aware"):
        indicators(naive, START, END)
    strings = events.copy()
    strings["handled_at"] = strings["handled_at"].astype(str)
    with pytest.raises(ValueError, match="timezone-aware"):
        indicators(strings, START, END)
    with pytest.raises(ValueError, match="lack column"):
        indicators(events.drop(columns="rework_count"), START, END)
    with pytest.raises(ValueError, match="cannot group by"):
        indicators(events, START, END, by="status")
    with pytest.raises(ValueError, match="repeated event_id"):
        indicators(pd.concat([events, events.head(1)]), START, END)
    with pytest.raises(ValueError, match="empty period"):
        indicators(events, END, START)
    # aware python datetimes in an object column are fine (rows from a database)
    objects = events.copy()
    objects["closed_at"] = pd.Series(
        [None if pd.isna(v) else v.to_pydatetime() for v in events["closed_at"]], dtype=object
    )
    assert indicators(objects, START, END).loc["all", "closed"] == 4


def test_empty_frame() -> None:
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
    row = indicators(empty, START, END).loc["all"]
    assert row["reported"] == 0 and math.isnan(row["closure_rate"]) and pd.isna(row["grade"])


@pytest.mark.parametrize(
    ("score", "letter"),
    [
        (100, "A"),
        (90, "A"),
        (89.99, "B"),
        (75, "B"),
        (74.9, "C"),
        (60, "C"),
        (59.99999999999999, "C"),  # floating-point noise, not a lower grade
        (59.9, "D"),
        (40, "D"),
        (39.9, "E"),
        (0, "E"),
        (float("nan"), None),
    ],
)
def test_grades(score: float, letter: str | None) -> None:
    assert grade(score) == letter
