"""Uploaded media in the database (``media_blobs``), content-addressed by SHA-256."""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from gis_core.storage.models import MediaBlob
from gis_core.storage.store.core import StoreCore


class MediaStore(StoreCore):
    def put_media(self, data: bytes, content_type: str) -> str:
        """Keep ``data`` (once: the same bytes again are not stored twice); its SHA-256."""
        digest = hashlib.sha256(data).hexdigest()
        try:
            with self.session() as s:
                if s.get(MediaBlob, digest) is None:
                    s.add(
                        MediaBlob(
                            sha256=digest,
                            content_type=content_type,
                            size_bytes=len(data),
                            data=data,
                        )
                    )
        except IntegrityError:  # the same bytes stored at the same moment by another request
            pass
        return digest

    def get_media(self, digest: str) -> tuple[str, bytes] | None:
        """(content type, bytes) of a stored upload, or None."""
        with self.session(write=False) as s:
            row = s.execute(
                select(MediaBlob.content_type, MediaBlob.data).where(MediaBlob.sha256 == digest)
            ).first()
        return None if row is None else (row.content_type, bytes(row.data))
