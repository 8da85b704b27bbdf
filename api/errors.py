"""Map exceptions to RFC 9457 problem details (application/problem+json).

Routes raise domain exceptions (or `Problem`); this module alone decides status codes, so
no route formats an error body itself.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from gis_core.analytics.frame import AnalyticsInputError
from gis_core.batch.points import BatchTooLarge, InvalidBatch, UnreadableBatch
from gis_core.boundaries.generations import GenerationNotFound, NoActiveGeneration
from gis_core.boundaries.grid_detail import AreaNotFound
from gis_core.cases.errors import RoleError, StatusError, TransitionError
from gis_core.catalogue.entries import CatalogueError
from gis_core.catalogue.versions import CatalogueNotFound
from gis_core.events import Conflict, EventNotFound, IntakeRejected
from gis_core.events.access import OutsideJurisdiction
from gis_core.events.tasks import TaskNotFound
from gis_core.field.members import UnknownMember
from gis_core.field.plans import PlanNotFound as RotationPlanNotFound
from gis_core.field.rotation import RotationInfeasible, RotationInputError
from gis_core.field.spot_checks import SpotCheckError, SpotCheckNotFound
from gis_core.field.volunteers import InsufficientPoints, VolunteerError, VolunteerNotFound
from gis_core.integrations.devices import DeviceError, DeviceNotFound
from gis_core.integrations.hotline import BadSignature, PlatformError, ReplayedPush, StalePush
from gis_core.integrations.outbox import OutboxError
from gis_core.planning.activation import ActivationRefused
from gis_core.planning.drafts import DraftRefused, PlanNotFound
from gis_core.planning.edits import EditError, NotEditable, StaleDraft
from gis_core.planning.jobs import JobNotFound
from gis_core.reports.figures import ReportNotFound
from gis_core.reports.periods import PeriodError
from gis_core.spatial.crs import CRSError
from gis_core.spatial.locator import CoordinateError
from gis_core.storage.features import FilterError
from layers.model import UnknownCollection, UnknownLayer
from layers.mvt import TileError

PROBLEM_JSON = "application/problem+json"


class Problem(Exception):
    """An error with its HTTP status, a short title, detail, and the offending field."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str = "",
        field: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.field = field
        self.headers = headers
        self.extra = extra


def problem_response(
    status: int,
    title: str,
    detail: str = "",
    field: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "status": status, "title": title}
    if detail:
        body["detail"] = detail
    if field is not None:
        body["field"] = field
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


# Domain exception -> (status, title, field). Handlers are found along the exception's
# MRO, so a subclass listed here gets its own status. An exception that knows the
# offending field (IntakeRejected, FilterError) or its own title (batch bodies) says so.
DOMAIN_ERRORS: dict[type[Exception], tuple[int, str, str | None]] = {
    CoordinateError: (422, "Invalid coordinates", "lon"),
    CRSError: (422, "Unknown coordinate reference system", "crs"),
    GenerationNotFound: (404, "Boundary generation not found", "generation"),
    NoActiveGeneration: (503, "No boundary generation loaded", None),
    # Batch-locate bodies (gis_core.batch.points)
    UnreadableBatch: (400, "Unreadable body", "body"),
    InvalidBatch: (422, "Invalid body", "body"),
    BatchTooLarge: (413, "Batch too large", "body"),
    # Map layers: OGC API query parameters (400, as OGC asks), collections, tiles
    FilterError: (400, "Invalid parameter", None),
    UnknownCollection: (404, "Collection not found", "collectionId"),
    UnknownLayer: (404, "Layer not found", "layer"),
    TileError: (404, "Tile not found", "z"),
    # Events: each subclass of TransitionError with its own status.
    IntakeRejected: (422, "Report rejected", None),
    AreaNotFound: (404, "Grid not found", "code"),
    EventNotFound: (404, "Event not found", None),
    Conflict: (409, "Conflict: the event changed", "expected_version"),
    StatusError: (409, "Action not possible in this status", "action"),
    RoleError: (403, "Action not allowed for this role", "action"),
    OutsideJurisdiction: (403, "Outside your jurisdiction", None),  # issue 14
    TransitionError: (422, "Invalid action", "action"),
    # Integrations: devices, platform pushes (signature, freshness, replay), the outbox
    DeviceError: (422, "Invalid device", None),
    DeviceNotFound: (404, "Device not found", "device_id"),
    BadSignature: (401, "Bad signature", None),
    StalePush: (401, "Stale or future timestamp", None),
    ReplayedPush: (409, "Replayed request", None),
    PlatformError: (422, "Invalid platform", None),
    OutboxError: (422, "Invalid webhook", "url"),
    # Cross-department casework (a ClosureRefused is a StatusError: 409 with `missing`)
    TaskNotFound: (404, "Task not found", "task_id"),
    CatalogueError: (422, "Invalid catalogue", None),
    CatalogueNotFound: (404, "Catalogue not found", "version"),
    ReportNotFound: (404, "Area not found", "area_code"),
    PeriodError: (422, "Invalid period", "period"),
    # Field force (gis_core.field)
    UnknownMember: (404, "Member not found", "member"),
    RotationPlanNotFound: (404, "Rotation plan not found", "plan_id"),
    RotationInputError: (422, "Invalid rotation problem", "body"),
    RotationInfeasible: (422, "No rotation plan meets the constraints", "constraints"),
    SpotCheckError: (422, "Invalid spot check", "period"),
    SpotCheckNotFound: (404, "Spot check not found", "id"),
    VolunteerError: (422, "Invalid volunteer request", None),
    VolunteerNotFound: (404, "Volunteer not found", "volunteer_id"),
    InsufficientPoints: (409, "Not enough points", "points"),
    # Boundary planning (gis_core.planning): drafts, edits, activation.
    DraftRefused: (422, "Draft refused", "file"),
    PlanNotFound: (404, "Boundary generation not found", "key"),
    EditError: (422, "Invalid edit", "params"),
    StaleDraft: (409, "Conflict: the draft changed", "expected_version"),
    NotEditable: (409, "Generation not editable", None),
    ActivationRefused: (409, "Activation refused", None),
    JobNotFound: (404, "Job not found", "job"),
    AnalyticsInputError: (422, "Invalid analytics parameter", None),  # names its field
}


def register_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(_: Request, exc: Problem) -> JSONResponse:
        return problem_response(
            exc.status, exc.title, exc.detail, exc.field, exc.headers, **exc.extra
        )

    for exc_type, (status, title, field) in DOMAIN_ERRORS.items():

        async def _domain(
            _: Request,
            exc: Exception,
            status: int = status,
            title: str = title,
            field: str | None = field,
        ) -> JSONResponse:
            return problem_response(
                status,
                getattr(exc, "title", None) or title,
                str(exc),
                getattr(exc, "field", None) or field,
                **getattr(exc, "problem_extra", {}),
            )

        app.add_exception_handler(exc_type, _domain)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {}
        loc = [str(p) for p in first.get("loc", ()) if p not in ("query", "body", "path")]
        return problem_response(
            422,
            "Invalid request",
            first.get("msg", "invalid input"),
            ".".join(loc) or None,
            errors=[
                {"field": ".".join(str(p) for p in e.get("loc", ())), "message": e["msg"]}
                for e in errors
            ],
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem_response(exc.status_code, str(exc.detail), headers=exc.headers)
