"""Jurisdiction: the admin-area code a user (or key) is limited to, as a code prefix.

Area codes nest by prefix (district 6, street 9, community 12, grid 15 characters), so
"may this user see that area" is a prefix test, and listing a user's events is a
``LIKE 'prefix%'`` filter that the code indexes serve. ``None`` means no limit.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import ColumnElement, true


class HasJurisdiction(Protocol):
    """Anything with a ``jurisdiction``: a ``Principal``, a ``UserInfo`` or a ``KeyInfo``."""

    @property
    def jurisdiction(self) -> str | None: ...


def jurisdiction_filter(user: HasJurisdiction | None) -> str | None:
    """The code prefix every area the user may see starts with; None = everything.

    Anonymous callers (``user is None``) get no filter here: whether they may call at
    all is the route's ``require(...)``'s decision, not this helper's.
    """
    return None if user is None else user.jurisdiction


def can_access(user: HasJurisdiction | None, area_code: str | None) -> bool:
    """Whether the user may see and act on ``area_code`` (an event's grid code, say).

    A street dispatcher (9-digit jurisdiction) may access that street and its
    communities and grids, not the district above it nor another street. An area-less
    thing (``area_code`` None, e.g. an event not yet located) is visible only to users
    without a jurisdiction.
    """
    prefix = jurisdiction_filter(user)
    if prefix is None:
        return True
    return area_code is not None and area_code.startswith(prefix)


def area_clause(user: HasJurisdiction | None, column: Any) -> ColumnElement[bool]:
    """SQL ``column LIKE 'prefix%'`` (escaped) for the user's jurisdiction, or TRUE."""
    prefix = jurisdiction_filter(user)
    if prefix is None:
        return true()
    return column.startswith(prefix, autoescape=True)
