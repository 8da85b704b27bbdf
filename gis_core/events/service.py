"""`EventService`: the one object the API, the CLI and loaders hold for events.

A facade and nothing more: each method IS a module function that takes the context as its
first argument, so the signature and docstring live once, next to the code:

* :mod:`~gis_core.events.intake`: `submit`, `submit_many` (validation in
  :mod:`~gis_core.events.reports`, duplicates in :mod:`~gis_core.events.duplicates`);
* :mod:`~gis_core.events.casework`: `act` (the persisted case loop of
  :mod:`~gis_core.events.loop` with co-tasks and closure standards);
* :mod:`~gis_core.events.loop`: `relocate`;
* :mod:`~gis_core.events.queries`: `list`, `status_counts`, `events_frame`, `indicators`;
* :mod:`~gis_core.events.pages`: `page`, `encoded_page` (the list page in one session);
* :mod:`~gis_core.events.views`: `get` (the event view with history).
"""

from __future__ import annotations

import gis_core.events.casework as casework
import gis_core.events.intake as intake
import gis_core.events.loop as loop
import gis_core.events.pages as pages
import gis_core.events.queries as queries
import gis_core.events.views as views
from gis_core.cases.errors import TransitionError
from gis_core.events.context import Conflict, EventContext, EventNotFound
from gis_core.events.intake import SubmitResult
from gis_core.events.queries import EventFilter
from gis_core.events.reports import EventReport, IntakeRejected


class EventService(EventContext):
    """Events on one Store; routing rules and units are cached until `reload_rules`."""

    submit = intake.submit
    submit_many = intake.submit_many
    act = casework.act  # loop.act with the matter catalogue's rules
    relocate = loop.relocate
    get = views.get_event
    list = queries.list_events
    status_counts = queries.status_counts
    page = pages.page  # items, total and counts in one session
    encoded_page = pages.encoded_page  # the same, encoded, reused per data version
    events_frame = queries.events_frame
    indicators = queries.indicators


__all__ = [
    "Conflict",
    "EventFilter",
    "EventNotFound",
    "EventReport",
    "EventService",
    "IntakeRejected",
    "SubmitResult",
    "TransitionError",
]
