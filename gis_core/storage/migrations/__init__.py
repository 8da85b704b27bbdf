"""Alembic migrations for gis_core.storage, run programmatically (see ``Store.upgrade``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.sql.schema import SchemaItem

IncludeObject = Callable[[SchemaItem, str | None, str, bool, Any], bool]


def include_object_for(dialect: str) -> IncludeObject:
    """Autogenerate filter: skip indexes meant for the other dialect (``ddl_if``) and
    PostGIS' own ``spatial_ref_sys``, which are not differences worth a migration."""

    def include_object(
        obj: SchemaItem, name: str | None, type_: str, reflected: bool, compare_to: Any
    ) -> bool:
        if type_ == "table" and name == "spatial_ref_sys":
            return False
        if type_ == "index" and not reflected:
            ddl_if = getattr(obj, "_ddl_if", None)
            if ddl_if is not None and ddl_if.dialect not in (None, dialect):
                return False
        return True

    return include_object
