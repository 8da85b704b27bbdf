"""The system of record: SQLAlchemy 2 typed declarative models, split by domain.

``base`` (the declarative base and what tables share), ``boundaries`` (generations, admin
units, buildings, components, responsible units, duty layers, routing rules), ``events``
(cases, history, attachments), ``casework`` (catalogue, tasks, follow-ups),
``integrations`` (devices, platforms, outbox), ``field`` (fixes, duty, rotation, spot
checks, volunteers) and ``auth`` (accounts, API keys, secrets) all share one
``Base.metadata``; importing this package registers every table. The migrations in
``migrations/versions`` create exactly this schema (a test compares them).
"""

from __future__ import annotations

from gis_core.storage.models.analytics import (
    ANALYTICS_TABLES,
    ClassProblem,
    ClassProblemEvent,
    VitalAlertState,
    VitalThreshold,
)
from gis_core.storage.models.auth import AUTH_TABLES, USER_ROLES, ApiKey, AuthSecret, User
from gis_core.storage.models.base import (
    NAMING_CONVENTION,
    Base,
    BBoxMixin,
    now_default,
    spatial_indexes,
)
from gis_core.storage.models.basemap import BASEMAP_TABLES, BasemapFeature
from gis_core.storage.models.boundaries import (
    BOUNDARY_TABLES,
    TIME_LIMIT_UNITS,
    UNIT_KINDS,
    UNIT_ROLES,
    AdminUnit,
    BoundaryGeneration,
    Building,
    Component,
    ResponsibilityLayer,
    ResponsibleUnit,
    RoutingRule,
    UnitMember,
)
from gis_core.storage.models.calendar import CALENDAR_KINDS, CALENDAR_TABLES, CalendarDay
from gis_core.storage.models.casework import (
    CASEWORK_TABLES,
    CatalogueEntry,
    CatalogueVersion,
    EventFollowUp,
    EventTask,
    EventTaskHistory,
    JointTeamMember,
)
from gis_core.storage.models.events import (
    EVENT_TABLES,
    Attachment,
    Event,
    EventHistory,
)
from gis_core.storage.models.field import FIELD_TABLES
from gis_core.storage.models.field_coverage import FIELD_COVERAGE_TABLES
from gis_core.storage.models.integrations import (
    INTEGRATION_TABLES,
    OUTBOX_STATES,
    Device,
    DeviceAlarm,
    DeviceMessage,
    OutboxMessage,
    OutboxTarget,
    Platform,
    PlatformCase,
    PlatformCategory,
    PlatformNonce,
    ReadingReject,
)
from gis_core.storage.models.media import MEDIA_TABLES, MediaBlob
from gis_core.storage.models.planning import (
    PLAN_STATES,
    PLANNING_TABLES,
    DraftUnit,
    GenerationActivation,
    GenerationPlan,
    GenerationStep,
)
from gis_core.storage.models.shared_state import (  # issue 15: several nodes
    SHARED_STATE_TABLES,
    LoginEvent,
    RateBucket,
)

TABLES = (
    *BOUNDARY_TABLES,
    *EVENT_TABLES,
    *CASEWORK_TABLES,
    *INTEGRATION_TABLES,
    *FIELD_TABLES,
    *FIELD_COVERAGE_TABLES,
    *PLANNING_TABLES,
    *ANALYTICS_TABLES,
    *MEDIA_TABLES,
    *SHARED_STATE_TABLES,
    *BASEMAP_TABLES,
)

"""The domain tables (access-control tables are ``AUTH_TABLES``), in dependency order."""

__all__ = [
    "ANALYTICS_TABLES",
    "AUTH_TABLES",
    "BASEMAP_TABLES",
    "BOUNDARY_TABLES",
    "CALENDAR_KINDS",
    "CALENDAR_TABLES",
    "CASEWORK_TABLES",
    "EVENT_TABLES",
    "FIELD_COVERAGE_TABLES",
    "FIELD_TABLES",
    "INTEGRATION_TABLES",
    "MEDIA_TABLES",
    "NAMING_CONVENTION",
    "OUTBOX_STATES",
    "PLANNING_TABLES",
    "PLAN_STATES",
    "SHARED_STATE_TABLES",
    "TABLES",
    "TIME_LIMIT_UNITS",
    "UNIT_KINDS",
    "UNIT_ROLES",
    "USER_ROLES",
    "AdminUnit",
    "ApiKey",
    "Attachment",
    "AuthSecret",
    "BBoxMixin",
    "Base",
    "BasemapFeature",
    "BoundaryGeneration",
    "Building",
    "CalendarDay",
    "CatalogueEntry",
    "CatalogueVersion",
    "ClassProblem",
    "ClassProblemEvent",
    "Component",
    "Device",
    "DeviceAlarm",
    "DeviceMessage",
    "DraftUnit",
    "Event",
    "EventFollowUp",
    "EventHistory",
    "EventTask",
    "EventTaskHistory",
    "GenerationActivation",
    "GenerationPlan",
    "GenerationStep",
    "JointTeamMember",
    "LoginEvent",
    "MediaBlob",
    "OutboxMessage",
    "OutboxTarget",
    "Platform",
    "PlatformCase",
    "PlatformCategory",
    "PlatformNonce",
    "RateBucket",
    "ReadingReject",
    "ResponsibilityLayer",
    "ResponsibleUnit",
    "RoutingRule",
    "UnitMember",
    "User",
    "VitalAlertState",
    "VitalThreshold",
    "now_default",
    "spatial_indexes",
]
