"""The system of record: SQLAlchemy 2 typed declarative models, split by domain.

``base`` (the declarative base and what tables share), ``boundaries`` (generations, admin
units, buildings, components, responsible units, duty layers, routing rules), ``events``
(cases, history, attachments) and ``auth`` (accounts, API keys, secrets) all share one
``Base.metadata``; importing this package registers every table. The migrations in
``migrations/versions`` create exactly this schema (a test compares them).
"""

from __future__ import annotations

from gis_core.storage.models.auth import AUTH_TABLES, USER_ROLES, ApiKey, AuthSecret, User
from gis_core.storage.models.base import (
    NAMING_CONVENTION,
    Base,
    BBoxMixin,
    now_default,
    spatial_indexes,
)
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
from gis_core.storage.models.events import (
    EVENT_TABLES,
    Attachment,
    Event,
    EventHistory,
)
from gis_core.storage.models.media import MEDIA_TABLES, MediaBlob

TABLES = (*BOUNDARY_TABLES, *EVENT_TABLES, *MEDIA_TABLES)
"""The domain tables (access-control tables are ``AUTH_TABLES``), in dependency order."""

__all__ = [
    "AUTH_TABLES",
    "BOUNDARY_TABLES",
    "EVENT_TABLES",
    "MEDIA_TABLES",
    "NAMING_CONVENTION",
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
    "BoundaryGeneration",
    "Building",
    "Component",
    "Event",
    "EventHistory",
    "MediaBlob",
    "ResponsibilityLayer",
    "ResponsibleUnit",
    "RoutingRule",
    "UnitMember",
    "User",
    "now_default",
    "spatial_indexes",
]
