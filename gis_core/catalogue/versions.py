"""Catalogue versions in the store: save a new immutable version, read one, and find the
entry that governs a case (the most specific area wins, then the whole-district entry).

Versions never change once written, so their entries are cached per version id.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gis_core.catalogue.entries import Entry, parse_entry
from gis_core.storage.models import CatalogueEntry, CatalogueVersion
from gis_core.storage.protocol import StoreLike

MAX_NOTE = 500


class CatalogueNotFound(LookupError):
    """No catalogue (or no such version) in the store."""


def _to_entry(row: CatalogueEntry) -> Entry:
    values = {
        "category_code": row.category_code,
        "area_code": row.area_code,
        "major_no": row.major_no,
        "major_name": row.major_name,
        "name": row.name,
        **(row.data or {}),
    }
    return parse_entry(values, {row.category_code: row.name})


class Catalogue:
    """The matter catalogue of one store."""

    def __init__(self, store: StoreLike) -> None:
        self.store = store
        self._cache: dict[int, dict[tuple[str, str], Entry]] = {}
        self._lock = threading.Lock()

    # -- versions ---------------------------------------------------------------------

    @staticmethod
    def current_id(session: Session) -> int | None:
        """The newest version's id (None: no catalogue yet)."""
        return session.scalar(select(func.max(CatalogueVersion.id)))

    def save(self, entries: Iterable[Entry], actor: str, note: str = "") -> int:
        """Write ``entries`` as a new version; returns its id. Open cases keep theirs."""
        entries = list(entries)
        with self.store.session() as session:
            version = CatalogueVersion(
                created_by=actor[:100], note=(note or "")[:MAX_NOTE], entry_count=len(entries)
            )
            session.add(version)
            session.flush()
            session.add_all(
                CatalogueEntry(
                    version_id=version.id,
                    category_code=e.category_code,
                    area_code=e.area_code,
                    major_no=e.major_no,
                    major_name=e.major_name,
                    name=e.name,
                    data=e.data(),
                )
                for e in entries
            )
            return version.id

    def versions(self) -> list[dict[str, Any]]:
        """Every version, newest first."""
        with self.store.session(write=False) as session:
            rows = session.scalars(select(CatalogueVersion).order_by(CatalogueVersion.id.desc()))
            return [_version_view(v) for v in rows]

    def load(self, version_id: int | None = None) -> tuple[dict[str, Any], list[Entry]]:
        """A version's description and its entries (default: the current version)."""
        with self.store.session(write=False) as session:
            vid = version_id if version_id is not None else self.current_id(session)
            version = None if vid is None else session.get(CatalogueVersion, vid)
            if version is None:
                raise CatalogueNotFound(
                    "no catalogue loaded" if version_id is None else f"no catalogue version {vid}"
                )
            entries = self._entries(session, version.id)
            return _version_view(version), sorted(
                entries.values(), key=lambda e: (e.major_no, e.category_code, e.area_code)
            )

    # -- lookups ----------------------------------------------------------------------

    def _entries(self, session: Session, version_id: int) -> dict[tuple[str, str], Entry]:
        cached = self._cache.get(version_id)
        if cached is not None:
            return cached
        rows = session.scalars(
            select(CatalogueEntry).where(CatalogueEntry.version_id == version_id)
        ).all()
        table = {(r.category_code, r.area_code): _to_entry(r) for r in rows}
        with self._lock:
            self._cache[version_id] = table
        return table

    def private_classes(self) -> tuple[tuple[str, str], ...]:
        """(class code, area prefix; "" = everywhere) of the current version's private
        entries: events of these never reach anonymous or public readers."""
        with self.store.session(write=False) as session:
            version = self.current_id(session)
            if version is None:
                return ()
            table = self._entries(session, version)
        return tuple(sorted(k for k, e in table.items() if e.visibility == "private"))

    def entry_for(
        self, session: Session, version_id: int | None, category_code: str | None, area: str | None
    ) -> Entry | None:
        """The entry governing a class at a place (grid code): the longest matching area
        prefix, else the whole-district entry; None without a version or an entry."""
        if version_id is None or not category_code:
            return None
        table = self._entries(session, version_id)
        area = area or ""
        for n in range(len(area), 0, -1):
            hit = table.get((category_code, area[:n]))
            if hit is not None:
                return hit
        return table.get((category_code, ""))


def _version_view(v: CatalogueVersion) -> dict[str, Any]:
    created: datetime = v.created_at
    return {
        "version": v.id,
        "created_at": created.isoformat(),
        "created_by": v.created_by,
        "note": v.note,
        "entry_count": v.entry_count,
    }
