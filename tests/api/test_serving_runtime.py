"""The app's lifespan tunes the interpreter while it serves and puts it back at shutdown
(tests start many apps in one process): what startup built is frozen (the collector's
full scans skip it), and the thread switch interval is the configured one."""

import gc
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import ApiSettings
from gis_core.storage import Store


def test_startup_objects_are_frozen_while_serving_and_released_after(tmp_path: Path) -> None:
    gc.unfreeze()
    url = f"sqlite:///{tmp_path}/g.db"
    store = Store(url)
    store.upgrade()  # an empty store: no grids (lookups answer 503), the app still starts
    store.dispose()
    app = create_app(ApiSettings(_env_file=None, database_url=url))
    with TestClient(app) as client:
        assert gc.get_freeze_count() > 0
        assert client.get("/healthz").status_code == 200
    assert gc.get_freeze_count() == 0


def test_the_switch_interval_is_set_while_serving_and_restored_after(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/s.db"
    store = Store(url)
    store.upgrade()
    store.dispose()
    before = sys.getswitchinterval()
    app = create_app(ApiSettings(_env_file=None, database_url=url, switch_interval_ms=0.25))
    with TestClient(app) as client:
        assert sys.getswitchinterval() == 0.00025
        assert client.get("/healthz").status_code == 200
    assert sys.getswitchinterval() == before


def test_fastapi_telemetry_is_off_unless_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    """Off, FastAPI does not ask on every request whether a provider is configured;
    GRIDGOV_TELEMETRY=1 gives FastAPI's own defaults back (spans, metrics, error logs)."""
    monkeypatch.delenv("GRIDGOV_TELEMETRY", raising=False)
    off = create_app(ApiSettings(_env_file=None))
    assert not any(off._telemetry[k] for k in ("tracing", "metrics", "logs"))
    assert off._native_telemetry.enabled() is False
    monkeypatch.setenv("GRIDGOV_TELEMETRY", "1")
    on = create_app(ApiSettings(_env_file=None))
    assert all(on._telemetry[k] for k in ("tracing", "metrics", "logs", "operation_spans"))
