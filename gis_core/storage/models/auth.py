"""Access-control tables: user accounts, API keys, and the generated token-signing secret.

They share ``Base`` with every other table so that one metadata describes the whole
schema and the models-vs-migration test covers these tables too.
Secrets never reach these rows in plain text: passwords are argon2 hashes, API keys are
SHA-256 digests (see ``gis_core.auth``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from gis_core.cases.vocab import ACCOUNT_ROLES
from gis_core.standards.codes import ADMIN_CODE_LENGTHS
from gis_core.storage.models.base import Base, now_default, sql_in
from gis_core.storage.types import UTCDateTime, utcnow

USER_ROLES = ACCOUNT_ROLES
"""Account roles (from ``cases.vocab``); a CHECK constraint enforces them, so a new role
needs a migration."""

AUTH_TABLES = ("users", "api_keys", "auth_secrets")

_AREA_CODE_LENGTH = "area_code IS NULL OR " + sql_in(
    "length(area_code)", ADMIN_CODE_LENGTHS.values()
)
"""An area is a district, street, community or grid code."""
_AREA = ADMIN_CODE_LENGTHS["grid"]


class User(Base):
    """A person who logs in. ``area_code`` is the jurisdiction (NULL = everywhere);
    ``token_version`` is bumped to invalidate every token issued before (password change,
    disabling)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str | None] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(32))
    area_code: Mapped[str | None] = mapped_column(String(_AREA))
    unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("responsible_units.id", ondelete="SET NULL")
    )
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    token_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=now_default()
    )
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("username"),
        CheckConstraint(sql_in("role", USER_ROLES), name="role"),
        CheckConstraint(_AREA_CODE_LENGTH, name="area_code_length"),
    )


class ApiKey(Base):
    """An external application's key: only its SHA-256 digest and a display prefix are
    kept. A revoked key keeps its row (audit); names are unique among live keys only."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[str] = mapped_column(Text)  # space-separated, sorted (OAuth style)
    area_code: Mapped[str | None] = mapped_column(String(_AREA))
    rate_count: Mapped[int | None] = mapped_column(Integer)  # NULL = unlimited
    rate_period: Mapped[int | None] = mapped_column(Integer)  # seconds
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=now_default()
    )
    created_by: Mapped[str | None] = mapped_column(String(100))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("key_hash"),
        Index(
            "uq_api_keys_name_live",
            "name",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
        CheckConstraint(
            "(rate_count IS NULL AND rate_period IS NULL) OR (rate_count > 0 AND rate_period > 0)",
            name="rate",
        ),
        CheckConstraint(_AREA_CODE_LENGTH, name="area_code_length"),
    )


class AuthSecret(Base):
    """Generated secrets (the token-signing key when ``GRIDGOV_SECRET_KEY`` is unset), in
    the database so that every worker and every restart signs with the same key."""

    __tablename__ = "auth_secrets"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=now_default()
    )
