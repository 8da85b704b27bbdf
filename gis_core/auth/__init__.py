"""Access control: accounts, roles and scopes, jurisdictions, API keys, tokens, rates.

Framework-free (the FastAPI layer is ``api.security``), so the CLI, the events service
and tests use the same rules:

* :mod:`roles`: scopes, roles and the role -> scope table;
* :mod:`jurisdiction`: ``jurisdiction_filter`` / ``can_access`` / ``area_clause``;
* :mod:`accounts`: users and API keys in the store (hashed, never plain);
* :mod:`tokens`: expiring signed bearer tokens;
* :mod:`ratelimit`: ``Rate`` and the in-process token-bucket ``RateLimiter``;
* :mod:`demo_accounts`: the fixed demo-only accounts of the sample district.
"""

from __future__ import annotations

from gis_core.auth.accounts import (
    AccountError,
    Accounts,
    KeyInfo,
    NotFound,
    UserInfo,
    hash_key,
)
from gis_core.auth.demo_accounts import DemoAccount, ensure_demo_accounts
from gis_core.auth.jurisdiction import (
    area_clause,
    can_access,
    jurisdiction_filter,
)
from gis_core.auth.ratelimit import Rate, RateLimiter
from gis_core.auth.roles import (
    KEY_SCOPES,
    ROLE_LABELS,
    ROLE_SCOPES,
    ROLES,
    SCOPES,
    parse_scopes,
    scopes_for_role,
)
from gis_core.auth.tokens import TokenError, TokenService
from gis_core.standards.codes import area_level, validate_area_code

__all__ = [
    "KEY_SCOPES",
    "ROLES",
    "ROLE_LABELS",
    "ROLE_SCOPES",
    "SCOPES",
    "AccountError",
    "Accounts",
    "DemoAccount",
    "KeyInfo",
    "NotFound",
    "Rate",
    "RateLimiter",
    "TokenError",
    "TokenService",
    "UserInfo",
    "area_clause",
    "area_level",
    "can_access",
    "ensure_demo_accounts",
    "hash_key",
    "jurisdiction_filter",
    "parse_scopes",
    "scopes_for_role",
    "validate_area_code",
]
