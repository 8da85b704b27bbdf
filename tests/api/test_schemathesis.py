"""Fuzz every operation of ``/openapi.json`` with schemathesis: no input may cause a 5xx.

The app runs in process (ASGI) over a throwaway copy of the seeded sample district, on
SQLite and PostGIS, with ``EVENTS`` sample reports left at every step of the case loop (so
event ids exist and actions reach the workflow) and the demo accounts: every request
carries the demo admin's bearer token, so protected routes are exercised beyond 401.
Every error answer must be problem+json with the response's status, except Open311's,
which are GeoReport error lists (JSON or XML).

Generation is reproducible (fixed seed, derandomized Hypothesis, no example database).
Budget: every operation has a home backend (sorted labels, alternately SQLite and
PostGIS: ``home_backend``). There schemathesis runs its examples and coverage phases in
full (schema boundaries, missing and wrongly typed values, unexpected methods) and
``MAX_EXAMPLES`` fuzzed cases (``MAX_WRITE_EXAMPLES`` for the operations that change
events). On the other backend it runs the positive coverage cases (valid boundary values:
the inputs that get past validation into the storage code, where the backends differ)
and ``AWAY_EXAMPLES`` / ``AWAY_WRITE_EXAMPLES`` fuzzed cases. Why: the cases are the same
on both backends (seeded per operation), and the negative coverage cases (~3/4 of the
coverage phase, which was ~2/3 of the fuzz time) are refused by validation before any
backend-specific code; running everything twice cost ~7,600 cases per backend, now ~4,600
(-39%). Inputs that once failed on one backend only stay in ``test_edges``. Values that
mean something in the sample district, and values that once broke the API (ids past the
database's integers, times at the ends of Python's calendar), are mixed into generation
(``DICTIONARIES`` / ``HINTS``), so requests get past "unknown layer" or "outside coverage"
into the code behind. The SSE stream is fuzzed too, ended by a fixed ``max_seconds``.
``test_edges`` replays inputs that once answered 500 but that generation reaches only by
luck.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from sqlalchemy import URL

from api.app import create_app
from api.errors import PROBLEM_JSON
from api.settings import ApiSettings, StreamSettings
from gis_core.auth import ensure_demo_accounts
from gis_core.auth.demo_accounts import DEMO_PASSWORD
from gis_core.cases import TZ, Actor
from gis_core.events.loader import reports_from_frame
from gis_core.events.service import EventService
from gis_core.sample_data.events import generate_events
from gis_core.storage import Store
from tests.api.conftest import url_text
from tests.db_fixtures import SampleTemplates

MAX_EXAMPLES = 20
MAX_WRITE_EXAMPLES = 50
AWAY_EXAMPLES = 5
AWAY_WRITE_EXAMPLES = 15
BACKENDS = ("sqlite", "postgis")
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
SEED = 20260601
EVENTS = 60
STREAM = "/v1/events/stream"
STREAM_SECONDS = 0.01
OPEN311 = "/open311/"
MAPIT = ("/point/", "/area/", "/areas/", "/code/", "/generations")
WRITES = ["/v1/events", "/v1/events/{event_id}/actions", "/v1/events/{event_id}/relocate"]
WRITE_LABELS = frozenset(f"POST {path}" for path in WRITES)

GRID = "340111001001001"
LON, LAT = 117.27304, 31.84889  # inside GRID
PAST_INTEGER = 2**31  # one past the Integer columns of PostgreSQL
EDGE_TIMES = ["0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-08:00"]
DICTIONARIES: dict[str, list[str | int | float]] = {
    "layer": ["districts", "streets", "communities", "grids", "buildings", "components", "events"],
    "feature": [GRID, "340111001", "340111B0000001", "34011101001000001", "1", str(PAST_INTEGER)],
    "generation": ["sample-340111", "1", str(PAST_INTEGER), "²"],
    "grid": [GRID, "340111001002002"],
    "area": ["340111", "340111001", "340111001001", GRID],
    "lon": [LON, 117.3006],
    "lat": [LAT, 31.8082],
    "coords": [f"{LON},{LAT}", "117.3006,31.8082"],
    "srid": [4326, 4490],
    "crs": ["wgs84", "gcj02", "bd09", "cgcs2000", "EPSG:4326", "EPSG:4548"],
    "category": ["01001", "01002", "02001", "05003"],
    "source": ["12345", "110", "grid_member", "resident_app", "iot"],
    "priority": ["normal", "urgent"],
    "action": ["file", "dispatch", "verify_pass", "close", "escalate", "extend", "merge", "urge"],
    "level": ["community", "street", "district"],
    "time_unit": ["working_hours", "working_days"],
    "time": ["2026-06-01T08:00:00+08:00", *EDGE_TIMES],
    "interval": ["2026-06-01", "0001-01-01", "9999-12-31", f"{EDGE_TIMES[0]}/..", "../9999-12-31"],
    "request_id": ["1", "1,2", str(PAST_INTEGER), "²"],
    "cursor": ["1767225600123456-1", f"1767225600123456-{PAST_INTEGER}", "²-1"],
    "event": list(range(1, EVENTS + 1)),
    "z": [14],
    "x": [13529],
    "y": [6661],
}
HINTS: dict[str, list[str]] = {
    "layer": ["path.layer", "path.collectionId"],
    "feature": ["path.featureId"],
    "generation": ["query.generation"],
    "grid": ["path.code", "query.grid_code"],
    "area": ["query.area"],
    "lon": ["query.lon", "body.lon"],
    "lat": ["query.lat", "body.lat"],
    "coords": ["path.coords"],
    "srid": ["path.srid"],
    "crs": ["query.crs", "body.crs"],
    "category": ["body.category_code", "query.category_code", "path.service_code"],
    "source": ["body.source", "query.source"],
    "priority": ["body.priority"],
    "action": ["body.action"],
    "level": ["body.to_level"],
    "time_unit": ["body.unit"],
    "time": ["query.from", "query.to", "query.start_date", "query.end_date", "body.reported_at"],
    "interval": ["query.datetime"],
    "request_id": ["path.service_request_id", "query.service_request_id"],
    "cursor": ["query.last_event_id"],
    "event": ["path.event_id", "body.into"],
    "z": ["path.z"],
    "x": ["path.x"],
    "y": ["path.y"],
}
HINT_PROBABILITY = 0.6
WRITE_HINTS = [
    *("body.source", "body.category_code", "body.priority", "body.reported_at"),
    *("body.lon", "body.lat", "body.action"),
]
"""Hinted more often in writes, so that more reports are accepted and actions recognised."""
WRITE_HINT_PROBABILITY = 0.9


@pytest.fixture(scope="session", params=["sqlite", "postgis"])
def fuzz_db_url(
    request: pytest.FixtureRequest,
    sample_templates: SampleTemplates,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[URL]:
    """A copy of the seeded district (``sample_templates``: seeded once per process, then
    copied, on PostGIS a ``CREATE DATABASE ... TEMPLATE``) for the fuzzer to change, with
    sample events and the demo accounts."""
    with sample_templates.copy(request, tmp_path_factory.mktemp("fuzz")) as url:
        with Store(url) as store:
            _add_events_and_accounts(store)
        yield url


def _add_events_and_accounts(store: Store) -> None:
    """Sample reports of last year, left at each step of the loop; the demo accounts."""
    service = EventService(store)
    year = datetime.now(TZ).year - 1
    frame = generate_events(n=2_000, year=year, seed=SEED).head(EVENTS)
    dispatcher, verifier = Actor("fuzz", "dispatcher"), Actor("fuzz", "verifier")
    for n, event_id in enumerate(service.submit_many(list(reports_from_frame(frame))).created):
        unit_id = service.get(event_id, with_history=False)["unit_id"]
        handler = Actor("fuzz", "handler", unit_id=unit_id)
        loop = [dispatcher, dispatcher, handler, verifier, dispatcher]
        actions = ["file", "dispatch", "handle", "verify_pass", "close"]
        for action, actor in list(zip(actions, loop, strict=True))[: n % (len(actions) + 1)]:
            try:
                service.act(event_id, action, actor, with_history=False)
            except ValueError:  # e.g. not routed to a unit: stays where it is
                break
    ensure_demo_accounts(store)


@pytest.fixture(scope="session")
def fuzz_app(fuzz_db_url: URL) -> Iterator[FastAPI]:
    app = create_app(
        ApiSettings(_env_file=None, database_url=url_text(fuzz_db_url)),
        stream_settings=StreamSettings(_env_file=None, poll_seconds=0.01),
    )
    yield app
    asgi.shutdown_lifespans()  # schemathesis started the app's lifespan: end it (store disposed)


def operation_labels(app: FastAPI) -> list[str]:
    """``METHOD /path`` of every operation of the app's OpenAPI document, sorted."""
    paths = app.openapi()["paths"]
    return sorted(f"{m.upper()} {p}" for p, item in paths.items() for m in item if m in METHODS)


def home_backend(labels: list[str], label: str) -> str:
    """The backend on which ``label`` gets the full budget: alternately by sorted label."""
    return BACKENDS[labels.index(label) % len(BACKENDS)]


def fuzz_config(backend: str, labels: list[str]) -> schemathesis.Config:
    """The fuzz settings on ``backend``: the full budget for the operations at home there,
    the away budget (positive coverage, ``AWAY_EXAMPLES`` fuzzed cases) for the others."""
    hints = {
        key: {"dictionary": name, "probability": HINT_PROBABILITY}
        for name, keys in HINTS.items()
        for key in keys
    }
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "suppress-health-check": ["all"],
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
                # the admin's token below, not generated Authorization / X-API-Key / api_key
                "with-security-parameters": False,
            },
            "phases": {"stateful": {"enabled": False}},
            "dictionaries": {name: {"values": values} for name, values in DICTIONARIES.items()},
            "parameters": hints,
            "operations": [
                *(  # first: the earlier entry wins where several apply
                    {
                        "include-name": label,
                        "phases": {"coverage": {"generation": {"mode": "positive"}}},
                        "generation": {
                            "max-examples": AWAY_WRITE_EXAMPLES
                            if label in WRITE_LABELS
                            else AWAY_EXAMPLES
                        },
                    }
                    for label in labels
                    if home_backend(labels, label) != backend
                ),
                *(
                    {
                        # one filter (the label): include-path and include-method would be
                        # two filters, ORed, so every POST and GET /v1/events would match
                        "include-name": f"POST {path}",
                        "generation": {"max-examples": MAX_WRITE_EXAMPLES},
                        "parameters": {
                            **hints,
                            **{
                                key: {**hints[key], "probability": WRITE_HINT_PROBABILITY}
                                for key in WRITE_HINTS
                            },
                        },
                    }
                    for path in WRITES
                ),
                {
                    "include-path": STREAM,
                    "parameters": {**hints, "query.max_seconds": STREAM_SECONDS},
                    "request-timeout": 10,
                },
            ],
        }
    )


@pytest.fixture(scope="session")
def admin_headers(fuzz_app: FastAPI) -> dict[str, str]:
    with asgi.get_client(fuzz_app) as client:
        login = client.post("/v1/auth/token", data={"username": "admin", "password": DEMO_PASSWORD})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


@pytest.fixture(scope="session")
def api_schema(
    fuzz_app: FastAPI, fuzz_db_url: URL, admin_headers: dict[str, str]
) -> schemathesis.BaseSchema:
    backend = "sqlite" if fuzz_db_url.get_backend_name() == "sqlite" else "postgis"
    config = fuzz_config(backend, operation_labels(fuzz_app))
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app, config=config)
    schema.config.update(headers=admin_headers)
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_no_server_error(case: schemathesis.Case) -> None:
    response = case.call()
    case.validate_response(response, checks=[not_a_server_error])
    content_type = response.headers.get("content-type", [""])[0]
    where = f"{case.method} {case.formatted_path}"
    assert_error_format(where, response.status_code, content_type, response.content)


def assert_error_format(where: str, status: int, content_type: str, content: bytes) -> None:
    """Errors are problem+json; Open311 routes answer GeoReport error lists instead, and
    MapIt's routes MapIt's error objects."""
    if status < 400:
        return
    where = f"{where}: {status} {content_type}"
    if OPEN311 in where and not content_type.startswith(PROBLEM_JSON):
        if content_type.startswith("text/xml"):
            assert b"<errors><error>" in content, where
            return
        errors: Any = json.loads(content)
        assert isinstance(errors, list) and errors, where
        assert all(e.get("code") == status for e in errors), where
        return
    if where.split(" ")[1].startswith(MAPIT) and content_type.startswith("application/json"):
        error = json.loads(content)  # MapIt's own shape: {"error": ..., "code": status}
        assert error.get("code") == status and error.get("error"), where
        return
    assert content_type.startswith(PROBLEM_JSON), where
    problem = json.loads(content)
    assert problem.get("status") == status and problem.get("title"), where


REPORT = {"source": "12345", "category_code": "01001", "lon": LON, "lat": LAT}
EDGES: list[tuple[str, str, dict[str, Any] | None]] = [
    # Inputs that once answered 500, which the fuzzer reaches only by luck: free-form
    # OGC property filters are not in the OpenAPI document, and a report must be valid
    # in every other field before its reported_at is used.
    ("GET", "/collections/events/items?id=2147483648", None),
    ("GET", "/collections/buildings/items?floors=9223372036854775808", None),
    ("GET", "/collections/events/items/9223372036854775808", None),
    ("GET", "/collections/events/items?offset=9223372036854775808", None),
    ("GET", "/collections/events/items?datetime=0001-01-01", None),
    ("GET", "/collections/events/items?datetime=9999-12-31T23:59:59-08:00/..", None),
    ("GET", "/tiles/events/14/13529/6661.mvt?datetime=0001-01-01T00:00:00%2B08:00", None),
    ("GET", "/collections/grids/items?generation=2147483648", None),
    ("GET", "/v1/locate?lon=117.27&lat=31.84&generation=%C2%B2", None),
    ("GET", "/v1/events/9223372036854775808", None),
    ("GET", "/v1/events?offset=9223372036854775808", None),
    ("GET", "/v1/events?to=0001-01-01T00:00:00", None),
    ("GET", "/v1/indicators?to=0001-01-01T00:00:00%2B08:00", None),
    ("GET", "/v1/indicators?from=9999-12-31T23:59:59-08:00", None),
    ("GET", "/open311/v2/requests.json?start_date=9999-12-31T23:59:59", None),
    ("GET", "/open311/v2/requests.json?service_request_id=9223372036854775808", None),
    ("GET", "/open311/v2/requests/%C2%B2%C2%B3.json", None),
    ("GET", f"{STREAM}?max_seconds={STREAM_SECONDS}&last_event_id=1-2147483648", None),
    ("GET", f"{STREAM}?max_seconds={STREAM_SECONDS}&last_event_id=%C2%B2-1", None),
    ("POST", "/v1/events", {**REPORT, "reported_at": EDGE_TIMES[0]}),
    ("POST", "/v1/events", {**REPORT, "reported_at": EDGE_TIMES[1]}),
    ("POST", "/v1/events/1/actions", {"action": "merge", "into": 2**63}),
    ("POST", "/v1/events/2/actions", {"action": "dispatch", "unit_id": 2**64}),
]


def _edge_id(method: str, url: str, body: dict[str, Any] | None) -> str:
    extra = {k: v for k, v in (body or {}).items() if k not in REPORT}
    return " ".join([method, url, *(f"{k}={v}" for k, v in extra.items())])


@pytest.mark.parametrize(("method", "url", "body"), EDGES, ids=[_edge_id(*e) for e in EDGES])
def test_edges(
    fuzz_app: FastAPI,
    admin_headers: dict[str, str],
    method: str,
    url: str,
    body: dict[str, Any] | None,
) -> None:
    with asgi.get_client(fuzz_app) as client:
        response = client.request(method, url, json=body, headers=admin_headers, timeout=10)
    assert response.status_code < 500, f"{method} {url}: {response.text}"
    content_type = response.headers.get("content-type", "")
    assert_error_format(f"{method} {url}", response.status_code, content_type, response.content)


def test_every_operation_is_fuzzed(api_schema: schemathesis.BaseSchema) -> None:
    """No operation is dropped as unusable: a broken definition (such as a dangling
    ``$ref``) would otherwise shrink the fuzzed surface without failing anything."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    paths = api_schema.raw_schema["paths"].values()
    assert len(operations) == sum(len(methods) for methods in paths)
    for operation in operations:
        declared = operation.definition.raw.get("requestBody", {}).get("content", {})
        assert [body.media_type for body in operation.body] == list(declared), operation.label
    # Every operation has the full budget on one backend (the larger one for the writes
    # only: an [[operations]] entry that matched every POST once gave 36 operations 50
    # fuzzed cases each), and the away budget on the other.
    labels = [operation.label for operation in operations]
    assert sorted(labels) == operation_labels(api_schema.app)
    full = {label: None for label in labels}
    running = {
        op.label: api_schema.config.generation_for(operation=op, phase="fuzzing").max_examples
        for op in operations
    }
    budgets = []
    for backend in BACKENDS:
        config = fuzz_config(backend, sorted(labels)).projects.default
        budgets.append(
            {op.label: config.generation_for(operation=op, phase="fuzzing").max_examples
             for op in operations}
        )
        for op in operations:
            fuzzing = config.generation_for(operation=op, phase="fuzzing")
            coverage = config.generation_for(operation=op, phase="coverage")
            if home_backend(sorted(labels), op.label) == backend:
                full[op.label] = fuzzing.max_examples
                assert len(coverage.modes) == 2, (backend, op.label)  # positive and negative
            else:
                away = AWAY_WRITE_EXAMPLES if op.label in WRITE_LABELS else AWAY_EXAMPLES
                assert fuzzing.max_examples == away, (backend, op.label)
                assert [m.value for m in coverage.modes] == ["positive"], (backend, op.label)
    writes = {label for label, n in full.items() if n == MAX_WRITE_EXAMPLES}
    assert writes == WRITE_LABELS
    assert set(full.values()) == {MAX_EXAMPLES, MAX_WRITE_EXAMPLES}
    homes = {home_backend(sorted(labels), label) for label in labels}
    assert homes == set(BACKENDS)
    assert running in budgets  # the schema under test runs one backend's settings
