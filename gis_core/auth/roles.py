"""Roles, scopes and which scopes each role grants: the one table access checks read.

Scopes name endpoint groups (what an API key is allowed to call); roles name people's
jobs. A user's scopes come from the role, so changing this table changes every account at
once. ``events:write`` only opens the events API: which case transitions a role may make
is still decided by the workflow (``gis_core.cases.workflow``).
"""

from __future__ import annotations

from collections.abc import Iterable

from gis_core.cases.vocab import ACCOUNT_ROLE_LABELS, ACCOUNT_ROLES

SCOPES: dict[str, str] = {
    "locate": "grid lookups: /v1/locate, /point",
    "events:read": "read events and cases (within the jurisdiction)",
    "events:write": "report events and act on cases",
    "layers": "map layers and tiles",
    "boundaries": "import, edit and activate boundary generations",
    "indicators": "statistics and performance indicators",
    "open311": "the Open311 GeoReport v2 endpoints",
    "devices": "register devices and post their readings (sensors, AI cameras)",
    "analytics:read": "statistics over events: /v1/analytics, /v1/vitals (within the jurisdiction)",
}
"""Every scope and what it opens. Administration is not a scope: it is the admin role,
which API keys never have."""

ROLE_LABELS: dict[str, str] = ACCOUNT_ROLE_LABELS
"""Account role -> Chinese job title (the one table is ``gis_core.cases.vocab``)."""

_CASE_WORK = frozenset({"events:read", "events:write", "layers", "locate"})

ROLE_SCOPES: dict[str, frozenset[str]] = {
    "dispatcher": _CASE_WORK,
    "grid_member": _CASE_WORK,
    "handler": _CASE_WORK,
    "verifier": _CASE_WORK,
    "supervisor": _CASE_WORK | {"indicators", "analytics:read"},
    "analyst": frozenset({"events:read", "layers", "locate", "indicators", "analytics:read"}),
    "planner": frozenset({"boundaries", "layers", "locate"}),
    "admin": frozenset(SCOPES),
}
"""Role -> scopes it grants. Admin has every scope (and passes every role check)."""

ROLES: tuple[str, ...] = ACCOUNT_ROLES
"""Every account role (``gis_core.cases.vocab.ACCOUNT_ROLES``)."""
KEY_SCOPES = frozenset(SCOPES)
"""Scopes an API key may carry."""

assert set(ROLE_SCOPES) == set(ROLES) == set(ROLE_LABELS), "role tables out of step"
assert not set(ROLES) & set(SCOPES), "a name must be a role or a scope, not both"


class UnknownName(ValueError):
    """A scope or role name that does not exist (a typo caught early)."""


def check_role(role: str) -> str:
    if role not in ROLE_SCOPES:
        raise UnknownName(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    return role


def scopes_for_role(role: str) -> frozenset[str]:
    return ROLE_SCOPES[check_role(role)]


def parse_scopes(
    scopes: str | Iterable[str], *, allowed: frozenset[str] = KEY_SCOPES
) -> frozenset[str]:
    """Scopes from ``"locate,events:read"`` (commas or spaces) or an iterable; unknown
    names raise instead of being dropped, so a typo never yields a key that silently
    cannot do what was meant."""
    items = scopes.replace(",", " ").split() if isinstance(scopes, str) else list(scopes)
    found = frozenset(s.strip() for s in items if s.strip())
    unknown = sorted(found - allowed)
    if unknown:
        raise UnknownName(
            f"unknown or not allowed scope(s) {', '.join(unknown)}; allowed: "
            + ", ".join(sorted(allowed))
        )
    if not found:
        raise UnknownName("at least one scope is needed")
    return found


def format_scopes(scopes: Iterable[str]) -> str:
    """The stored form: sorted, space-separated."""
    return " ".join(sorted(scopes))
