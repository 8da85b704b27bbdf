"""HMAC signatures, one scheme both ways: platforms sign what they push in, gridgov signs
what it delivers out.

``X-Gridgov-Timestamp: <unix seconds>`` and ``X-Gridgov-Signature: sha256=<hex>`` where
the hex is HMAC-SHA256(secret, ``"<timestamp>." + raw body``). The timestamp inside the
MAC stops an old request being replayed later with a fresh header; the receiver also
refuses timestamps more than ``MAX_SKEW`` seconds away and signatures it has seen.
"""

from __future__ import annotations

import hashlib
import hmac

TIMESTAMP_HEADER = "X-Gridgov-Timestamp"
SIGNATURE_HEADER = "X-Gridgov-Signature"
MAX_SKEW = 300
"""Seconds a signed request's timestamp may differ from the receiver's clock."""
PREFIX = "sha256="


def signature(secret: str, timestamp: str | int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>." + body``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return mac.hexdigest()


def sign_headers(secret: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The two headers of a signed request."""
    return {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: PREFIX + signature(secret, timestamp, body),
    }


def matches(secret: str, timestamp: str, body: bytes, header: str) -> bool:
    """Constant-time check of a ``sha256=<hex>`` header against the body."""
    given = header.strip()
    given = given[len(PREFIX) :] if given.startswith(PREFIX) else given
    return hmac.compare_digest(given.lower(), signature(secret, timestamp, body))


__all__ = [
    "MAX_SKEW",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "matches",
    "sign_headers",
    "signature",
]
