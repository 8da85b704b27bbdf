"""The rules without a database: roles and scopes, jurisdictions, rates, tokens, hashes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from auth_helpers import FakeClock
from sqlalchemy.dialects import sqlite

from api.security import AuthSettings, Principal, require
from gis_core.auth import (
    KEY_SCOPES,
    ROLE_LABELS,
    ROLE_SCOPES,
    ROLES,
    SCOPES,
    Rate,
    RateLimiter,
    TokenError,
    TokenService,
    area_level,
    parse_scopes,
    passwords,
    validate_area_code,
)
from gis_core.auth.ratelimit import retry_after_header
from gis_core.events.access import event_visible, jurisdiction_clause
from gis_core.storage.models import USER_ROLES

STREET = "340111001"
OTHER_STREET = "340111002"
SECRET = "s" * 40


def user(role: str, area: str | None) -> Principal:
    return Principal("user", 1, f"{role}-{area}", role, ROLE_SCOPES[role], area)


def key(scopes: set[str], area: str | None = None) -> Principal:
    return Principal("key", 1, "app", None, frozenset(scopes), area)


# -- roles and scopes ----------------------------------------------------------------------


def test_role_scope_table() -> None:
    assert set(ROLES) == set(USER_ROLES) == set(ROLE_SCOPES) == set(ROLE_LABELS)
    assert ROLE_LABELS["dispatcher"] == "派遣员" and ROLE_LABELS["grid_member"] == "网格员"
    assert ROLE_SCOPES["dispatcher"] == {"events:read", "events:write", "layers", "locate"}
    assert ROLE_SCOPES["analyst"] == {
        "events:read", "layers", "locate", "indicators", "analytics:read"
    }
    assert ROLE_SCOPES["planner"] == {"boundaries", "layers", "locate"}
    assert ROLE_SCOPES["admin"] == set(SCOPES)
    for role, scopes in ROLE_SCOPES.items():
        assert scopes <= set(SCOPES), role
        assert "locate" in scopes, role  # every account may look up grids
    assert not set(ROLES) & set(SCOPES)
    assert set(SCOPES) == KEY_SCOPES


def test_principal_satisfies_any_of_scopes_or_roles() -> None:
    dispatcher, analyst = user("dispatcher", STREET), user("analyst", None)
    admin = user("admin", None)
    assert dispatcher.satisfies(("events:write",))
    assert not analyst.satisfies(("events:write",))
    assert analyst.satisfies(("events:write", "indicators"))  # any of
    assert dispatcher.satisfies(("dispatcher", "supervisor"))  # a role
    assert not analyst.satisfies(("dispatcher",))
    assert admin.satisfies(("dispatcher",)) and admin.satisfies(("boundaries",))
    app = key({"locate"})
    assert app.satisfies(("locate",)) and app.satisfies(())
    assert not app.satisfies(("events:read",)) and not app.satisfies(("dispatcher",))


def test_require_refuses_unknown_names_at_definition() -> None:
    with pytest.raises(ValueError, match="unknown scope or role evnets:read"):
        require("evnets:read")
    require("events:read", "dispatcher")  # fine


def test_parse_scopes() -> None:
    assert parse_scopes("locate,events:read, layers") == {"locate", "events:read", "layers"}
    assert parse_scopes("locate open311") == {"locate", "open311"}
    with pytest.raises(ValueError, match="locat"):
        parse_scopes("locat")
    with pytest.raises(ValueError, match="at least one"):
        parse_scopes(" , ")


# -- jurisdiction --------------------------------------------------------------------------


def can_access(caller: Principal | None, area_code: str | None) -> bool:
    """The one jurisdiction rule (``gis_core.events.access``) applied to a caller."""
    return event_visible(None if caller is None else caller.jurisdiction, area_code)


def test_street_dispatcher_sees_its_street_only() -> None:
    d = user("dispatcher", STREET)
    assert d.jurisdiction == STREET
    assert can_access(d, STREET)
    assert can_access(d, STREET + "003")  # a community of the street
    assert can_access(d, STREET + "003007")  # a grid of the street
    assert not can_access(d, OTHER_STREET)
    assert not can_access(d, OTHER_STREET + "003007")
    assert not can_access(d, "340111")  # not the district above it
    assert not can_access(d, None)  # an unlocated event is for district-level users
    assert d.can_access(STREET + "001") and not d.can_access(OTHER_STREET)


def test_district_and_unrestricted_users() -> None:
    district = user("dispatcher", "340111")
    assert can_access(district, STREET) and can_access(district, OTHER_STREET + "001001")
    assert not can_access(district, "340102001")
    assert can_access(district, None)  # the district command centre's queue
    admin = user("admin", None)
    assert admin.jurisdiction is None and can_access(admin, None)
    assert can_access(None, None)
    assert can_access(key({"locate"}, STREET), STREET + "001")


def test_area_codes() -> None:
    assert validate_area_code(" 340111001 ") == STREET
    assert validate_area_code(None) is None
    for bad in ("34011", "3401110011", "34011100a", "３４０１１１"):
        with pytest.raises(ValueError):
            validate_area_code(bad)
    assert [area_level(c) for c in ("340111", STREET, STREET + "001", STREET + "001001")] == [
        "district",
        "street",
        "community",
        "grid",
    ]


def test_jurisdiction_clause_is_an_escaped_prefix_match() -> None:
    sql = jurisdiction_clause(user("dispatcher", STREET).jurisdiction).compile(
        dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}
    )
    assert "LIKE '340111001' || '%'" in str(sql)
    assert str(jurisdiction_clause(user("admin", None).jurisdiction).compile()) == "true"


# -- rates ---------------------------------------------------------------------------------


def test_rate_parse() -> None:
    assert Rate.parse("600/min") == Rate(600, 60)
    assert Rate.parse("10/s") == Rate(10, 1)
    assert Rate.parse("5000/day") == Rate(5000, 86400)
    assert Rate.parse("100 / 30s") == Rate(100, 30)
    assert Rate.parse("2/hours") == Rate(2, 3600)
    assert Rate.parse("unlimited") is None
    assert [str(Rate.parse(t)) for t in ("600/min", "10/s", "100/30s")] == [
        "600/min",
        "10/s",
        "100/30s",
    ]
    for bad in ("600", "x/min", "10/fortnight", "-1/min", "0/min"):
        with pytest.raises(ValueError):
            Rate.parse(bad)


def test_token_bucket_bursts_then_refills() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock=clock)
    rate = Rate(3, 60)  # one token per 20 s
    assert [limiter.hit("k", rate) for _ in range(3)] == [None, None, None]
    wait = limiter.hit("k", rate)
    assert wait == pytest.approx(20.0) and retry_after_header(wait) == "20"
    assert limiter.hit("other", rate) is None  # buckets are per key
    clock.advance(10)
    assert limiter.hit("k", rate) == pytest.approx(10.0)  # refused hits take nothing
    clock.advance(10)
    assert limiter.hit("k", rate) is None
    assert limiter.hit("k", rate) is not None
    assert limiter.hit("k", Rate(5, 60)) is None  # a changed rate starts afresh
    clock.advance(3600)
    assert [limiter.hit("k", rate) for _ in range(3)] == [None, None, None]  # capped at 3


def test_idle_buckets_are_pruned() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock=clock, max_buckets=10)
    for i in range(10):
        limiter.hit(i, Rate(1, 1))
    clock.advance(2)
    limiter.hit("new", Rate(1, 1))
    assert len(limiter._buckets) == 1
    assert retry_after_header(0.01) == "1" and retry_after_header(2.0) == "2"


# -- tokens and passwords ------------------------------------------------------------------


def test_token_round_trip_and_expiry() -> None:
    service = TokenService(SECRET, timedelta(minutes=5))
    issued = service.issue("zhang", 7, 3)
    claims = service.verify(issued.token)
    assert (claims.username, claims.user_id, claims.version) == ("zhang", 7, 3)
    assert issued.expires_in == 300
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    past = TokenService(SECRET, timedelta(minutes=5), clock=lambda: an_hour_ago)
    with pytest.raises(TokenError, match="expired"):
        service.verify(past.issue("zhang", 7, 3).token)
    with pytest.raises(TokenError, match="Signature"):
        TokenService("t" * 40, timedelta(minutes=5)).verify(issued.token)
    head, body, sig = issued.token.split(".")
    with pytest.raises(TokenError):
        service.verify(f"{head}.{body}.{sig[::-1]}")
    with pytest.raises(TokenError):
        service.verify("not-a-token")
    with pytest.raises(ValueError, match="32"):
        TokenService("short", timedelta(minutes=5))


def test_passwords_are_argon2_hashes() -> None:
    h = passwords.hash_password("correct horse")
    assert h.startswith("$argon2id$") and "correct horse" not in h
    assert passwords.verify_password(h, "correct horse")
    assert not passwords.verify_password(h, "correct horsE")
    assert not passwords.verify_password(None, "correct horse")
    assert not passwords.verify_password("garbage", "correct horse")
    with pytest.raises(ValueError, match="too short"):
        passwords.hash_password("short")


def test_settings_refuse_a_short_secret() -> None:
    with pytest.raises(ValueError, match="at least 32"):
        AuthSettings(_env_file=None, secret_key="too-short")
    with pytest.raises(ValueError):
        AuthSettings(_env_file=None, login_rate="lots")
    assert AuthSettings(_env_file=None, secret_key="k" * 32).token_ttl_minutes == 480
