"""Scheduled vital-sign checks on both backends: workers checking together raise one
alert, a restart raises none, the server's background ticker raises it by itself, and
`gridgov vitals check` does the same from the command line."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from gis_core.analytics.vitals_schedule import VitalsTicker, check_now
from gis_core.cases.calendar import TZ
from gis_core.cli import app as cli_app
from gis_core.cli import register_commands
from gis_core.events import EventReport, EventService
from gis_core.storage import Store
from gis_core.storage.models import Event
from tests.db_fixtures import sample_db_url

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=TZ)
WORKERS = 4


def _report(service: EventService, when: datetime, n: int, tag: str) -> None:
    for i in range(n):
        service.submit(EventReport(source="12345", category_code="01001", description="井盖缺失",
                                   external_id=f"{tag}-{i}", lon=117.3, lat=31.8,
                                   reported_at=when))


def _alerts(store: Store) -> list[int]:
    with store.session(write=False) as s:
        return list(s.scalars(select(Event.id).where(Event.source == "vitals")))


db_url = sample_db_url(components=False, duties=False)  # each test: a copy of the district


@pytest.fixture
def armed(store) -> Store:
    """A seeded store with one threshold (more than 2 manhole events a day)."""
    store.upsert_threshold(indicator="events_per_day", op=">", value=2.0, window_days=1,
                           area_code=None, category_code="01001", label="井盖日报警",
                           alert_category="01001", created_by="admin")
    return store


def _together(db_url, at: datetime) -> list[dict]:
    """``check_now`` in WORKERS threads, each with its own Store (own connections, as
    separate worker processes have), released at the same instant."""
    stores = [Store(db_url) for _ in range(WORKERS)]
    barrier = threading.Barrier(WORKERS)
    out: list[dict] = []
    errors: list[BaseException] = []

    def work(store: Store) -> None:
        try:
            service = EventService(store)
            barrier.wait(timeout=30)
            out.extend(check_now(service, at)["results"])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for s in stores:
        s.dispose()
    assert not errors, errors
    assert len(out) == WORKERS
    return out


def test_workers_checking_together_raise_one_alert(armed, db_url):
    service = EventService(armed)
    _report(service, NOW - timedelta(hours=2), 3, "burst1")
    results = _together(db_url, NOW)
    assert all(r["crossed"] for r in results)
    raised = [r["alert_event_id"] for r in results if r["alert_event_id"]]
    assert len(raised) == 1 and _alerts(armed) == raised
    state = armed.list_thresholds()[0]["state"]
    assert state["crossed"] and state["alerts"] == 1 and state["event_id"] == raised[0]
    # a restart (a new store, nothing in memory) checking again: still one alert
    with Store(db_url) as again:
        assert check_now(EventService(again), NOW + timedelta(minutes=5))["results"][0][
            "alert_event_id"] is None
    assert len(_alerts(armed)) == 1
    # back to quiet: re-armed by all; a new burst crossed by all at once: one more alert
    _together(db_url, NOW + timedelta(days=2))
    assert armed.list_thresholds()[0]["state"]["crossed"] is False
    _report(service, NOW + timedelta(days=3, hours=-1), 4, "burst2")
    second = _together(db_url, NOW + timedelta(days=3))
    assert len([r for r in second if r["alert_event_id"]]) == 1
    assert len(_alerts(armed)) == 2 and armed.list_thresholds()[0]["state"]["alerts"] == 2


def test_background_tickers_of_two_workers_raise_one_alert(armed, db_url):
    now = datetime.now(TZ)
    _report(EventService(armed), now - timedelta(hours=1), 3, "live")
    stores = [Store(db_url) for _ in range(2)]
    tickers = [VitalsTicker(EventService(s), 1.0) for s in stores]
    for t in tickers:
        t.start()
    try:
        deadline = time.monotonic() + 60
        while not _alerts(armed) and time.monotonic() < deadline:
            time.sleep(0.2)
        while min(t.checks for t in tickers) < 3 and time.monotonic() < deadline:
            time.sleep(0.2)  # both tickers kept checking while it stayed crossed
    finally:
        for t in tickers:
            t.stop()
        for s in stores:
            s.dispose()
    assert min(t.checks for t in tickers) >= 3
    assert len(_alerts(armed)) == 1
    assert sum(len(t.raised) for t in tickers) == 1
    with pytest.raises(ValueError):
        VitalsTicker(EventService(armed), 0.1)


def test_server_starts_the_ticker_from_settings(armed, db_url, monkeypatch):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.settings import ApiSettings, get_analytics_settings
    from tests.api.conftest import url_text

    _report(EventService(armed), datetime.now(TZ) - timedelta(hours=1), 3, "served")
    monkeypatch.setenv("GRIDGOV_ANALYTICS_VITALS_CHECK_SECONDS", "1")
    get_analytics_settings.cache_clear()
    try:
        app = create_app(ApiSettings(_env_file=None, database_url=url_text(db_url)))
        with TestClient(app):
            deadline = time.monotonic() + 60
            while not _alerts(armed) and time.monotonic() < deadline:
                time.sleep(0.2)
    finally:
        get_analytics_settings.cache_clear()
    assert len(_alerts(armed)) == 1


def test_cli_vitals_check(armed, db_url):
    from tests.api.conftest import url_text

    register_commands()
    runner = CliRunner()
    url = url_text(db_url)
    _report(EventService(armed), NOW - timedelta(hours=1), 3, "cli")
    first = runner.invoke(cli_app, ["vitals", "check", "--at", NOW.isoformat(), "--url", url,
                                    "--json"])
    assert first.exit_code == 0, first.output
    body = json.loads(first.output)
    assert body["results"][0]["crossed"] and body["results"][0]["alert_event_id"]
    second = runner.invoke(cli_app, ["vitals", "check", "--at", "2026-03-10T12:30",
                                     "--url", url])
    assert second.exit_code == 0, second.output
    assert "1 threshold(s) checked, 0 alert(s) raised" in second.output
    assert len(_alerts(armed)) == 1
    bad = runner.invoke(cli_app, ["vitals", "check", "--at", "yesterday", "--url", url])
    assert bad.exit_code == 2 and "--at must be an ISO time" in bad.output
