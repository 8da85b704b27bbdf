"""Accounts and keys in the store, on SQLite and PostGIS: hashed, revocable, idempotent demo."""

from __future__ import annotations

import hashlib

import pytest
from alembic import command
from sqlalchemy import inspect, select, text

from gis_core.auth import AccountError, Accounts, NotFound, Rate, ensure_demo_accounts
from gis_core.auth.demo_accounts import DEMO_KEY, DEMO_PASSWORD
from gis_core.sample_data.seeding import seed_store
from gis_core.storage import Store
from gis_core.storage.models import AUTH_TABLES, ApiKey, User


def _all_text(store: Store, table: str) -> str:
    """Every value of every row of ``table``, as one string (to search for secrets)."""
    with store.engine.connect() as conn:
        rows = conn.execute(text(f"SELECT * FROM {table}")).all()
    return "\n".join(" ".join(str(v) for v in row) for row in rows)


def test_users_add_authenticate_disable(store: Store) -> None:
    accounts = Accounts(store)
    user = accounts.add_user("Zhang.Wei", "long enough pw", "dispatcher", "340111001")
    assert (user.username, user.role, user.jurisdiction) == ("zhang.wei", "dispatcher", "340111001")
    assert "long enough pw" not in _all_text(store, "users")
    assert accounts.authenticate("ZHANG.WEI", "long enough pw") == accounts.get_user("zhang.wei")
    assert accounts.get_user("zhang.wei").last_login_at is not None
    assert accounts.authenticate("zhang.wei", "wrong password") is None
    assert accounts.authenticate("nobody", "long enough pw") is None
    assert accounts.authenticate("bad name!", "long enough pw") is None
    with pytest.raises(AccountError, match="already exists"):
        accounts.add_user("zhang.wei", "long enough pw", "analyst")
    with pytest.raises(AccountError, match="unknown role"):
        accounts.add_user("li", "long enough pw", "boss")
    with pytest.raises(ValueError, match="6 \\(district\\)"):
        accounts.add_user("li", "long enough pw", "analyst", "3401")
    with pytest.raises(ValueError, match="too short"):
        accounts.add_user("li", "short", "analyst")

    version = user.token_version
    changed = accounts.set_password("zhang.wei", "another long pw")
    assert changed.token_version == version + 1
    assert accounts.authenticate("zhang.wei", "another long pw") is not None
    disabled = accounts.set_active("zhang.wei", False)
    assert not disabled.active and disabled.token_version == version + 2
    assert accounts.authenticate("zhang.wei", "another long pw") is None
    assert accounts.set_active("zhang.wei", True).active
    with pytest.raises(NotFound):
        accounts.set_active("nobody", False)
    assert [u.username for u in accounts.list_users()] == ["zhang.wei"]


def test_keys_are_stored_hashed_and_revocable(store: Store) -> None:
    accounts = Accounts(store)
    info, key = accounts.create_key("hotline", "locate,events:write", Rate(600, 60), "340111")
    assert key.startswith("gg_") and len(key) >= 40
    assert info.scopes == {"locate", "events:write"} and info.rate == Rate(600, 60)
    stored = _all_text(store, "api_keys")
    assert key not in stored and key[11:] not in stored  # neither the key nor its secret part
    with store.session(write=False) as s:
        row = s.scalar(select(ApiKey))
        assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
        assert row.prefix == key[:11]
    assert accounts.find_key(key) == info
    assert accounts.find_key(key + "x") is None
    assert accounts.find_key("not a key") is None
    with pytest.raises(AccountError, match="live key named"):
        accounts.create_key("hotline", "locate")
    with pytest.raises(AccountError, match="unknown"):
        accounts.create_key("other", "locate,evnets:read")

    revoked = accounts.revoke_key("hotline")
    assert not revoked.active and not accounts.find_key(key).active
    with pytest.raises(NotFound):
        accounts.revoke_key("hotline")
    again, key2 = accounts.create_key("hotline", "locate", None)  # the name is free again
    assert again.rate is None and key2 != key
    assert [k.name for k in accounts.list_keys()] == ["hotline"]
    assert len(accounts.list_keys(include_revoked=True)) == 2


def test_signing_secret_is_generated_once(store: Store) -> None:
    first = Accounts(store).signing_secret()
    assert len(first) >= 32 and Accounts(store).signing_secret() == first


def test_demo_accounts_are_idempotent_and_use_real_streets(store: Store) -> None:
    seed_store(store)
    accounts = ensure_demo_accounts(store)
    assert ensure_demo_accounts(store) == accounts
    streets = sorted(store.read_admin_layer("street")["code"])[:2]
    by_role = [(a.role, a.area) for a in accounts]
    assert by_role == [
        ("admin", None),
        ("dispatcher", "340111"),
        ("dispatcher", streets[0]),
        ("dispatcher", streets[1]),
        ("analyst", "340111"),
        ("planner", "340111"),
        ("api_key", None),
    ]
    with store.session(write=False) as s:
        assert len(s.scalars(select(User)).all()) == 6
        assert len(s.scalars(select(ApiKey)).all()) == 1
    acc = Accounts(store)
    for username, password, role, _area in accounts[:-1]:
        assert password == DEMO_PASSWORD
        assert acc.authenticate(username, password).role == role
    assert acc.find_key(DEMO_KEY).scopes == {"locate", "layers", "events:read"}

    # A demo password changed by hand is reset, so the printed credentials keep working.
    acc.set_password("admin", "changed by someone")
    acc.revoke_key("demo-app")
    ensure_demo_accounts(store)
    assert acc.authenticate("admin", DEMO_PASSWORD) is not None
    assert acc.find_key(DEMO_KEY).active

    # Jurisdictions are checked against the loaded boundaries.
    with pytest.raises(AccountError, match="not in the active boundary generation"):
        acc.add_user("typo", "long enough pw", "dispatcher", "340111099")
    assert acc.add_user("ok", "long enough pw", "dispatcher", streets[1]).area_code == streets[1]


def test_demo_accounts_without_boundaries(store: Store) -> None:
    roles = [a.role for a in ensure_demo_accounts(store)]
    assert roles == ["admin", "dispatcher", "analyst", "planner", "api_key"]


def test_auth_migration_downgrades_and_upgrades(store: Store) -> None:
    cfg = store.alembic_config()
    with store.connection() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0002_case_fields")  # to just before the auth revision
    assert not set(AUTH_TABLES) & set(inspect(store.engine).get_table_names())
    store.upgrade()
    assert set(AUTH_TABLES) <= set(inspect(store.engine).get_table_names())
    assert store.current_revision() == store.head_revision()
