"""The demo never plants published credentials in a real database, and new SQLite files
are owner-only (issue 14)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gis_core.auth import Accounts, ensure_demo_accounts
from gis_core.auth.demo_accounts import DEMO_KEY, NotADemoStore, is_demo_store
from gis_core.cli import app, register_commands
from gis_core.storage import Store
from tests.api.test_events_api import cheap_passwords


def test_demo_refuses_a_store_with_real_accounts(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'real.sqlite'}"
    with Store(url) as store, cheap_passwords():
        store.upgrade()
        Accounts(store).add_user("admin", "the real admin pw", "admin")
        register_commands()
        result = CliRunner().invoke(app, ["demo", "--no-serve", "--no-events", "--url", url])
        assert result.exit_code == 2, result.output
        assert "not a demo store" in result.output
        accounts = Accounts(store)
        assert accounts.authenticate("admin", "gridgov-demo") is None
        assert accounts.authenticate("admin", "the real admin pw") is not None
        assert accounts.find_key(DEMO_KEY) is None and store.active_generation() is None
        with pytest.raises(NotADemoStore):
            ensure_demo_accounts(store)
        assert accounts.authenticate("admin", "gridgov-demo") is None


def test_an_empty_store_becomes_a_demo_store(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 'demo.sqlite'}") as store, cheap_passwords():
        store.upgrade()
        ensure_demo_accounts(store)
        assert is_demo_store(store)
        assert ensure_demo_accounts(store)  # and stays one (repairs are allowed)


def test_new_sqlite_files_are_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "fresh.sqlite"
    with Store(f"sqlite:///{path}") as store:
        store.upgrade()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_demo_loads_the_offline_basemap_also_into_an_older_demo_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    register_commands()
    with cheap_passwords():
        first = CliRunner().invoke(app, ["demo", "--no-serve", "--no-events", "--url", url])
        assert first.exit_code == 0, first.output
        with Store(url) as store:
            loaded = store.basemap_counts()
            assert loaded["roads"] > 0 and loaded["rivers"] > 0 and loaded["place_names"] > 0
            store.replace_basemap({})  # as a demo store made before the basemap existed
            assert store.basemap_counts() == {}
        again = CliRunner().invoke(app, ["demo", "--no-serve", "--no-events", "--url", url])
        assert again.exit_code == 0, again.output
        assert "offline basemap added" in again.output
        with Store(url) as store:
            assert store.basemap_counts() == loaded
