"""Log in (OAuth2 password flow) and ask who you are."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from api.dependencies import StoreDep
from api.errors import Problem
from api.security import Principal, SecurityDep, require
from gis_core.auth import ROLE_LABELS, area_level
from gis_core.auth.ratelimit import retry_after_header
from gis_core.standards.limits import PASSWORD_MAX, SHORT_TEXT_MAX, text_problem

MAX_USERNAME = SHORT_TEXT_MAX

router = APIRouter(prefix="/v1/auth", tags=["auth"])


class TokenAnswer(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    """Seconds until the token expires; log in again then."""


class MeAnswer(BaseModel):
    kind: str
    name: str
    display_name: str | None = None
    role: str | None = None
    role_label: str | None = None
    scopes: list[str]
    jurisdiction: str | None = None
    jurisdiction_level: str | None = None


@router.post(
    "/token",
    response_model=TokenAnswer,
    summary="Log in with username and password (OAuth2 password form); get a bearer token",
    responses={
        400: {"description": "Wrong username or password (OAuth2 invalid_grant)"},
        429: {"description": "Too many login attempts from this address or for this account"},
    },
)
def login(
    request: Request,
    response: Response,
    security: SecurityDep,
    store: StoreDep,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> TokenAnswer:
    """Sync on purpose: argon2 verification is CPU work, so it runs in the threadpool.
    Limited per client address and per account with backoff before any password is
    checked (gis_core.auth.login_guard)."""
    for name, value, limit in (
        ("username", form.username, MAX_USERNAME),
        ("password", form.password, PASSWORD_MAX),
    ):
        problem = text_problem(value, limit)
        if problem is not None:
            raise Problem(400, "Login failed", f"{name}: {problem}", name, error="invalid_request")
    address = request.client.host if request.client else "?"
    account = form.username.strip().lower()[:MAX_USERNAME]
    refused = security.login_guard.check(address, account)
    if refused is not None:
        wait, why = refused
        raise Problem(
            429,
            "Too many login attempts",
            f"too many attempts for this {why}; retry in {retry_after_header(wait)} s",
            headers={"Retry-After": retry_after_header(wait)},
        )
    accounts = security.accounts(store)
    user = accounts.authenticate(form.username, form.password)
    security.login_guard.record(address, account, user is not None)
    if user is None:  # RFC 6749 5.2: a bad grant is 400 invalid_grant, not 401
        raise Problem(
            400,
            "Login failed",
            "wrong username or password, or the account is disabled",
            "username",
            error="invalid_grant",
        )
    issued = security.tokens(accounts).issue(user.username, user.id, user.token_version)
    response.headers["Cache-Control"] = "no-store"  # RFC 6749 5.1: never cache tokens
    return TokenAnswer(access_token=issued.token, expires_in=issued.expires_in)


@router.get("/me", response_model=MeAnswer, summary="The caller: user or API key, scopes, area")
def me(principal: Annotated[Principal, Depends(require())]) -> MeAnswer:
    area = principal.jurisdiction
    return MeAnswer(
        kind=principal.kind,
        name=principal.name,
        display_name=principal.display_name,
        role=principal.role,
        role_label=ROLE_LABELS.get(principal.role) if principal.role else None,
        scopes=sorted(principal.scopes),
        jurisdiction=area,
        jurisdiction_level=area_level(area) if area else None,
    )
