"""Loadable holiday schedules and the 2027 Spring Festival week (issue 14).

``chinese-calendar`` 1.11 knows no 2027 holidays. The file used here is a TEST schedule
shaped like recent notices (春节 2027-02-05..12 off, make-up workdays on Sunday 01-31 and
Saturday 02-20), not the State Council's 2027 notice: an admin loads the real one with
``gridgov calendar load``. What is tested is that a loaded schedule drives every
working-time rule, that unknown years warn loudly, and that storage and the CLI carry it.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gis_core.cases import calendar as cal
from gis_core.cases.calendar import TZ, add_working_time, working_time_between
from gis_core.cases.deadlines import Light, TimeLimit, deadline_for, light
from gis_core.cases.schedule import ScheduleError, parse_schedule
from gis_core.storage import Store

FILE = Path(__file__).parent / "data" / "schedule_2027_test.csv"


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2027, month, day, hour, minute, tzinfo=TZ)


@pytest.fixture
def spring_2027() -> Iterator[None]:
    schedule, _ = parse_schedule(FILE.read_text(encoding="utf-8"))
    cal.load_schedule(schedule)
    yield
    cal.unload_schedule(2027)


@pytest.fixture
def no_2027() -> Iterator[None]:
    cal.unload_schedule(2027)
    yield
    cal.unload_schedule(2027)


def test_unknown_2027_warns_and_counts_weekdays(no_2027: None) -> None:
    with pytest.warns(cal.CalendarRangeWarning, match="2027"):
        end = add_working_time(at(2, 4, 10), 3, "working_days")
    assert end == at(2, 9, 17, 30)  # Fri 5, Mon 8, Tue 9: the festival is not known
    status = cal.calendar_status(date(2026, 12, 1))
    assert 2027 in status["unknown_years"]
    assert any("2027" in w and "gridgov calendar load" in w for w in status["warnings"])


def test_spring_festival_week_2027(spring_2027: None) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", cal.CalendarRangeWarning)  # known: no warning
        assert cal.is_workday(date(2027, 2, 10)) is False  # a Wednesday off
        assert cal.is_workday(date(2027, 2, 20)) is True  # a Saturday at work
        assert cal.is_workday(date(2027, 1, 31)) is True
        # 3 working days from Thursday before the festival: Mon 15, Tue 16, Wed 17.
        assert add_working_time(at(2, 4, 10), 3, "working_days") == at(2, 17, 17, 30)
        # 10 working hours from Thu 16:00: 1.5 h, then Mon 15 (7 h), then 1.5 h on Tue 16.
        assert add_working_time(at(2, 4, 16), 10, "working_hours") == at(2, 16, 10, 30)
        # 1 working day from Friday 19th ends on the make-up Saturday.
        assert add_working_time(at(2, 19, 9), 1, "working_days") == at(2, 20, 17, 30)
        # The holiday week costs no working time, so the light stays green through it.
        limit = TimeLimit(3, "working_days")
        assert working_time_between(at(2, 4, 17, 30), at(2, 14, 20), "working_days") == 0
        assert light(at(2, 13, 12), at(2, 4, 10), limit) is Light.GREEN
        assert light(at(2, 17, 14), at(2, 4, 10), limit) is Light.YELLOW
        assert light(at(2, 18, 9), at(2, 4, 10), limit) is Light.RED
        # An extension across the festival: 2 working days after Wed 3rd's deadline.
        deadline = deadline_for(at(2, 2, 10), TimeLimit(1, "working_days"))
        assert deadline == at(2, 3, 17, 30)
        extended = deadline_for(
            at(2, 2, 10), TimeLimit(1, "working_days"), [TimeLimit(2, "working_days")]
        )
        assert extended == at(2, 15, 17, 30)  # Thu 4, then Mon 15
    assert 2027 not in cal.calendar_status(date(2026, 12, 1))["unknown_years"]


def test_working_time_is_computed_in_time_independent_of_its_length(spring_2027: None) -> None:
    import time

    start = time.perf_counter()
    end = add_working_time(at(1, 4, 9), 5000, "working_days")
    assert time.perf_counter() - start < 1.0
    assert working_time_between(at(1, 4, 9), end, "working_days") == pytest.approx(5000)
    with pytest.raises(ValueError):
        add_working_time(at(1, 4, 9), 1e308, "working_hours")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("day,kind\n2027-01-01,holiday\n", "header"),
        ("date,kind\n2027-13-01,holiday\n", "line 2"),
        ("date,kind\n2027-01-01,vacation\n", "kind"),
        ("date,kind\n2027-01-01,holiday\n2028-01-01,holiday\n", "one year"),
        ("date,kind\n2027-01-01,holiday\n2027-01-01,workday\n", "twice"),
    ],
)
def test_bad_schedule_files_are_refused(text: str, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        parse_schedule(text)


def test_schedules_are_stored_and_installed(store: Store, no_2027: None) -> None:
    schedule, names = parse_schedule(FILE.read_text(encoding="utf-8"))
    assert store.save_schedule(schedule, names) == 11
    assert store.save_schedule(schedule, names) == 11  # replaced, not added
    assert store.install_schedules() == [2027]
    assert cal.is_workday(date(2027, 2, 20)) is True
    (stored,) = store.read_schedules()
    assert stored.holidays == schedule.holidays and stored.workdays == schedule.workdays


def test_cli_loads_and_shows(tmp_path: Path, no_2027: None) -> None:
    from gis_core.cli import app, register_commands

    register_commands()
    url = f"sqlite:///{tmp_path / 'cal.sqlite'}"
    runner = CliRunner(env={"COLUMNS": "200"})  # a long tmp path must not wrap the message
    assert runner.invoke(app, ["db", "upgrade", "--url", url]).exit_code == 0
    r = runner.invoke(app, ["calendar", "load", str(FILE), "--url", url])
    assert r.exit_code == 0, r.output
    assert "2027" in r.output
    cal.unload_schedule(2027)
    r = runner.invoke(app, ["calendar", "show", "--url", url])
    assert r.exit_code == 0 and '"loaded_years": [' in r.output and "2027" in r.output
    bad = tmp_path / "bad.csv"
    bad.write_text("date,kind\n2027-02-30,holiday\n", encoding="utf-8")
    r = runner.invoke(app, ["calendar", "load", str(bad), "--url", url])
    assert r.exit_code == 2 and "line 2" in r.output
