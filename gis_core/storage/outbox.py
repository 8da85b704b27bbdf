"""The outbox hook: every history entry a source should hear about gets its outbox rows in
the SAME flush, hence the same transaction, as the entry itself.

Why a session hook: every change to a case (intake, bulk loads, the loop, relocations,
Open311) is an ``EventHistory`` row added through an ORM session, so listening there
cannot miss a path, and a rolled-back change takes its outbox rows with it. The
deliverer (``gis_core.integrations.outbox``) sends them later.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, event, or_, select, text
from sqlalchemy.orm import Session

from gis_core.cases.vocab import Action
from gis_core.storage.models import Event, EventHistory, OutboxMessage, OutboxTarget

#: Workflow action -> what the source is told (the results 统一口径反馈 sends back).
NOTICE_KINDS: dict[str, str] = {
    Action.REPORT.value: "received",
    Action.FILE.value: "accepted",
    Action.REJECT.value: "rejected",
    Action.DISPATCH.value: "dispatched",
    Action.HANDLE.value: "handled",
    Action.CLOSE.value: "closed",
    Action.EVALUATE.value: "evaluated",
}


def notice_payload(ev: Event, entry: EventHistory, kind: str) -> dict[str, Any]:
    """What a source receives: the case, what happened, no personal data."""
    return {
        "event_id": ev.id,
        "public_id": ev.public_id,
        "source": ev.source,
        "external_id": ev.external_id,
        "seq": entry.seq,
        "kind": kind,
        "action": entry.action,
        "status": entry.to_status,
        "note": entry.note,
        "at": entry.at.isoformat() if entry.at is not None else None,
    }


_T = OutboxTarget.__table__
_TARGETS = select(_T.c.id, _T.c.source, _T.c.event_id).where(
    _T.c.active,
    or_(
        _T.c.source.in_(bindparam("sources", expanding=True)),
        _T.c.event_id.in_(bindparam("events", expanding=True)),
    ),
)
"""The active targets of some sources or events (``add_notices``)."""
_TARGETS_PG = text(
    "SELECT id, source, event_id FROM outbox_targets WHERE active"
    " AND (source = ANY(CAST(:sources AS varchar[])) OR event_id = ANY(CAST(:events AS int[])))"
)
"""PostgreSQL: the same as arrays, one statement text whatever the number of sources and
events (stays prepared; expanding IN lists were rendered anew per batch size)."""
SOURCE_TARGETS_SQL = (
    "SELECT id, source, event_id FROM outbox_targets WHERE active"
    " AND source = ANY(CAST(%(sources)s AS varchar[]))"
)
"""PostgreSQL, psycopg's own parameters: the active targets of some sources, which are all
the targets NEW events have (a target of one event references an existing event)."""


@event.listens_for(Session, "before_flush")
def _write_outbox(session: Session, _ctx: Any, _instances: Any) -> None:
    entries = [obj for obj in session.new if isinstance(obj, EventHistory)]
    if entries:
        add_notices(session, entries)


def add_notices(
    session: Session,
    entries: list[EventHistory],
    known: dict[int, Event] | None = None,
    targets: list[Any] | None = None,
    *,
    add: bool = True,
) -> list[OutboxMessage]:
    """Add the outbox rows of ``entries`` to ``session``: what the flush hook does, for
    writers that insert history rows with Core statements (intake's group commit), so
    they pass their new events in ``known`` (no query for them), and the active targets
    when they read them already (``targets``: rows with ``id, source, event_id``, e.g. by
    :data:`SOURCE_TARGETS_SQL` for new events). ``add=False``: the rows are returned, not
    added (the caller inserts them with its own statements)."""
    entries = [e for e in entries if e.action in NOTICE_KINDS]
    if not entries:
        return []
    with session.no_autoflush:
        ids = sorted({e.event_id for e in entries})
        events: dict[int, Event | None] = dict.fromkeys(ids)
        for ev in (known or {}).values():
            if ev.id in events:
                events[ev.id] = ev
        for ev in session.identity_map.values():  # intake's new events: no query
            if isinstance(ev, Event) and ev.id in events and events[ev.id] is None:
                events[ev.id] = ev
        missing = [i for i in ids if events[i] is None]
        for start in range(0, len(missing), 500):  # one query per chunk, not one per event
            query = select(Event).where(Event.id.in_(missing[start : start + 500]))
            events.update((ev.id, ev) for ev in session.scalars(query))
        if targets is None:
            sources = {ev.source for ev in events.values() if ev is not None}
            # Core rows of a statement built once: this runs with every intake batch (and
            # usually finds none), and building the query cost more than running it.
            conn = session.connection()
            query = _TARGETS_PG if conn.dialect.name == "postgresql" else _TARGETS
            params = {"sources": sorted(sources), "events": list(events)}
            targets = list(conn.execute(query, params).all())
    messages = _messages(entries, events, targets) if targets else []
    if add:
        session.add_all(messages)
    return messages


def new_event_notices(
    entries: list[EventHistory], events: dict[int, Event], targets: list[Any]
) -> list[OutboxMessage]:
    """`add_notices` for first history entries of new ``events`` (by id) whose active
    targets were read already (:data:`SOURCE_TARGETS_SQL`): no session, no query."""
    entries = [e for e in entries if e.action in NOTICE_KINDS]
    return _messages(entries, dict(events), targets) if entries and targets else []


def _messages(
    entries: list[EventHistory], events: dict[int, Event | None], targets: list[Any]
) -> list[OutboxMessage]:
    """One message per entry and target that hears about its event, in (event, seq) order."""
    messages = []
    for entry in sorted(entries, key=lambda h: (h.event_id, h.seq)):
        ev = events[entry.event_id]
        if ev is None:
            continue
        kind = NOTICE_KINDS[entry.action]
        for target in targets:
            if target.source != ev.source and target.event_id != ev.id:
                continue
            messages.append(
                OutboxMessage(
                    event_id=ev.id,
                    target_id=target.id,
                    seq=entry.seq,
                    kind=kind,
                    payload=notice_payload(ev, entry, kind),
                    idempotency_key=f"{ev.public_id}-{entry.seq}-{target.id}",
                )
            )
    return messages


__all__ = [
    "NOTICE_KINDS",
    "SOURCE_TARGETS_SQL",
    "add_notices",
    "new_event_notices",
    "notice_payload",
]
