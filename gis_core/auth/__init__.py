"""Access control: accounts, roles and scopes, jurisdictions, API keys, tokens, rates.

Framework-free (the FastAPI layer is ``api.security``), so the CLI, the events service
and tests use the same rules:

* :mod:`roles`: scopes, roles and the role -> scope table;
* jurisdiction: an account's ``area_code`` is a code prefix; who sees which event is the
  one rule of :mod:`gis_core.events.access` (``event_visible``, ``jurisdiction_clause``);
* :mod:`accounts`: users and API keys in the store (hashed, never plain);
* :mod:`tokens`: expiring signed bearer tokens;
* :mod:`ratelimit`: ``Rate`` and the in-process token-bucket ``RateLimiter``;
* :mod:`shared`: the same limits and login guard kept in the database or Redis, shared by
  every worker and node;
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
    "area_level",
    "ensure_demo_accounts",
    "hash_key",
    "parse_scopes",
    "scopes_for_role",
    "validate_area_code",
]
