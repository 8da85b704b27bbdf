"""How the suite is shared between pytest-xdist workers: the longest work starts first.

``scripts/test.sh`` runs ``--dist loadfile`` so that a file's module fixtures (seeded
stores, live servers, a browser) are built once. Left alone, xdist queues files by their
number of tests, so the few long ones (the schemathesis fuzz: one test per backend that
runs for minutes) started last and the run ended with one worker busy and the other idle.
Here the files measured longest go first (longest-processing-time first), and the longest
of them, parametrized by backend, are split into one unit per backend so both workers can
take one; the browser files of the console server go together (``SAME_UNIT``), so their
slow session fixtures are built once. Every other file stays one unit, in xdist's usual
order.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

HEAVY = (
    # seconds per file (junit times, a loaded run of 2026-12-02), longest first; files
    # changed since on branches ci-speed and ci-speed2 are re-estimated from A/B runs
    "tests/web/test_field_console.py",  # 153; with the rest of CONSOLE_UNIT, one unit
    "tests/web/test_console.py",  # 136 (CONSOLE_UNIT: ~300 s in all, the longest unit)
    "tests/api/test_schemathesis.py",  # ~210 s on the two backends, one unit each (~330
    # in the run of 12-02 11:05; ci-speed2: -39% cases, full budget on one backend each)
    "tests/analytics/test_vitals_schedule.py",  # ~105 (117: seeded copies)
    "tests/events/test_list_pages.py",  # 99
    "tests/api/test_stream.py",  # 93
    "tests/integrations/test_mqtt_storm.py",  # 86
    "tests/integrations/test_mqtt_shared.py",  # 79
    "tests/layers/test_cluster_points.py",  # 76
    "tests/field/test_rotation_api.py",  # 73
    "tests/field/test_field_api.py",  # 70
    "tests/web/test_planner.py",  # 67
    "tests/api/test_scaleout.py",  # 62
    "tests/planning/test_judged_cli.py",  # 62
    "tests/api/test_features.py",  # 61
    "tests/analytics/test_analytics_cli.py",  # 60
    "tests/sample_data/test_seeding.py",  # 59
    "tests/auth/test_auth_accounts.py",  # 53
    "tests/cli/test_serve_supervision.py",  # 53
    "tests/planning/test_planning_resume.py",  # ~50 (113; forkserver children: 60 -> 26 s alone)
    # tests/events/test_events.py was 52: ~25 from seeded copies (240 -> 114 s alone)
)
SPLIT_BY_BACKEND = frozenset({"tests/api/test_schemathesis.py"})
"""Files whose backends share no module fixture: each backend is its own unit of work."""
CONSOLE_UNIT = "tests/web[console_server]"
SAME_UNIT = {
    path: CONSOLE_UNIT
    for path in (
        "tests/web/test_field_console.py",
        "tests/web/test_console.py",
        "tests/web/test_console_analysis.py",
        "tests/web/test_console_casework.py",
        "tests/web/test_cockpit.py",
        "tests/web/test_interop_browser.py",
        "tests/web/test_basemap.py",
        "tests/web/test_outbox_console.py",
    )
}
"""Files sharing session fixtures that are slow to build: one unit, so one worker builds
them once. The console tests share ``seeded_db`` (the district plus a day of live events,
~20 s), ``console_server`` and Chromium; split over both workers, each built its own."""
_BACKEND = re.compile(r"\[(sqlite|postgis)\b")


def work_unit(nodeid: str) -> str:
    """The file of a test id, with its backend for the files split by backend, or the
    shared unit of the files in SAME_UNIT."""
    path = nodeid.split("::", 1)[0]
    if path in SAME_UNIT:
        return SAME_UNIT[path]
    if path in SPLIT_BY_BACKEND:
        match = _BACKEND.search(nodeid)
        if match:
            return f"{path}[{match.group(1)}]"
    return path


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Heavy files first, in HEAVY's order; the rest keep their collection order."""
    rank = {path: n for n, path in enumerate(HEAVY)}
    order = {id(item): n for n, item in enumerate(items)}

    def key(item: pytest.Item) -> tuple[int, int]:
        return rank.get(item.nodeid.split("::", 1)[0], len(HEAVY)), order[id(item)]

    items.sort(key=key)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """A loadfile scheduler that keeps the collection's order and splits SPLIT_BY_BACKEND."""
    if config.getoption("dist", None) != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class HeavyFirstScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    # queue units in collection order (heavy first), not xdist's "most tests first"
    config.option.loadscopereorder = False
    return HeavyFirstScheduling(config, log)
