"""A change feed of events from the database: what a live event stream (SSE) sends.

Every change to an event row sets ``events.updated_at``, so "what changed since I last
looked" is a query on ``(updated_at, id)``, which any number of server processes can ask
of the one database: no message broker, no shared memory, and a client that reconnects to
another worker resumes from its last :class:`Cursor`.

``updated_at`` is stamped by the writing process when it flushes, not when it commits, so
a slow transaction may commit a row *behind* a cursor that has already moved on. The feed
therefore also re-reads a ``lag`` window behind its cursor each time and sends rows in it
whose version it has not sent yet (with the unchanged cursor as their id). Rows committed
more than ``lag`` after they were stamped (a bulk load in one long transaction), or stamped
by a host whose clock is more than ``lag`` behind, can be missed: the feed is for live
work, and clients reload their list when they (re)connect.

Kinds: ``created`` for an event at version 1, else ``updated`` (an event created and
changed between two polls arrives once, as ``updated``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select

from gis_core.events.context import current_time
from gis_core.events.queries import EventFilter, conditions
from gis_core.events.service import EventService
from gis_core.events.views import event_view
from gis_core.storage.models import Event
from gis_core.storage.types import fits_integer

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DEFAULT_LAG = timedelta(seconds=10)
DEFAULT_BATCH = 500


@dataclass(frozen=True, order=True)
class Cursor:
    """A position in the feed: the (updated_at, id) of the last change passed."""

    at: datetime
    id: int

    def encode(self) -> str:
        """``<microseconds since 1970 UTC>-<event id>``, e.g. as an SSE ``id:`` line."""
        return f"{(self.at - EPOCH) // timedelta(microseconds=1)}-{self.id}"

    @classmethod
    def decode(cls, text: str | None) -> Cursor | None:
        """The cursor, or None for a missing or malformed value."""
        if not text:
            return None
        micros, sep, ident = text.strip().partition("-")
        if not sep or not micros.isdecimal() or not ident.isdecimal():
            return None
        if len(micros) > 20 or len(ident) > 19:  # before int(): no 5,000-digit parsing
            return None
        if not fits_integer(int(ident)):  # no event has that id: malformed
            return None
        try:
            return cls(EPOCH + timedelta(microseconds=int(micros)), int(ident))
        except OverflowError:
            return None


@dataclass(frozen=True)
class Change:
    kind: str
    """``created`` or ``updated``."""
    cursor: Cursor
    """The feed position after this change (send it as the SSE id)."""
    event: dict[str, Any]
    """The event as ``EventService.get(..., with_history=False)`` shows it."""


def _after(cursor: Cursor) -> Any:
    return or_(
        Event.updated_at > cursor.at, and_(Event.updated_at == cursor.at, Event.id > cursor.id)
    )


def _at_or_before(cursor: Cursor) -> Any:
    return or_(
        Event.updated_at < cursor.at, and_(Event.updated_at == cursor.at, Event.id <= cursor.id)
    )


@dataclass
class ChangeFeed:
    """Changes to the events matching ``flt`` (set ``flt.jurisdiction`` for a caller).

    ``start()`` once, then ``poll()`` as often as wanted (each call is one short read
    transaction). Not thread-safe: one feed per stream.
    """

    service: EventService
    flt: EventFilter = field(default_factory=EventFilter)
    cursor: Cursor | None = None
    lag: timedelta = DEFAULT_LAG
    batch: int = DEFAULT_BATCH
    _seen: dict[int, tuple[int, datetime]] = field(default_factory=dict, repr=False)

    def start(self) -> Cursor:
        """Place the feed at ``cursor`` (a client's last id) or at the newest change now.

        Rows within ``lag`` behind that position count as already sent.
        """
        with self.service.store.session(write=False) as session:
            if self.cursor is None:
                newest = session.execute(
                    select(Event.updated_at, Event.id)
                    .order_by(Event.updated_at.desc(), Event.id.desc())
                    .limit(1)
                ).first()
                self.cursor = Cursor(*newest) if newest else Cursor(EPOCH, 0)
            rows = session.execute(
                select(Event.id, Event.version, Event.updated_at).where(
                    Event.updated_at > self.cursor.at - self.lag, _at_or_before(self.cursor)
                )
            ).all()
        self._seen = {int(r.id): (int(r.version), r.updated_at) for r in rows}
        return self.cursor

    def poll(self) -> list[Change]:
        """The changes since the last poll, oldest first (at most ``batch`` new ones plus
        late arrivals; poll again at once when a full batch came back)."""
        cursor = self.cursor if self.cursor is not None else self.start()
        now = current_time()
        cond = conditions(self.flt, now)
        out: list[Change] = []
        with self.service.store.session(write=False) as session:
            newest = session.execute(
                select(Event.updated_at, Event.id)
                .order_by(Event.updated_at.desc(), Event.id.desc())
                .limit(1)
            ).first()
            behind = session.execute(
                select(Event.id, Event.version).where(
                    Event.updated_at > cursor.at - self.lag, _at_or_before(cursor), *cond
                )
            ).all()
            late = [int(r.id) for r in behind if self._seen.get(int(r.id), (None,))[0] != r.version]
            if late:
                for event in session.scalars(
                    select(Event).where(Event.id.in_(late)).order_by(Event.updated_at, Event.id)
                ):
                    out.append(self._change(event, cursor, now))
            ahead: Sequence[Event] = session.scalars(
                select(Event)
                .where(_after(cursor), *cond)
                .order_by(Event.updated_at, Event.id)
                .limit(self.batch)
            ).all()
            for event in ahead:
                cursor = Cursor(event.updated_at, event.id)
                out.append(self._change(event, cursor, now))
        if len(ahead) < self.batch and newest is not None:
            # Nothing more matches up to the newest row: skip the rows the filter left out.
            cursor = max(cursor, Cursor(*newest))
        self.cursor = cursor
        horizon = cursor.at - self.lag
        self._seen = {k: v for k, v in self._seen.items() if v[1] > horizon}
        return out

    def _change(self, event: Event, cursor: Cursor, now: datetime) -> Change:
        self._seen[int(event.id)] = (int(event.version), event.updated_at)
        kind = "created" if event.version == 1 else "updated"
        return Change(kind, cursor, event_view(event, now))


__all__ = ["Change", "ChangeFeed", "Cursor"]
