"""What an event report must say before gridgov accepts it: validation, no storage.

Every source (12345 hotline, 110 non-police, 12315, grid members' handhelds, resident
apps, IoT sensors, AI cameras, inspector patrols) sends the same `EventReport`. A report
that cannot be accepted raises `IntakeRejected` naming the field and the reason; nothing
is stored for it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from gis_core.cases.deadlines import Priority
from gis_core.cases.vocab import EVENT_SOURCES, INTAKE_SOURCES, SOURCE_LABELS
from gis_core.spatial.crs import CRSError, parse_crs
from gis_core.standards import event_classes
from gis_core.standards.limits import (
    DESCRIPTION_MAX,
    EXTERNAL_ID_MAX,
    PHOTO_URL_MAX,
    PHOTOS_MAX,
    SHORT_TEXT_MAX,
    TEXT_LIMITS,
    text_problem,
)
from gis_core.storage.types import TIME_YEARS, plausible_time

PRIORITIES: tuple[str, ...] = tuple(p.value for p in Priority)


class IntakeRejected(ValueError):
    """A report refused with the field at fault and a reason."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@lru_cache(maxsize=1)
def event_class_names() -> dict[str, str]:
    df = event_classes()
    return dict(zip(df["code"], df["name"], strict=True))


@dataclass
class EventReport:
    """One report as a source sends it (coordinates in any supported CRS, or an address)."""

    source: str
    category_code: str
    external_id: str | None = None
    description: str = ""
    lon: float | str | None = None
    lat: float | str | None = None
    crs: str = "wgs84"
    address: str | None = None
    building_id: str | None = None
    reporter_name: str | None = None
    reporter_phone: str | None = None
    priority: str = Priority.NORMAL.value
    photos: list[str] = field(default_factory=list)
    reported_at: datetime | None = None


def _coordinate(name: str, value: Any) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise IntakeRejected(name, f"must be a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise IntakeRejected(name, f"must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise IntakeRejected(name, "must be finite")
    return number


def _text(name: str, value: Any, limit: int) -> Any:
    """A text field as a string, refused when too long, with NUL or a lone surrogate."""
    if not isinstance(value, str):  # None, or a loader's number: normalised below
        return value
    problem = text_problem(value, limit)
    if problem is not None:
        raise IntakeRejected(name, problem)
    return value


def _check_texts(report: EventReport) -> None:
    """Every free-text field within its limit (gis_core.standards.limits), first of all."""
    for name in ("source", "category_code", "crs", "priority"):
        if isinstance(getattr(report, name), str):
            _text(name, getattr(report, name), SHORT_TEXT_MAX)
    for name, limit in TEXT_LIMITS.items():
        if name not in ("photos", "note"):
            _text(name, getattr(report, name), limit)
    if isinstance(report.lon, str):
        _text("lon", report.lon, SHORT_TEXT_MAX)
    if isinstance(report.lat, str):
        _text("lat", report.lat, SHORT_TEXT_MAX)
    photos = report.photos or []
    if len(photos) > PHOTOS_MAX:
        raise IntakeRejected("photos", f"at most {PHOTOS_MAX} attachments per report")
    for photo in photos:
        _text("photos", str(photo), PHOTO_URL_MAX)


def validate(report: EventReport) -> EventReport:
    """The report with normalised fields, or IntakeRejected for the first problem found."""
    _check_texts(report)
    source = str(report.source or "").strip()
    if source not in INTAKE_SOURCES:
        raise IntakeRejected(
            "source",
            f"unknown source {report.source!r}; expected one of {', '.join(EVENT_SOURCES)}",
        )
    external_id = None if report.external_id is None else str(report.external_id).strip()
    if external_id is not None and not (0 < len(external_id) <= EXTERNAL_ID_MAX):
        raise IntakeRejected("external_id", f"must be 1-{EXTERNAL_ID_MAX} characters")
    code = str(report.category_code or "").strip()
    if code not in event_class_names():
        raise IntakeRejected(
            "category_code",
            f"unknown event class {report.category_code!r} (see the standard's event code table)",
        )
    priority = str(report.priority or Priority.NORMAL.value).strip()
    if priority not in PRIORITIES:
        raise IntakeRejected("priority", f"must be one of {', '.join(PRIORITIES)}")
    lon = _coordinate("lon", report.lon)
    lat = _coordinate("lat", report.lat)
    if (lon is None) != (lat is None):
        raise IntakeRejected("lon" if lon is None else "lat", "give both lon and lat, or neither")
    try:
        parse_crs(report.crs)
    except CRSError as exc:
        raise IntakeRejected("crs", str(exc)) from None
    address = (report.address or "").strip() or None
    building_id = (report.building_id or "").strip() or None
    if lon is None and address is None and building_id is None:
        raise IntakeRejected(
            "location", "missing location: give coordinates, a building id or an address"
        )
    if report.reported_at is not None and not isinstance(report.reported_at, datetime):
        raise IntakeRejected("reported_at", "must be an ISO 8601 time with a UTC offset")
    if report.reported_at is not None and report.reported_at.tzinfo is None:
        raise IntakeRejected("reported_at", "needs a UTC offset (e.g. +08:00)")
    if report.reported_at is not None and not plausible_time(report.reported_at):
        years = f"{TIME_YEARS.start}-{TIME_YEARS.stop - 1}"
        raise IntakeRejected("reported_at", f"must be in the years {years}")
    photos = [str(p) for p in (report.photos or [])]
    description = str(report.description or "")
    if len(description) > DESCRIPTION_MAX:
        raise IntakeRejected("description", f"at most {DESCRIPTION_MAX} characters")
    return EventReport(
        source=source,
        category_code=code,
        external_id=external_id,
        description=description,
        lon=lon,
        lat=lat,
        crs=str(report.crs or "wgs84"),
        address=address,
        building_id=building_id,
        reporter_name=(report.reporter_name or None),
        reporter_phone=(report.reporter_phone or None),
        priority=priority,
        photos=photos,
        reported_at=report.reported_at,
    )


__all__ = [
    "EVENT_SOURCES",
    "PRIORITIES",
    "SOURCE_LABELS",
    "EventReport",
    "IntakeRejected",
    "event_class_names",
    "validate",
]
