"""The app's lifespan freezes what startup built (the collector's full scans skip it while
serving) and releases it at shutdown (tests start many apps in one process)."""

import gc
from pathlib import Path

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
