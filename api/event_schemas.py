"""Bodies of the events API, documented in ``/openapi.json``: what a client sends (reports,
actions, relocations) and what it gets back (events, pages, indicators).

Response models list every field the events service returns, in the service's order, and
allow more (``extra="allow"``): a field the service adds is passed through, never
dropped. Routes use them with ``response_model_exclude_unset=True``, so a field the
service did not send (history on an action's answer...) is not added either.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.fields import Coordinate, IsoTime, Text
from gis_core.cases.indicators import GROUP_COLUMNS, OUTPUT_COLUMNS
from gis_core.standards import limits as L
from gis_core.storage.types import INTEGER_MAX

Short = Text(L.SHORT_TEXT_MAX)

Number = int | float
"""A JSON number kept as sent: an int is not turned into a float."""

# -- requests --------------------------------------------------------------------------------


class EventIn(BaseModel):
    """A report; coordinates in any supported CRS, or an address / building id."""

    model_config = ConfigDict(extra="forbid")

    source: Short = Field(description="12345, 110, 12315, grid_member, resident_app, iot, ...")
    external_id: Text(L.EXTERNAL_ID_MAX) | None = Field(
        None, description="The source's own id: a retry with the same one is not a new event."
    )
    category_code: Short = Field(description="5-digit event class (GET /v1/categories).")
    description: Text(L.DESCRIPTION_MAX) | None = None
    lon: Coordinate | Short | None = None
    lat: Coordinate | Short | None = None
    crs: Short = Field("wgs84", description="wgs84, cgcs2000, gcj02, bd09 or EPSG:<code>.")
    address: Text(L.ADDRESS_MAX) | None = None
    building_id: Text(L.BUILDING_ID_MAX) | None = None
    reporter_name: Text(L.REPORTER_NAME_MAX) | None = None
    reporter_phone: Text(L.REPORTER_PHONE_MAX) | None = None
    priority: Short = Field("normal", description="normal or urgent.")
    photos: list[Text(L.PHOTO_URL_MAX)] = Field(
        default_factory=list, max_length=L.PHOTOS_MAX, description="Photo URLs (at most 20)."
    )
    reported_at: IsoTime | None = Field(None, description="ISO 8601 with offset; default now.")


class ActionIn(BaseModel):
    """One action of the case loop; only the parameters the action takes."""

    model_config = ConfigDict(extra="forbid")

    action: Short = Field(description="file, dispatch, handle, verify_pass, close, ...")
    note: Text(L.NOTE_MAX) = ""
    expected_version: int | None = Field(
        None, description="The version the caller saw: 409 if the event changed since."
    )
    unit_id: int | None = Field(
        None, ge=1, le=INTEGER_MAX, description="dispatch / reroute: the unit."
    )
    score: int | None = Field(None, description="evaluate: 1-5.")
    to_level: Short | None = Field(
        None, description="escalate / delegate: community|street|district"
    )
    value: Coordinate | None = Field(
        None,
        gt=0,
        le=L.EXTENSION_MAX_DAYS * 24,
        description=f"extend: the extension's amount (at most {L.EXTENSION_MAX_DAYS} working"
        " days or their working hours).",
    )
    unit: Short | None = Field(None, description="extend: working_hours or working_days.")
    into: int | None = Field(
        None, ge=1, le=INTEGER_MAX, description="merge: the event this one duplicates."
    )
    co_unit_ids: list[Annotated[int, Field(ge=1, le=INTEGER_MAX)]] | None = Field(
        None, max_length=10, description="dispatch: co-handling units (协办), a task each."
    )
    co_limit: TimeLimitIn | None = Field(None, description="dispatch: the co-tasks' time limit.")
    photos: list[Annotated[str, Field(max_length=2000)]] | None = Field(
        None, max_length=20, description="handle: after-photos; verify_pass: site photos (URLs)."
    )
    measured_value: float | None = Field(None, description="handle: a measured value.")
    lon: float | None = Field(None, description="verify_pass: the verifier's WGS84 position.")
    lat: float | None = Field(None, description="verify_pass: the verifier's WGS84 position.")
    limit: TimeLimitIn | None = Field(None, description="reopen: a new time limit.")


class TimeLimitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: float = Field(gt=0, le=8760)
    unit: Literal["working_hours", "working_days"] = "working_hours"


ActionIn.model_rebuild()

ACTION_PARAMS = ("unit_id", "score", "to_level", "value", "unit", "into")
CASEWORK_PARAMS = ("co_unit_ids", "photos", "measured_value", "lon", "lat")
"""Fields of ActionIn for the catalogue's rules (gis_core.events.casework)."""
"""The fields of ActionIn passed on to the workflow when given."""


class RelocateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lon: Coordinate
    lat: Coordinate
    crs: Short = "wgs84"
    note: Text(L.NOTE_MAX) = ""
    expected_version: int | None = None


# -- responses -------------------------------------------------------------------------------


class PassThrough(BaseModel):
    """A response part that passes on fields it does not name."""

    model_config = ConfigDict(extra="allow")


class TimeLimit(PassThrough):
    value: Number
    unit: str | None = Field(None, description="working_hours or working_days.")


class EventOut(PassThrough):
    """An event as lists, the stream and reports show it (times ISO 8601, Asia/Shanghai)."""

    id: int
    public_id: str = Field(description="The token residents and Open311 clients follow.")
    version: int = Field(description="Send it back as expected_version with an action.")
    source: str
    source_label: str | None = None
    external_id: str | None = None
    category_code: str | None = None
    category_name: str | None = None
    description: str | None = None
    address: str | None = None
    building_id: str | None = None
    priority: str = Field(description="normal or urgent.")
    status: str
    status_label: str
    level: str | None = Field(None, description="community, street or district.")
    lon: Number | None = Field(None, description="WGS84 longitude.")
    lat: Number | None = Field(None, description="WGS84 latitude.")
    input_crs: str | None = None
    grid_code: str | None = None
    community_code: str | None = None
    street_code: str | None = None
    district_code: str | None = None
    unit_id: int | None = Field(None, description="The responsible unit.")
    routing: Any = Field(None, description="Why this unit was chosen.")
    reported_at: str
    filed_at: str | None = None
    dispatched_at: str | None = None
    deadline_at: str | None = None
    handled_at: str | None = None
    verified_at: str | None = None
    closed_at: str | None = None
    evaluated_at: str | None = None
    time_limit: TimeLimit | None = None
    light: str | None = Field(None, description="green, yellow or red while the clock runs.")
    overdue: bool
    rework_count: int
    supervise_count: int
    urge_count: int
    score: int | None = None
    duplicate_of: int | None = None
    reporter_name: str | None = None
    reporter_phone: str | None = None
    alarm_count: int | None = Field(
        None, description="Device events (iot, ai_camera): alarms collapsed into this event."
    )
    last_alarm_at: str | None = Field(None, description="Device events: the latest alarm.")


class HistoryEntry(PassThrough):
    seq: int
    action: str
    from_status: str | None = None
    to_status: str | None = None
    actor: str | None = None
    role: str | None = None
    note: str | None = None
    at: str
    data: dict[str, Any] = Field(default_factory=dict)


class AttachmentOut(PassThrough):
    kind: str | None = None
    url: str
    filename: str | None = None


class NearbyComponent(PassThrough):
    id: str | int
    class_: str | None = Field(None, alias="class", description="Component class code.")
    distance_m: Number


class DuplicateRef(PassThrough):
    id: int
    relation: Literal["original", "duplicate"]
    status: str
    status_label: str
    category_code: str | None = None
    grid_code: str | None = None
    reported_at: str


class EventWithActions(EventOut):
    """An event after an action or relocation; with its history unless asked without."""

    history: list[HistoryEntry] = Field(default_factory=list)
    attachments: list[AttachmentOut] = Field(default_factory=list)
    allowed_actions: list[str] = Field(description="What the caller may do now.")


class TaskOut(PassThrough):
    """A unit's part in the case: the lead (主办, derived from the case: ``id`` null), a
    co-handling task (协办), a call (街呼区应) or a verification assignment (核查指派)."""

    id: int | None = None
    unit_id: int
    unit_name: str | None = None
    role: Literal["lead", "co", "call", "verify"]
    status: str = Field(description="open, accepted, returned, handled, answered, refused ...")
    status_label: str
    deadline_at: str | None = None
    done_at: str | None = None
    overdue: bool = False
    assignee: str | None = Field(None, description="verify: the grid member assigned.")
    team_members: list[dict[str, Any]] | None = Field(
        None, description="When the unit is a joint team (4+X): its member units, in order."
    )


class EventDetail(EventWithActions):
    """One event in full: history, attachments, allowed actions, related things."""

    nearby_components: list[NearbyComponent] = Field(default_factory=list)
    duplicates: list[DuplicateRef] = Field(default_factory=list)
    tasks: list[TaskOut] = Field(default_factory=list)
    followups: list[dict[str, Any]] = Field(default_factory=list)
    filing: dict[str, Any] | None = Field(
        None,
        description="The catalogue's filing limit (立案时限) as a deadline from the report: "
        "limit_hours, body, deadline_at, filed_at, overdue, on_time; null without one.",
    )


class EventCreated(EventOut):
    """The stored event and whether this call created it (false: a retry). A retry naming
    another area's event answers only ``id``, ``public_id`` and ``created``."""

    created: bool


class EventPage(PassThrough):
    items: list[EventOut] = Field(
        description="The page's events, without `routing` (see GET /v1/events/{id})."
    )
    total: int
    limit: int
    offset: int
    counts: dict[str, int] = Field(
        description="Per status and `overdue`, for the same filters except those two."
    )
    next: str | None = Field(
        None, description="'reported' order: cursor of the next page (`after`); null at the end."
    )


class Indicators(PassThrough):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    from_: str = Field(alias="from")
    to: str
    by: list[str]
    items: list[dict[str, Number | str | None]] = Field(
        description="One row per group: the grouping columns (any of "
        + ", ".join(GROUP_COLUMNS)
        + "; `group` = all without `by`), then "
        + ", ".join(OUTPUT_COLUMNS)
        + "."
    )
