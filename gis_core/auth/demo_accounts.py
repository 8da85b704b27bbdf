"""Demo logins for the embedded sample district: fixed, published, DEMO-ONLY credentials.

`gridgov demo` prints them so that a first-time user can log in at once. They are the
only fixed credentials in gridgov; never run this against a production database (anyone
who has read this file knows the passwords and the key).
"""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import select

from gis_core.auth.accounts import Accounts, hash_key, normalise_username
from gis_core.auth.passwords import hash_password, verify_password
from gis_core.auth.roles import format_scopes
from gis_core.storage.models import ApiKey, AuthSecret, User
from gis_core.storage.protocol import StoreLike

DEMO_PASSWORD = "gridgov-demo"
"""Demo-only password of every demo account."""
DEMO_KEY = "gg_demo_340111_public_demo_key_do_not_use_in_production"
"""Demo-only API key (scopes: locate, layers, events:read)."""
DEMO_KEY_NAME = "demo-app"
DEMO_KEY_SCOPES = frozenset({"locate", "layers", "events:read"})
DEMO_DISTRICT = "340111"


DEMO_MARKER = "demo_store"
"""``auth_secrets`` row naming a database as a demo store (its value says why)."""


class NotADemoStore(RuntimeError):
    """Demo credentials were asked for on a database that holds real accounts."""


def is_demo_store(store: StoreLike) -> bool:
    with store.session(write=False) as s:
        return s.get(AuthSecret, DEMO_MARKER) is not None


def mark_demo_store(store: StoreLike, why: str = "gridgov demo") -> None:
    """Name the database a demo store (published credentials may live in it)."""
    with store.session() as s:
        if s.get(AuthSecret, DEMO_MARKER) is None:
            s.add(AuthSecret(name=DEMO_MARKER, value=why[:200]))


def has_accounts(store: StoreLike) -> bool:
    with store.session(write=False) as s:
        return (
            s.scalar(select(User.id).limit(1)) is not None
            or s.scalar(select(ApiKey.id).limit(1)) is not None
        )


def _check_demo_store(store: StoreLike) -> None:
    """A demo store, or one without any account yet (then marked one): else refuse."""
    if is_demo_store(store):
        return
    if has_accounts(store):
        raise NotADemoStore(
            "this database holds accounts and is not a demo store: demo logins (published"
            " passwords and key) are never created in it"
        )
    mark_demo_store(store)


class DemoAccount(NamedTuple):
    """(username, password, role, area); for the API key: (key name, key, "api_key", area)."""

    username: str
    password: str
    role: str
    area: str | None


def ensure_demo_accounts(store: StoreLike) -> list[DemoAccount]:
    """Create (or repair) the demo accounts and key; running it twice changes nothing.

    An admin, a district dispatcher, dispatchers of the first two streets of the active
    generation (skipped when no boundaries are loaded), an analyst, a planner, and an API key.
    An existing demo account whose password, role or area was changed is reset to the
    demo values, so the printed credentials always work.

    Only in a demo store (marked by :func:`mark_demo_store`, or a database with no account
    yet, which this marks): a database with real accounts raises :class:`NotADemoStore`.
    """
    _check_demo_store(store)
    wanted = [
        DemoAccount("admin", DEMO_PASSWORD, "admin", None),
        DemoAccount(f"dispatcher-{DEMO_DISTRICT}", DEMO_PASSWORD, "dispatcher", DEMO_DISTRICT),
    ]
    try:
        streets = store.read_admin_layer("street")
    except LookupError:  # no active generation: no streets to name
        streets = None
    if streets is not None:
        for code in sorted(streets["code"])[:2]:
            wanted.append(DemoAccount(f"dispatcher-{code}", DEMO_PASSWORD, "dispatcher", code))
    wanted.append(DemoAccount("analyst", DEMO_PASSWORD, "analyst", DEMO_DISTRICT))
    wanted.append(DemoAccount("planner", DEMO_PASSWORD, "planner", DEMO_DISTRICT))
    for account in wanted:
        _ensure_user(store, account)
    _ensure_key(store)
    return [*wanted, DemoAccount(DEMO_KEY_NAME, DEMO_KEY, "api_key", None)]


def _ensure_user(store: StoreLike, account: DemoAccount) -> None:
    name = normalise_username(account.username)
    with store.session() as s:
        user = s.scalar(select(User).where(User.username == name))
        if user is None:
            s.add(
                User(
                    username=name,
                    display_name=f"demo {account.role}",
                    role=account.role,
                    area_code=account.area,
                    password_hash=hash_password(account.password),
                )
            )
            return
        if not verify_password(user.password_hash, account.password):
            user.password_hash = hash_password(account.password)
            user.token_version += 1
        user.role, user.area_code, user.active = account.role, account.area, True


def _ensure_key(store: StoreLike) -> None:
    with store.session() as s:
        row = s.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(DEMO_KEY)))
        if row is not None:
            row.revoked_at = None
            row.scopes = format_scopes(DEMO_KEY_SCOPES)
            return
    Accounts(store).create_key(
        DEMO_KEY_NAME, DEMO_KEY_SCOPES, created_by="gridgov demo", key=DEMO_KEY
    )
