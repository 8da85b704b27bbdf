"""Accounts and API keys in the store: create, find, verify, revoke.

Plain secrets exist only in the caller's hands: a key is returned once by
:meth:`Accounts.create_key` and only its SHA-256 digest is stored (keys are 256 random
bits, so a fast digest is safe and lets every request find its key by an indexed
equality); passwords are stored as argon2id hashes. Reads return frozen dataclasses, not
ORM rows, so nothing outside holds a session.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import gis_core.auth.passwords as passwords
from gis_core.auth.ratelimit import Rate
from gis_core.auth.roles import check_role, format_scopes, parse_scopes, scopes_for_role
from gis_core.standards.codes import validate_area_code
from gis_core.storage.models import (
    AdminUnit,
    ApiKey,
    AuthSecret,
    BoundaryGeneration,
    ResponsibleUnit,
    User,
)
from gis_core.storage.protocol import Database
from gis_core.storage.types import utcnow

KEY_PREFIX = "gg_"
KEY_DISPLAY_CHARS = 11  # "gg_" + 8: enough to tell keys apart in a list, useless to guess
MAX_KEY_LENGTH = 128
SIGNING_SECRET_NAME = "token_signing"
DEFAULT_KEY_RATE = Rate(600, 60)
_USERNAME = re.compile(r"^[\w.@-]{1,64}$")


class AccountError(ValueError):
    """A request the accounts cannot satisfy (duplicate name, bad role or area ...)."""


class NotFound(LookupError):
    """No such user or live key."""


@dataclass(frozen=True)
class UserInfo:
    id: int
    username: str
    display_name: str | None
    role: str
    area_code: str | None
    unit_id: int | None
    active: bool
    token_version: int
    created_at: datetime
    last_login_at: datetime | None

    @property
    def jurisdiction(self) -> str | None:
        return self.area_code

    @property
    def scopes(self) -> frozenset[str]:
        return scopes_for_role(self.role)


@dataclass(frozen=True)
class KeyInfo:
    id: int
    name: str
    prefix: str
    scopes: frozenset[str]
    area_code: str | None
    rate: Rate | None
    created_at: datetime
    created_by: str | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def jurisdiction(self) -> str | None:
        return self.area_code


_revocations = 0
_revocations_lock = threading.Lock()


def revocations() -> int:
    """How many keys this process revoked (``key_cache`` forgets when it changes)."""
    return _revocations


def _key_revoked() -> None:
    global _revocations
    with _revocations_lock:
        _revocations += 1


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> str:
    """A fresh key: ``gg_`` and 43 URL-safe characters (256 random bits)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def normalise_username(username: str) -> str:
    """Stripped and lower-cased (so "Admin" and "admin" are one account), validated."""
    name = username.strip().lower()
    if not _USERNAME.match(name):
        raise AccountError(
            f"username {username!r}: 1-64 letters, digits, '.', '_', '@' or '-', no spaces"
        )
    return name


def _user_info(u: User) -> UserInfo:
    return UserInfo(
        u.id,
        u.username,
        u.display_name,
        u.role,
        u.area_code,
        u.unit_id,
        u.active,
        u.token_version,
        u.created_at,
        u.last_login_at,
    )


def _key_info(k: ApiKey) -> KeyInfo:
    rate = Rate(k.rate_count, k.rate_period) if k.rate_count and k.rate_period else None
    return KeyInfo(
        k.id,
        k.name,
        k.prefix,
        frozenset(k.scopes.split()),
        k.area_code,
        rate,
        k.created_at,
        k.created_by,
        k.revoked_at,
    )


class Accounts:
    """User and key operations over one ``Store``."""

    def __init__(self, store: Database) -> None:
        self.store = store

    # -- areas and units -------------------------------------------------------------------

    def check_area(self, code: str | None) -> str | None:
        """The validated code; when boundaries are loaded it must exist in the active
        generation (a typo'd jurisdiction would silently show nothing)."""
        code = validate_area_code(code)
        if code is None:
            return None
        au, bg = AdminUnit.__table__, BoundaryGeneration.__table__
        with self.store.connection(write=False) as conn:
            active = conn.execute(select(bg.c.id).where(bg.c.active)).scalar()
            if active is None:
                return code
            found = conn.execute(
                select(au.c.id).where(au.c.generation_id == active, au.c.code == code)
            ).first()
        if found is None:
            raise AccountError(f"area {code} is not in the active boundary generation")
        return code

    def _unit_id(self, session: Session, unit_code: str | None) -> int | None:
        if unit_code is None:
            return None
        unit_id = session.scalar(
            select(ResponsibleUnit.id).where(ResponsibleUnit.code == unit_code)
        )
        if unit_id is None:
            raise AccountError(f"no responsible unit with code {unit_code!r}")
        return unit_id

    # -- users -----------------------------------------------------------------------------

    def add_user(
        self,
        username: str,
        password: str,
        role: str,
        area: str | None = None,
        *,
        display_name: str | None = None,
        unit_code: str | None = None,
    ) -> UserInfo:
        name = normalise_username(username)
        try:
            check_role(role)
        except ValueError as exc:
            raise AccountError(str(exc)) from None
        area = self.check_area(area)
        password_hash = passwords.hash_password(password)
        try:
            with self.store.session() as s:
                if s.scalar(select(User.id).where(User.username == name)) is not None:
                    raise AccountError(f"user {name!r} already exists")
                user = User(
                    username=name,
                    display_name=display_name,
                    role=role,
                    area_code=area,
                    unit_id=self._unit_id(s, unit_code),
                    password_hash=password_hash,
                    password_changed_at=utcnow(),
                )
                s.add(user)
                s.flush()
                return _user_info(user)
        except IntegrityError as exc:  # a concurrent add of the same name
            raise AccountError(f"user {name!r} already exists") from exc

    def get_user(self, username: str) -> UserInfo | None:
        with self.store.session(write=False) as s:
            user = s.scalar(select(User).where(User.username == username.strip().lower()))
            return None if user is None else _user_info(user)

    def get_user_by_id(self, user_id: int) -> UserInfo | None:
        with self.store.session(write=False) as s:
            user = s.get(User, user_id)
            return None if user is None else _user_info(user)

    def list_users(self) -> list[UserInfo]:
        with self.store.session(write=False) as s:
            return [_user_info(u) for u in s.scalars(select(User).order_by(User.username))]

    def authenticate(self, username: str, password: str) -> UserInfo | None:
        """The active user whose password this is, else None (same time either way)."""
        try:
            name = normalise_username(username)
        except AccountError:
            passwords.verify_password(None, password)
            return None
        with self.store.session(write=False) as s:
            row = s.execute(
                select(User.id, User.password_hash, User.active).where(User.username == name)
            ).first()
        ok = passwords.verify_password(row.password_hash if row else None, password)
        if row is None or not ok or not row.active:
            return None
        with self.store.session() as s:
            user = s.get(User, row.id)
            if user is None or not user.active:
                return None
            user.last_login_at = utcnow()
            if passwords.needs_rehash(user.password_hash):
                user.password_hash = passwords.hash_password(password)
            s.flush()
            return _user_info(user)

    def set_password(self, username: str, password: str) -> UserInfo:
        """New password; every token issued before stops working."""
        password_hash = passwords.hash_password(password)
        with self.store.session() as s:
            user = self._user_row(s, username)
            user.password_hash = password_hash
            user.password_changed_at = utcnow()
            user.token_version += 1
            s.flush()
            return _user_info(user)

    def set_active(self, username: str, active: bool) -> UserInfo:
        """Enable or disable a login; disabling also ends its sessions (tokens)."""
        with self.store.session() as s:
            user = self._user_row(s, username)
            if user.active and not active:
                user.token_version += 1
            user.active = active
            s.flush()
            return _user_info(user)

    def _user_row(self, session: Session, username: str) -> User:
        user = session.scalar(select(User).where(User.username == username.strip().lower()))
        if user is None:
            raise NotFound(f"no user {username!r}")
        return user

    # -- API keys --------------------------------------------------------------------------

    def create_key(
        self,
        name: str,
        scopes: str | Iterable[str],
        rate: Rate | None = DEFAULT_KEY_RATE,
        area: str | None = None,
        *,
        created_by: str | None = None,
        key: str | None = None,
    ) -> tuple[KeyInfo, str]:
        """A new key: its record and the plain key, which is not kept anywhere.

        ``key`` fixes the plain key instead of generating one (the demo's fixed key).
        """
        name = name.strip()
        if not name or len(name) > 100:
            raise AccountError("a key needs a name of 1-100 characters")
        try:
            wanted = parse_scopes(scopes)
        except ValueError as exc:
            raise AccountError(str(exc)) from None
        area = self.check_area(area)
        plain = key or new_key()
        if not plain.startswith(KEY_PREFIX) or len(plain) > MAX_KEY_LENGTH:
            raise AccountError(f"a key starts with {KEY_PREFIX!r} and is at most 128 characters")
        row = ApiKey(
            name=name,
            prefix=plain[:KEY_DISPLAY_CHARS],
            key_hash=hash_key(plain),
            scopes=format_scopes(wanted),
            area_code=area,
            rate_count=rate.count if rate else None,
            rate_period=rate.period if rate else None,
            created_by=created_by,
        )
        try:
            with self.store.session() as s:
                live = select(ApiKey.id).where(ApiKey.name == name, ApiKey.revoked_at.is_(None))
                if s.scalar(live) is not None:
                    raise AccountError(f"a live key named {name!r} exists; revoke it first")
                s.add(row)
                s.flush()
                return _key_info(row), plain
        except IntegrityError as exc:
            raise AccountError(f"a live key named {name!r} (or this key) exists") from exc

    def find_key(self, plain: str) -> KeyInfo | None:
        """The key record for a presented key (revoked ones too: the caller says why it
        refuses), or None. Malformed input never reaches the database."""
        if not plain.startswith(KEY_PREFIX) or len(plain) > MAX_KEY_LENGTH:
            return None
        # A Core row, not an ORM object: this runs on every keyed request (issue 15).
        table = ApiKey.__table__
        with self.store.connection(write=False) as conn:
            row = conn.execute(select(table).where(table.c.key_hash == hash_key(plain))).first()
            return None if row is None else _key_info(row)  # type: ignore[arg-type]

    def list_keys(self, *, include_revoked: bool = False) -> list[KeyInfo]:
        stmt = select(ApiKey).order_by(ApiKey.name, ApiKey.id)
        if not include_revoked:
            stmt = stmt.where(ApiKey.revoked_at.is_(None))
        with self.store.session(write=False) as s:
            return [_key_info(k) for k in s.scalars(stmt)]

    def revoke_key(self, name: str) -> KeyInfo:
        """Revoke the live key of that name (effective on the next request)."""
        with self.store.session() as s:
            row = s.scalar(
                select(ApiKey).where(ApiKey.name == name.strip(), ApiKey.revoked_at.is_(None))
            )
            if row is None:
                raise NotFound(f"no live key named {name!r}")
            row.revoked_at = utcnow()
            s.flush()
            info = _key_info(row)
        _key_revoked()  # committed: this process's key caches forget (key_cache)
        return info

    # -- secrets ---------------------------------------------------------------------------

    def signing_secret(self) -> str:
        """The generated token-signing secret, created on first use.

        Only used when ``GRIDGOV_SECRET_KEY`` is unset (the embedded demo): kept in the
        database so all workers and restarts agree. Two processes racing to create it
        both end up reading the one row that won.
        """
        for _ in range(2):
            with self.store.session(write=False) as s:
                value = s.scalar(
                    select(AuthSecret.value).where(AuthSecret.name == SIGNING_SECRET_NAME)
                )
            if value is not None:
                return value
            try:
                with self.store.session() as s:
                    s.add(AuthSecret(name=SIGNING_SECRET_NAME, value=secrets.token_urlsafe(48)))
            except IntegrityError:
                continue
        raise RuntimeError("could not create or read the token-signing secret")
