"""State that several server processes and nodes must share (issue 15, scale-out): API-key
and login rate buckets, and the login guard's attempts and failures. Kept in the one
database every node uses when ``GRIDGOV_SHARED_STATE`` is ``database`` (or Redis)."""

from __future__ import annotations

from sqlalchemy import Boolean, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gis_core.storage.models.base import Base

SHARED_STATE_TABLES = ("rate_buckets", "login_events")
LOGIN_EVENT_KINDS = ("attempt", "pair_failure", "account_failure")
"""attempt: a login tried from an address; pair_failure: a failure for (account, address);
account_failure: a failure for the account from anywhere."""


class RateBucket(Base):
    """A token bucket: ``tokens`` left at ``updated_at`` (seconds since 1970)."""

    __tablename__ = "rate_buckets"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)
    full_at: Mapped[float] = mapped_column(Float)
    """When the bucket is full again (then it equals a fresh one and may be deleted)."""
    allowed: Mapped[bool] = mapped_column(Boolean)
    """Whether the last hit was let through (read back by the same statement)."""

    __table_args__ = (Index("ix_rate_buckets_full_at", "full_at"),)


class LoginEvent(Base):
    """One login attempt or failure, at ``at`` (seconds since 1970)."""

    __tablename__ = "login_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(400))
    at: Mapped[float] = mapped_column(Float)

    __table_args__ = (
        Index("ix_login_events_kind_key_at", "kind", "key", "at"),
        Index("ix_login_events_at", "at"),
    )
