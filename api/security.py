"""Who is calling, and may they: API keys, bearer tokens, scopes, roles, rate limits.

Routes say what they need with ``Depends(require("events:read"))`` (any of the named
scopes or roles) and receive a :class:`Principal`. Credentials, in order of precedence:

1. ``Authorization: Bearer <token>`` from ``POST /v1/auth/token`` (a user), or a bearer
   value that is an API key (``gg_...``) for clients that only speak bearer;
2. ``X-API-Key: <key>`` header;
3. ``api_key`` query parameter, then ``api_key`` form field (Open311 clients send these).

A key is rate-limited on every request that presents it, public routes included; a key
that is presented but unknown or revoked is refused even where no key is needed, so a
misconfigured client learns about it. Errors are problem+json: 401 with a
``WWW-Authenticate`` challenge, 403 naming what was needed, 429 with ``Retry-After``.
Rate limits are per process (see ``gis_core.auth.ratelimit``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Query, Request
from fastapi.security import APIKeyHeader, APIKeyQuery, OAuth2PasswordBearer
from starlette.concurrency import run_in_threadpool

from api.dependencies import SettingsDep, StoreDep
from api.errors import Problem
from api.settings import AuthSettings
from gis_core.auth import (
    ROLE_SCOPES,
    ROLES,
    SCOPES,
    Accounts,
    KeyInfo,
    Rate,
    RateLimiter,
    TokenError,
    TokenService,
    UserInfo,
    keyfile,
    shared,
)
from gis_core.auth.accounts import KEY_PREFIX
from gis_core.auth.key_cache import KeyCache
from gis_core.auth.keyfile import default_key_file
from gis_core.auth.login_guard import LoginGuard
from gis_core.auth.ratelimit import retry_after_header
from gis_core.auth.tokens import TokenClaims
from gis_core.events.access import event_visible
from gis_core.storage import Store

TOKEN_URL = "/v1/auth/token"
API_KEY_HEADER = "X-API-Key"
API_KEY_PARAM = "api_key"
REALM = "gridgov"
CHALLENGE = f'Bearer realm="{REALM}", APIKey realm="{REALM}"'
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_UNSET = object()

__all__ = [
    "AuthSettings",
    "OptionalPrincipal",
    "Principal",
    "SecurityDep",
    "StreamPrincipal",
    "charge_known_key",
    "check_access",
    "install_security",
    "lookup_access",
    "require",
]


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: an API key (``kind="key"``, no role) or a user."""

    kind: Literal["key", "user"]
    id: int
    name: str
    role: str | None
    scopes: frozenset[str]
    jurisdiction: str | None
    """Admin-area code prefix the caller is limited to; None = everywhere."""
    unit_id: int | None = None
    """The user's responsible unit (handlers), for the case workflow."""
    display_name: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def satisfies(self, needs: tuple[str, ...]) -> bool:
        """Any of ``needs`` (scope or role) held; admin holds all; no needs = anyone."""
        if not needs or self.is_admin:
            return True
        return any(n in self.scopes or n == self.role for n in needs)

    def can_access(self, area_code: str | None) -> bool:
        return event_visible(self.jurisdiction, area_code)

    @classmethod
    def from_user(cls, user: UserInfo) -> Principal:
        return cls(
            "user",
            user.id,
            user.username,
            user.role,
            ROLE_SCOPES[user.role],
            user.area_code,
            user.unit_id,
            user.display_name,
        )

    @classmethod
    def from_key(cls, key: KeyInfo) -> Principal:
        return cls("key", key.id, key.name, None, key.scopes, key.area_code)


class Security:
    """Per-app access-control state: settings, limiters, and the token service (built on
    first use, because the generated secret lives in the app's store)."""

    def __init__(self, settings: AuthSettings | None = None) -> None:
        self.settings = settings or AuthSettings()
        self.limiter = RateLimiter()
        self.login_limiter = RateLimiter()
        self.login_rate = Rate.parse(self.settings.login_rate)
        self.login_guard = LoginGuard(self.login_rate)
        self.state_backend = "memory"
        """Where limits are counted (``share_state``): memory, database or redis."""
        self.keys = KeyCache()
        """Presented API keys remembered for a moment (``gis_core.auth.key_cache``)."""
        self.token_clock: Callable[[], Any] | None = None
        """Set (before the first request) to issue tokens at another time, in tests."""
        self._tokens: TokenService | None = None
        self._lock = threading.Lock()

    def accounts(self, store: Store) -> Accounts:
        return Accounts(store)

    def share_state(self, store: Store, setting: str) -> str:
        """Keep API-key limits and the login guard's counts where every worker and node
        sees them (issue 15: ``GRIDGOV_SHARED_STATE``); the backend chosen."""
        backend = shared.backend_of(setting, store.dialect)
        # Shared counts need the wall clock; a clock a test set beforehand carries over.
        key_clock = wall_clock(self.limiter.clock)
        guard_clock = wall_clock(self.login_guard.clock)
        if backend == "database":
            self.limiter = shared.DatabaseRateLimiter(store, key_clock)
            self.login_limiter = shared.DatabaseRateLimiter(store)
            self.login_guard = shared.database_guard(store, self.login_rate)
        elif backend == "redis":
            client = shared.redis_client(setting.strip())
            self.limiter = shared.RedisRateLimiter(client, clock=key_clock)
            self.login_limiter = shared.RedisRateLimiter(client)
            self.login_guard = shared.redis_guard(client, self.login_rate)
        if backend != "memory":
            self.login_guard.clock = guard_clock
        self.state_backend = backend
        return backend

    def tokens(self, accounts: Accounts) -> TokenService:
        """The token service; resolving the secret may touch the database (sync)."""
        with self._lock:
            if self._tokens is None:
                configured = self.settings.secret_key
                if configured is not None:
                    secret = configured.get_secret_value()
                else:  # a 0600 key file, never the database (issue 14)
                    path = self.settings.secret_key_file or default_key_file(accounts.store.url)
                    secret = keyfile.read_or_create(path)
                ttl = timedelta(minutes=self.settings.token_ttl_minutes)
                kwargs = {"clock": self.token_clock} if self.token_clock else {}
                self._tokens = TokenService(secret, ttl, **kwargs)
            return self._tokens


def wall_clock(clock: Callable[[], float]) -> Callable[[], float]:
    """``time.time`` in place of the default monotonic clock; any other clock as it is."""
    return time.time if clock is time.monotonic else clock


def install_security(app: FastAPI, settings: AuthSettings | None = None) -> Security:
    """Attach access control to ``app`` (``create_app`` calls it; tests may again)."""
    app.state.security = Security(settings)
    return app.state.security


async def get_security(request: Request) -> Security:
    """Async: a plain function would cost a thread-pool hop on every request."""
    security = getattr(request.app.state, "security", None)
    if security is None:  # an app built without create_app: default settings
        security = install_security(request.app)
    return security


SecurityDep = Annotated[Security, Depends(get_security)]


# -- credentials --------------------------------------------------------------------------

_bearer = OAuth2PasswordBearer(
    tokenUrl=TOKEN_URL,
    auto_error=False,
    description="A user's token from POST /v1/auth/token (or an API key as bearer).",
)
_key_header = APIKeyHeader(
    name=API_KEY_HEADER, auto_error=False, description="An API key created by an admin."
)
_key_query = APIKeyQuery(
    name=API_KEY_PARAM, auto_error=False, description="An API key (Open311 style)."
)


def _unauthorized(title: str, detail: str, error: str | None = None) -> Problem:
    challenge = CHALLENGE
    if error is not None:
        said = "".join(c for c in detail if c.isprintable() and c not in '"\\')
        challenge = f'Bearer realm="{REALM}", error="{error}", error_description="{said}"'
    return Problem(401, title, detail, headers={"WWW-Authenticate": challenge})


async def _form_key(request: Request) -> str | None:
    content_type = request.headers.get("content-type", "").lower()
    if not content_type.startswith(FORM_TYPES):
        return None
    # Cache the raw body first so a route reading it raw still can; if the route declares
    # Form fields, FastAPI has parsed the form already (the stream is gone, the form kept).
    with suppress(RuntimeError):
        await request.body()
    value = (await request.form()).get(API_KEY_PARAM)
    return value if isinstance(value, str) and value else None


def _user_principal(security: Security, accounts: Accounts, token: str) -> Principal:
    try:
        claims = security.tokens(accounts).verify(token)
    except TokenError as exc:
        raise _unauthorized("Invalid token", str(exc), "invalid_token") from None
    return token_user(claims, accounts.get_user_by_id(claims.user_id))


def token_user(claims: TokenClaims, user: UserInfo | None) -> Principal:
    """The principal of a verified token's user (401 when the user no longer holds it)."""
    if (
        user is None
        or not user.active
        or user.token_version != claims.version
        or user.username != claims.username
    ):
        raise _unauthorized("Invalid token", "token no longer valid: log in again", "invalid_token")
    return Principal.from_user(user)


def _key_principal(
    security: Security, accounts: Accounts, key: str, info: KeyInfo | None = None
) -> Principal:
    """The key's principal, charged one request; ``info``: the record, already known."""
    info = info or security.keys.find(key, accounts.find_key)
    if info is None:
        raise _unauthorized("Invalid API key", "the API key is not known")
    if not info.active:
        raise _unauthorized("API key revoked", f"the API key {info.prefix}... was revoked")
    if info.rate is not None:
        wait = security.limiter.hit(("key", info.id), info.rate)
        if wait is not None:
            raise Problem(
                429,
                "Rate limit exceeded",
                f"API key {info.name!r} is limited to {info.rate}; retry later",
                headers={"Retry-After": retry_after_header(wait)},
                retry_after=int(retry_after_header(wait)),
            )
    return Principal.from_key(info)


def charge_known_key(security: Security, key: str, info: KeyInfo) -> Principal:
    """The principal of a key found in ``security.keys``, charged one request against its
    rate (429 when over) as :func:`current_principal` would: the lean intake route's
    check (``api.routers.intake_lean``), the same rule without the dependency chain."""
    return _key_principal(security, security.accounts(None), key, info)  # type: ignore[arg-type]


async def current_principal(
    request: Request,
    security: SecurityDep,
    store: StoreDep,
    token: Annotated[str | None, Depends(_bearer)],
    header_key: Annotated[str | None, Depends(_key_header)],
    query_key: Annotated[str | None, Depends(_key_query)],
) -> Principal | None:
    """The caller, or None when no credentials were sent (then nothing is checked).

    Presented credentials are always verified (401 when bad), and a key is charged one
    request against its rate (429 when over). Cached per request.
    """
    cached = getattr(request.state, "principal", _UNSET)
    if cached is None or isinstance(cached, Principal):
        return cached
    accounts = security.accounts(store)
    principal: Principal | None = None
    if token and not token.startswith(KEY_PREFIX):
        principal = await run_in_threadpool(_user_principal, security, accounts, token)
    else:
        key = token or header_key or query_key or await _form_key(request)
        known = security.keys.get(key) if key else None
        if key and known is not None and (known.rate is None or security.state_backend == "memory"):
            # Remembered, and charging it is in memory: no I/O, so no thread-pool hop.
            principal = _key_principal(security, accounts, key, known)
        elif key:
            principal = await run_in_threadpool(_key_principal, security, accounts, key)
    request.state.principal = principal
    return principal


OptionalPrincipal = Annotated[Principal | None, Depends(current_principal)]


def check_access(principal: Principal | None, needs: tuple[str, ...]) -> Principal:
    """The principal if it holds any of `needs` (401 when absent, 403 when short)."""
    if principal is None:
        raise _unauthorized(
            "Authentication required",
            "send an API key (X-API-Key) or a bearer token from POST " + TOKEN_URL,
        )
    if not principal.satisfies(needs):
        wanted = " or ".join(needs)
        holder = f"role {principal.role}" if principal.role else f"API key {principal.name!r}"
        headers = None
        if principal.kind == "user":
            headers = {
                "WWW-Authenticate": f'Bearer realm="{REALM}", error="insufficient_scope",'
                f' scope="{" ".join(n for n in needs if n in SCOPES)}"'
            }
        raise Problem(
            403,
            "Forbidden",
            f"{holder} does not grant {wanted}",
            headers=headers,
            required=list(needs),
        )
    return principal


def require(*needs: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting a caller that holds ANY of ``needs`` (scopes or roles).

    ``require()`` admits any authenticated caller; admin users pass every check. API
    keys hold scopes only, so a role requirement (``require("dispatcher")``) is for
    users. Unknown names raise ValueError at once (a typo must not open or close a
    route silently). Use: ``p: Annotated[Principal, Depends(require("events:read"))]``.
    """
    unknown = [n for n in needs if n not in SCOPES and n not in ROLES]
    if unknown:
        raise ValueError(f"unknown scope or role {', '.join(unknown)}")

    async def dependency(principal: OptionalPrincipal) -> Principal:
        return check_access(principal, needs)

    dependency.__name__ = f"require_{'_'.join(needs) or 'login'}"
    return dependency


async def lookup_access(settings: SettingsDep, principal: OptionalPrincipal) -> Principal | None:
    """Lookups (/v1/locate, /point): open when ``lookups_public`` (a key, if sent, is
    still checked and rate-limited), else they need the ``locate`` scope."""
    if settings.lookups_public:
        return principal
    return check_access(principal, ("locate",))


async def stream_principal(
    request: Request,
    principal: OptionalPrincipal,
    security: SecurityDep,
    store: StoreDep,
    access_token: Annotated[
        str | None,
        Query(description="A bearer token, for EventSource clients that cannot send headers."),
    ] = None,
) -> Principal:
    """Like ``require("events:read")``, also accepting ``?access_token=`` (browsers'
    EventSource cannot set an Authorization header; ``?api_key=`` works everywhere)."""
    if principal is None and access_token:
        if access_token.startswith(KEY_PREFIX):
            raise Problem(401, "Invalid token", "send an API key as api_key=, not access_token=")
        accounts = security.accounts(store)
        principal = await run_in_threadpool(_user_principal, security, accounts, access_token)
        request.state.principal = principal
    return check_access(principal, ("events:read",))


StreamPrincipal = Annotated[Principal, Depends(stream_principal)]
