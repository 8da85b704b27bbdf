"""A cheap fingerprint of everything an area report reads, for caching rendered reports.

Any case change moves ``events.updated_at`` (the feed's index makes its maximum one index
probe) or adds an event; task actions add ``event_task_history`` rows; a follow-up
answer sets ``done_at``; a boundary activation changes the active generation. The
fingerprint is district-wide: coarse (any change renders every area afresh) but never
stale.
"""

from __future__ import annotations

from sqlalchemy import func, select

from gis_core.events.context import EventContext
from gis_core.storage.models import Event, EventFollowUp, EventTaskHistory


def data_version(ctx: EventContext) -> str:
    """The fingerprint as text (equal text: the same report figures, for a past period)."""
    with ctx.session(write=False) as session:
        updated, last_event = session.execute(
            select(func.max(Event.updated_at), func.max(Event.id))
        ).one()
        task_step = session.scalar(select(func.max(EventTaskHistory.id)))
        answered, answered_at = session.execute(
            select(func.count(EventFollowUp.done_at), func.max(EventFollowUp.done_at))
        ).one()
    gen = ctx.store.active_generation()
    parts = (updated, last_event, task_step, answered, answered_at, None if gen is None else gen.id)
    return "|".join("" if p is None else str(p) for p in parts)


__all__ = ["data_version"]
