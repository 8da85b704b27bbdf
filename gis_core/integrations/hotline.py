"""Cases pushed in by external platforms (12345, 12319 ...): signed, fresh, once.

Each platform has an id (its credential) and a shared secret. A push is refused unless
its HMAC signature (see :mod:`gis_core.integrations.signing`) matches, its timestamp is
within ``MAX_SKEW`` seconds, and the same signature was never accepted before (a replay).
A case is stored once per platform and case id: a retried push (fresh signature) answers
with the event already made. The platform's category code is mapped to a gridgov event
class through ``platform_categories``; an unmapped code still makes an event, with no
class, in the command centre's queue with the reason. The event, the case link and the
nonce are written in one transaction (and the outbox hook adds the ``received`` notice).
"""

from __future__ import annotations

import json
import math
import re
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from gis_core.cases.deadlines import TimeLimit, TimeUnit
from gis_core.cases.state import Actor
from gis_core.cases.vocab import EVENT_SOURCES, Role
from gis_core.events.context import EventContext
from gis_core.events.intake import persist, prepare
from gis_core.events.reports import EventReport, IntakeRejected, event_class_names, validate
from gis_core.events.views import get_event
from gis_core.integrations.outbox import add_target, check_url
from gis_core.integrations.signing import MAX_SKEW, matches
from gis_core.storage.models import Platform, PlatformCase, PlatformCategory, PlatformNonce
from gis_core.storage.protocol import StoreLike

MAX_BODY = 64 * 1024
"""Largest push body, in bytes."""
UNMAPPED_LIMIT = TimeLimit(1, TimeUnit.WORKING_DAYS)
"""The clock of an unmapped case until the centre classifies and dispatches it."""
_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_TEXT_LIMITS = {
    "description": 4000,
    "address": 500,
    "building_id": 64,
    "reporter_name": 100,
    "reporter_phone": 32,
    "crs": 32,
    "priority": 16,
}


class PushRefused(Exception):
    """A push that is not accepted; ``status`` and ``field`` say why (for the API)."""

    status = 401
    title = "Push refused"

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail)
        self.field = field


class BadSignature(PushRefused):
    title = "Bad signature"


class StalePush(PushRefused):
    title = "Stale or future timestamp"


class ReplayedPush(PushRefused):
    status = 409
    title = "Replayed request"


class PlatformError(ValueError):
    """A platform or mapping that cannot be registered."""


@dataclass
class PushResult:
    event: dict[str, Any]
    created: bool
    mapped: bool
    case_id: str


# -- administration ------------------------------------------------------------------


def add_platform(
    store: StoreLike,
    platform_id: str,
    *,
    name: str,
    source: str,
    secret: str,
    webhook_url: str | None = None,
    webhook_secret: str | None = None,
) -> None:
    """Register (or update) a platform; a webhook makes it hear about its source's cases."""
    if not _ID.match(platform_id):
        raise PlatformError("platform id: 1-32 letters, digits, '_' or '-'")
    if source not in EVENT_SOURCES:
        raise PlatformError(f"source must be one of {', '.join(EVENT_SOURCES)}")
    if len(secret) < 16 or len(secret) > 128:
        raise PlatformError("secret: 16-128 characters")
    if not name.strip() or len(name) > 100:
        raise PlatformError("name: 1-100 characters")
    if webhook_url is not None:
        check_url(webhook_url)
    with store.session() as session:
        platform = session.get(Platform, platform_id)
        if platform is None:
            session.add(Platform(id=platform_id, name=name, source=source, secret=secret))
        else:
            platform.name, platform.source, platform.secret = name, source, secret
    if webhook_url is not None:
        add_target(
            store,
            name=f"platform:{platform_id}",
            url=webhook_url,
            secret=webhook_secret or secret,
            source=source,
        )


def map_categories(store: StoreLike, platform_id: str, mapping: dict[str, str]) -> int:
    """Set platform category code -> gridgov event class entries (checked, all or none)."""
    classes = event_class_names()
    for external, code in mapping.items():
        if not external or len(external) > 64:
            raise PlatformError(f"platform category {external!r}: 1-64 characters")
        if code not in classes:
            raise PlatformError(f"unknown gridgov event class {code!r} for {external!r}")
    with store.session() as session:
        if session.get(Platform, platform_id) is None:
            raise PlatformError(f"no platform {platform_id!r}")
        for external, code in mapping.items():
            row = session.get(PlatformCategory, (platform_id, external))
            if row is None:
                session.add(
                    PlatformCategory(
                        platform_id=platform_id, external_code=external, category_code=code
                    )
                )
            else:
                row.category_code = code
    return len(mapping)


def list_platforms(store: StoreLike) -> list[dict[str, Any]]:
    """Platforms without their secrets."""
    with store.session(write=False) as session:
        out = []
        for p in session.scalars(select(Platform).order_by(Platform.id)):
            mapped = session.scalars(
                select(PlatformCategory).where(PlatformCategory.platform_id == p.id)
            ).all()
            out.append(
                {
                    "id": p.id,
                    "name": p.name,
                    "source": p.source,
                    "active": p.active,
                    "categories": {m.external_code: m.category_code for m in mapped},
                }
            )
        return out


# -- the push ------------------------------------------------------------------------


def verify(
    store: StoreLike,
    platform_id: str,
    timestamp: str | None,
    sig: str | None,
    body: bytes,
    *,
    now: float | None = None,
) -> Platform:
    """The platform if the push is authentic and fresh; PushRefused otherwise. (Replays
    are caught when the nonce is written, in the same transaction as the case.)"""
    with store.session(write=False) as session:
        platform = session.get(Platform, platform_id)
    if platform is None or not platform.active:
        raise BadSignature("platform", f"unknown or disabled platform {platform_id!r}")
    if not timestamp or not sig:
        raise BadSignature("X-Gridgov-Signature", "X-Gridgov-Timestamp and signature required")
    try:
        stamp = int(timestamp)
    except ValueError:
        raise StalePush("X-Gridgov-Timestamp", "timestamp must be unix seconds") from None
    now = time.time() if now is None else now
    if abs(now - stamp) > MAX_SKEW:
        raise StalePush(
            "X-Gridgov-Timestamp", f"timestamp is more than {MAX_SKEW} s from the server clock"
        )
    if not matches(platform.secret, timestamp, body, sig):
        raise BadSignature("X-Gridgov-Signature", "signature does not match the body")
    return platform


def _text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise IntakeRejected(name, "must be a string")
    if len(value) > _TEXT_LIMITS[name]:
        raise IntakeRejected(name, f"at most {_TEXT_LIMITS[name]} characters")
    return value


def parse_case(body: bytes) -> tuple[str, str, EventReport]:
    """(case id, platform category, report without a class yet) from a push body."""
    if len(body) > MAX_BODY:
        raise IntakeRejected("body", f"at most {MAX_BODY} bytes")
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise IntakeRejected("body", f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise IntakeRejected("body", "must be a JSON object")
    case_id, category = data.get("case_id"), data.get("category")
    if not isinstance(case_id, str | int) or isinstance(case_id, bool):
        raise IntakeRejected("case_id", "required (1-64 characters)")
    case_id = str(case_id).strip()
    if not 0 < len(case_id) <= 64:
        raise IntakeRejected("case_id", "required (1-64 characters)")
    if not isinstance(category, str) or not 0 < len(category.strip()) <= 64:
        raise IntakeRejected("category", "the platform's category code is required (1-64)")
    for name in ("lon", "lat"):
        value = data.get(name)
        if value is not None and (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise IntakeRejected(name, "must be a finite number")
    reported_at = None
    if data.get("reported_at") is not None:
        try:
            reported_at = datetime.fromisoformat(str(data["reported_at"]))
        except ValueError:
            raise IntakeRejected("reported_at", "an ISO 8601 time with offset") from None
    report = EventReport(
        source="",  # the platform's, set by the caller
        category_code="",
        description=_text(data, "description") or "",
        lon=data.get("lon"),
        lat=data.get("lat"),
        crs=_text(data, "crs") or "wgs84",
        address=_text(data, "address"),
        building_id=_text(data, "building_id"),
        reporter_name=_text(data, "reporter_name"),
        reporter_phone=_text(data, "reporter_phone"),
        priority=_text(data, "priority") or "normal",
        reported_at=reported_at,
    )
    return case_id, category.strip(), report


def _existing(ctx: EventContext, platform_id: str, case_id: str) -> int | None:
    with ctx.session(write=False) as session:
        return session.scalar(
            select(PlatformCase.event_id).where(
                PlatformCase.platform_id == platform_id, PlatformCase.case_id == case_id
            )
        )


def push(
    ctx: EventContext,
    platform_id: str,
    timestamp: str | None,
    sig: str | None,
    body: bytes,
    *,
    now: float | None = None,
) -> PushResult:
    """Accept one signed push (see the module docstring); PushRefused or IntakeRejected."""
    platform = verify(ctx.store, platform_id, timestamp, sig, body, now=now)
    case_id, category, report = parse_case(body)
    with ctx.session(write=False) as session:
        row = session.get(PlatformCategory, (platform.id, category))
        code = None if row is None else row.category_code
    ext = f"{platform.id}:{case_id}"[:64]
    report = replace(report, source=platform.source, external_id=ext)
    # every field is checked; an unmapped category is checked as the first class and
    # then left empty: the centre classifies the case
    checked = validate(replace(report, category_code=code or next(iter(event_class_names()))))
    prepared = None
    if _existing(ctx, platform.id, case_id) is None:
        actor = Actor(id=f"platform:{platform.id}", role=Role.SYSTEM, name=platform.name)
        decision = None
        if code is None:
            decision = ctx.router.to_centre(
                f"platform {platform.id} category {category!r} has no mapping to an event class",
                f"{platform.name}的类别{category}尚未对应事件类别，转区指挥中心分类",
                UNMAPPED_LIMIT,
            )
            checked = replace(checked, category_code=None)
        prepared = prepare(ctx, checked, actor, decision, unlocated_ok=True)
    stamp = datetime.fromtimestamp(int(timestamp or 0), UTC)
    sig_hex = (sig or "").strip().removeprefix("sha256=").lower()[:64]
    try:
        with ctx.session() as session:
            session.add(PlatformNonce(platform_id=platform.id, signature=sig_hex, signed_at=stamp))
            session.flush()
            event_id = session.scalar(
                select(PlatformCase.event_id).where(
                    PlatformCase.platform_id == platform.id, PlatformCase.case_id == case_id
                )
            )
            created = event_id is None and prepared is not None
            if created:
                (event_id,) = persist(ctx, session, [prepared])
                session.add(
                    PlatformCase(
                        platform_id=platform.id,
                        case_id=case_id,
                        event_id=event_id,
                        external_category=category,
                        mapped=code is not None,
                        reason=None if code else f"unmapped category {category!r}",
                    )
                )
    except IntegrityError:
        if _existing(ctx, platform.id, case_id) is not None and prepared is not None:
            # the same case raced in under another signature: the first one won
            return push_result(ctx, platform.id, case_id, created=False)
        raise ReplayedPush(
            "X-Gridgov-Signature", "this signed request was already accepted"
        ) from None
    if event_id is None:  # the case arrived between the check and the write
        return push_result(ctx, platform.id, case_id, created=False)
    return PushResult(get_event(ctx, event_id), created, code is not None, case_id)


def push_result(ctx: EventContext, platform_id: str, case_id: str, *, created: bool) -> PushResult:
    with ctx.session(write=False) as session:
        row = session.scalars(
            select(PlatformCase).where(
                PlatformCase.platform_id == platform_id, PlatformCase.case_id == case_id
            )
        ).one()
        event_id, mapped = row.event_id, row.mapped
    return PushResult(get_event(ctx, event_id), created, mapped, case_id)


__all__ = [
    "MAX_BODY",
    "BadSignature",
    "PlatformError",
    "PushRefused",
    "PushResult",
    "ReplayedPush",
    "StalePush",
    "add_platform",
    "list_platforms",
    "map_categories",
    "parse_case",
    "push",
    "verify",
]
