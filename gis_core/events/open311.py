"""Open311 GeoReport v2 on gridgov's events: services, service requests, status words.

GeoReport v2 (https://wiki.open311.org/GeoReport_v2) is the resident-app protocol; this
module maps it to gridgov's model and back, without HTTP:

* services = the event classes of GB/T 47678.5 (``service_code`` = the 5-digit class,
  ``group`` = the major class's name, ``type`` realtime, no extra attributes);
* a posted request = an :class:`~gis_core.events.EventReport` from source
  ``resident_app`` (居民随手拍): ``lat``/``long`` are WGS84 (the spec says so);
  ``address_id`` is a building id; the reporter's name is ``last_name`` + ``first_name``
  (surname first, as names are written in Chinese); ``email``, ``device_id``,
  ``account_id`` and ``attribute[...]`` are accepted and not stored;
* a request document = an event as GeoReport shows it, never with the reporter's name or
  phone. ``status`` is ``open`` or ``closed`` (:data:`OPEN311_STATUS`); ``status_notes``
  the latest note in the event's history; ``agency_responsible`` the name of the unit
  the event is with (or was routed to); ``updated_datetime`` the time of the last history
  entry; ``expected_datetime`` the deadline.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin

from sqlalchemy import and_, func, not_, or_, select

from gis_core.cases.calendar import TZ
from gis_core.cases.vocab import OPEN, Status
from gis_core.events.access import event_visible
from gis_core.events.context import current_time
from gis_core.events.queries import EventFilter, conditions
from gis_core.events.reports import EventReport, IntakeRejected
from gis_core.events.service import EventService
from gis_core.events.views import event_view
from gis_core.standards import event_classes
from gis_core.storage.models import Attachment, Event, EventHistory
from gis_core.storage.types import fits_integer

SOURCE = "resident_app"
OPEN311_STATUS: dict[str, str] = {s: "open" if s in OPEN else "closed" for s in Status}
"""gridgov status -> GeoReport status."""
DEFAULT_WINDOW = timedelta(days=90)
"""GET requests without dates: the last 90 days (the spec's default)."""
MAX_REQUESTS = 1000
"""The largest page of GET requests (``page_size``); more are reached with ``page``."""
FIELD_NAMES = {
    "lon": "long",
    "location": "lat",
    "address": "address_string",
    "building_id": "address_id",
    "category_code": "service_code",
    "photos": "media_url",
    "media": "media",
}
"""gridgov intake field -> the GeoReport parameter a client sent."""

assert set(OPEN311_STATUS) == set(Status), "every status needs an Open311 status"


@dataclass(frozen=True)
class PublicSubset:
    """What anonymous GeoReport readers may see when an operator opens reads at all:
    only events of the listed sources and classes, located to ``decimals`` decimal
    degrees (3 = about 100 m), with the status word as ``status_notes`` (never a case
    note), and without address, building id or photo."""

    sources: tuple[str, ...] = (SOURCE,)
    categories: tuple[str, ...] = ()
    """Class codes or prefixes (``06`` = a major class); empty = every class."""
    decimals: int = 3
    hidden: tuple[tuple[str, str], ...] = ()
    """(class code, area prefix) the matter catalogue makes private (visibility
    ``private``; "" = everywhere): never shown, whatever the other settings."""

    def conditions(self) -> list[Any]:
        where: list[Any] = [Event.source.in_(list(self.sources))]
        if self.categories:
            where.append(or_(*(Event.category_code.startswith(c) for c in self.categories)))
        if self.hidden:
            grid = func.coalesce(Event.grid_code, "")
            where.append(
                not_(
                    or_(
                        *(
                            and_(Event.category_code == c, grid.startswith(a))
                            if a
                            else Event.category_code == c
                            for c, a in self.hidden
                        )
                    )
                )
            )
        return where

    def redact(self, document: dict[str, Any], status: str) -> dict[str, Any]:
        def rounded(value: Any) -> Any:
            return None if value is None else round(float(value), self.decimals)

        return document | {
            "status_notes": Status(status).label,
            "lat": rounded(document.get("lat")),
            "long": rounded(document.get("long")),
            "address": None,
            "address_id": None,
            "media_url": None,
        }


def statuses(open311_status: str) -> list[str]:
    """gridgov statuses of a GeoReport status (``open`` or ``closed``)."""
    return [s for s, o in OPEN311_STATUS.items() if o == open311_status]


@lru_cache(maxsize=1)
def services() -> tuple[dict[str, Any], ...]:
    """The service list: one service per event class."""
    return tuple(
        {
            "service_code": r.code,
            "service_name": r.name,
            "description": f"{r.major_name} / {r.name}",
            "metadata": False,
            "type": "realtime",
            "keywords": r.major_name,
            "group": r.major_name,
        }
        for r in event_classes().itertuples()
    )


def service(code: str) -> dict[str, Any] | None:
    return next((s for s in services() if s["service_code"] == code), None)


def service_definition(code: str) -> dict[str, Any] | None:
    """The definition of a service (no attributes: ``metadata`` is false), or None."""
    return None if service(code) is None else {"service_code": code, "attributes": []}


def report_from_fields(fields: Mapping[str, Any], uploads: Sequence[str] = ()) -> EventReport:
    """The EventReport of a posted request (validation is the intake's: IntakeRejected);
    ``uploads`` are the relative URLs of photos stored from a multipart ``media``."""

    def text(name: str) -> str | None:
        value = fields.get(name)
        value = None if value is None else str(value).strip()
        return value or None

    name = "".join(p for p in (text("last_name"), text("first_name")) if p) or None
    media = text("media_url")
    return EventReport(
        source=SOURCE,
        category_code=text("service_code") or "",
        description=text("description") or "",
        lon=text("long"),
        lat=text("lat"),
        crs="wgs84",
        address=text("address_string"),
        building_id=text("address_id"),
        reporter_name=name,
        reporter_phone=text("phone"),
        photos=([media] if media else []) + list(uploads),
    )


MEDIA_TYPES = {
    b"\xff\xd8\xff": ("image/jpeg", "jpg"),
    b"\x89PNG\r\n\x1a\n": ("image/png", "png"),
    b"GIF87a": ("image/gif", "gif"),
    b"GIF89a": ("image/gif", "gif"),
}
"""Photo formats a ``media`` upload may have, by their first bytes (WebP below)."""


def check_media(data: bytes) -> tuple[str, str]:
    """(content type, file extension) of an uploaded photo, read from its bytes (a
    client's declared type is not trusted); IntakeRejected on ``media`` otherwise."""
    if not data:
        raise IntakeRejected("media", "the uploaded file is empty")
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", "webp"
    for magic, kind in MEDIA_TYPES.items():
        if data.startswith(magic):
            return kind
    raise IntakeRejected("media", "only JPEG, PNG, GIF or WebP photos are accepted")


def media_path(digest: str, extension: str) -> str:
    """The URL path of a stored upload on this server (served by ``/media/``)."""
    return f"/media/{digest}.{extension}"


def absolute(url: str | None, base: str | None, server: str | None = None) -> str | None:
    """A stored photo reference as an absolute URL (GeoReport's ``media_url`` is one): a
    path from ``/`` (an upload) on ``server``, any other relative path on ``base`` (where
    the city keeps its photos)."""
    if url is None or base is None or "://" in url:
        return url
    if url.startswith("/") and server is not None:
        return urljoin(server, url)
    return urljoin(base, url.lstrip("/"))


def open311_field(field: str) -> str:
    """The GeoReport parameter name of an intake field (for error messages)."""
    return FIELD_NAMES.get(field, field)


def service_notice(event: Mapping[str, Any]) -> str:
    unit = ((event.get("routing") or {}).get("unit") or {}).get("name")
    return f"已受理，承办单位：{unit}" if unit else "已受理"


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(TZ).isoformat()


class Open311Requests:
    """Request documents read from the events store (with batched notes and photos)."""

    def __init__(self, events: EventService) -> None:
        self.events = events

    def _unit_name(self, event: Mapping[str, Any]) -> str | None:
        unit = self.events.router.units.get(event.get("unit_id") or -1)
        if unit is not None:
            return str(unit.name)
        return ((event.get("routing") or {}).get("unit") or {}).get("name")

    def documents(
        self,
        events: Sequence[Mapping[str, Any]],
        media_base: str | None = None,
        public: PublicSubset | None = None,
        server: str | None = None,
    ) -> list[dict[str, Any]]:
        """GeoReport documents; a relative photo path is made absolute on ``media_base``;
        ``public`` redacts them for anonymous callers."""
        ids = [int(e["id"]) for e in events]
        last: dict[int, tuple[str | None, datetime]] = {}
        photos: dict[int, str] = {}
        with self.events.store.session(write=False) as session:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                for row in session.execute(
                    select(EventHistory.event_id, EventHistory.note, EventHistory.at)
                    .where(EventHistory.event_id.in_(chunk))
                    .order_by(EventHistory.event_id, EventHistory.seq)
                ):
                    note = row.note or last.get(int(row.event_id), (None, None))[0]
                    last[int(row.event_id)] = (note, row.at)
                for row in session.execute(
                    select(Attachment.event_id, Attachment.url)
                    .where(Attachment.event_id.in_(chunk), Attachment.kind == "photo")
                    .order_by(Attachment.event_id, Attachment.id.desc())
                ):
                    photos[int(row.event_id)] = row.url  # the lowest id wins (desc order)
        out = []
        for event in events:
            note, updated = last.get(int(event["id"]), (None, None))
            code = event.get("category_code") or ""
            known = service(code)
            out.append(
                {
                    "service_request_id": str(event["id"]),
                    "status": OPEN311_STATUS[Status(event["status"])],
                    "status_notes": note or None,
                    "service_name": None if known is None else known["service_name"],
                    "service_code": code or None,
                    "description": event.get("description") or None,
                    "agency_responsible": self._unit_name(event),
                    "service_notice": service_notice(event),
                    "requested_datetime": event.get("reported_at"),
                    "updated_datetime": _iso(updated),
                    "expected_datetime": event.get("deadline_at"),
                    "address": event.get("address"),
                    "address_id": event.get("building_id"),
                    "zipcode": None,
                    "lat": event.get("lat"),
                    "long": event.get("lon"),
                    "media_url": absolute(photos.get(int(event["id"])), media_base, server),
                }
            )
            if public is not None:
                out[-1] = public.redact(out[-1], event["status"])
        return out

    def by_token(
        self, token: str, jurisdiction: str | None = None, public: PublicSubset | None = None
    ) -> int | None:
        """The event id of a token (the event's ``public_id``), if the caller sees it."""
        where = public.conditions() if public is not None else []
        with self.events.store.session(write=False) as session:
            row = session.execute(
                select(Event.id, Event.grid_code).where(Event.public_id == token, *where)
            ).first()
        if row is None or not event_visible(jurisdiction, row.grid_code):
            return None
        return int(row.id)

    def search_page(
        self,
        *,
        ids: Iterable[int] = (),
        service_codes: Sequence[str] = (),
        start: datetime | None = None,
        end: datetime | None = None,
        status: Sequence[str] = (),
        jurisdiction: str | None = None,
        limit: int = MAX_REQUESTS,
        offset: int = 0,
        media_base: str | None = None,
        public: PublicSubset | None = None,
        server: str | None = None,
        count: bool = True,
    ) -> tuple[list[dict[str, Any]], int]:
        """GET requests, and how many match in all (-1 when not ``count``): by ids (which
        overrides everything else but the jurisdiction), or by service codes, a period of
        ``requested_datetime`` (default: the last 90 days, or 90 days either side of the
        one date given) and GeoReport statuses; newest first, ``limit`` from ``offset``."""
        wanted = sorted({int(i) for i in ids})
        now = current_time()
        if wanted:
            flt = EventFilter(jurisdiction=jurisdiction)
            extra: list[Any] = [Event.id.in_([i for i in wanted if fits_integer(i)])]
        else:
            if start is None and end is None:
                end = now
            if start is None:
                start = (end or now) - DEFAULT_WINDOW
            if end is None:
                end = start + DEFAULT_WINDOW
            flt = EventFilter(
                status=[s for o in status for s in statuses(o)],
                reported_from=start,
                reported_to=end,
                jurisdiction=jurisdiction,
            )
            extra = [Event.category_code.in_(list(service_codes))] if service_codes else []
        if public is not None:
            extra += public.conditions()
        where = [*conditions(flt, now), *extra]
        with self.events.store.session(write=False) as session:
            rows = session.scalars(
                select(Event)
                .where(*where)
                .order_by(Event.reported_at.desc(), Event.id.desc())
                .limit(limit)
                .offset(offset)
            ).all()
            views = [event_view(e, now) for e in rows]
            total = -1
            if count:
                total = int(
                    session.execute(
                        select(func.count()).select_from(Event).where(*where)
                    ).scalar_one()
                )
        return self.documents(views, media_base, server=server, public=public), total


__all__ = [
    "MAX_REQUESTS",
    "OPEN311_STATUS",
    "SOURCE",
    "Open311Requests",
    "PublicSubset",
    "absolute",
    "check_media",
    "media_path",
    "open311_field",
    "report_from_fields",
    "service",
    "service_definition",
    "services",
    "statuses",
]
