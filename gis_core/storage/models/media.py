"""Uploaded media (residents' photos from Open311 clients), stored in the database.

Content-addressed: the key is the SHA-256 of the bytes, so the same photo sent twice is
kept once, and its URL (``/media/<sha256>.<ext>``) cannot be guessed from an event id.
An event's ``attachments`` row points at it by that relative URL.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from gis_core.storage.models.base import Base, now_default
from gis_core.storage.types import UTCDateTime, utcnow


class MediaBlob(Base):
    __tablename__ = "media_blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=now_default()
    )


MEDIA_TABLES = ("media_blobs",)
