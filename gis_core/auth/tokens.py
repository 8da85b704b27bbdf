"""Bearer tokens: HS256-signed JWTs (PyJWT) that expire.

A token names the user (``sub``, ``uid``) and the account's ``token_version`` (``ver``);
the account is still read on every request, so disabling a user, changing a password
(both bump the version) or changing a role takes effect at once, not at expiry. The
clock used to issue tokens is injectable; expiry is checked by PyJWT against real time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

ALGORITHM = "HS256"
ISSUER = "gridgov"
MIN_SECRET_LENGTH = 32


class TokenError(ValueError):
    """A token that is malformed, badly signed, expired or not ours."""


@dataclass(frozen=True)
class TokenClaims:
    username: str
    user_id: int
    version: int
    issued_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime
    expires_in: int  # seconds


class TokenService:
    """Issues and verifies tokens with one secret."""

    def __init__(
        self,
        secret: str,
        ttl: timedelta,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(f"the signing secret needs at least {MIN_SECRET_LENGTH} characters")
        self._secret = secret
        self.ttl = ttl
        self.clock = clock

    def issue(self, username: str, user_id: int, version: int) -> IssuedToken:
        now = self.clock().replace(microsecond=0)
        expires = now + self.ttl
        claims = {
            "iss": ISSUER,
            "sub": username,
            "uid": user_id,
            "ver": version,
            "iat": now,
            "exp": expires,
        }
        token = jwt.encode(claims, self._secret, algorithm=ALGORITHM)
        return IssuedToken(token, expires, int(self.ttl.total_seconds()))

    def verify(self, token: str) -> TokenClaims:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "iss"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenError("token expired") from exc
        except jwt.PyJWTError as exc:
            raise TokenError(f"invalid token: {exc}") from exc
        uid, ver = claims.get("uid"), claims.get("ver")
        if not isinstance(uid, int) or not isinstance(ver, int):
            raise TokenError("invalid token: missing uid or ver")
        return TokenClaims(
            username=str(claims["sub"]),
            user_id=uid,
            version=ver,
            issued_at=datetime.fromtimestamp(claims["iat"], UTC),
            expires_at=datetime.fromtimestamp(claims["exp"], UTC),
        )
