"""Log in (OAuth2 password flow) and ask who you are."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from api.dependencies import StoreDep
from api.errors import Problem
from api.security import Principal, SecurityDep, require
from gis_core.auth import ROLE_LABELS, area_level
from gis_core.auth.ratelimit import retry_after_header

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
        429: {"description": "Too many login attempts for this username"},
    },
)
def login(
    response: Response,
    security: SecurityDep,
    store: StoreDep,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> TokenAnswer:
    """Sync on purpose: argon2 verification is CPU work, so it runs in the threadpool."""
    rate = security.login_rate  # None when "unlimited" is configured
    wait = rate and security.login_limiter.hit(("login", form.username.strip().lower()), rate)
    if wait:
        raise Problem(
            429,
            "Too many login attempts",
            f"at most {security.login_rate} per username; retry later",
            headers={"Retry-After": retry_after_header(wait)},
        )
    accounts = security.accounts(store)
    user = accounts.authenticate(form.username, form.password)
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
