"""GET /v1/events is sent as is (no response-model validation, issue 15): the answer is
exactly what validating it against EventPage gives, on SQLite and PostGIS, for events in
every status, with deadlines, lights, overdue flags and device alarm counts."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import URL, select, update

from api.event_schemas import EventPage
from gis_core.auth import ensure_demo_accounts
from gis_core.auth.demo_accounts import DEMO_KEY
from gis_core.cases.vocab import STATUS_VALUES
from gis_core.events.context import current_time
from gis_core.events.loader import reports_from_frame
from gis_core.events.service import EventService
from gis_core.sample_data.events import generate_events
from gis_core.sample_data.seeding import seed_store
from gis_core.storage import Store
from gis_core.storage.models import Event

KEY = {"X-API-Key": DEMO_KEY}
QUERIES = [
    "",
    "limit=500",
    "order=reported&limit=7",
    "status=reported,dispatched&limit=20",
    "overdue=true",
    "overdue=false&priority=urgent",
    "offset=30&limit=40",
]


def fill(store: Store) -> None:
    seed_store(store, components=False)
    ensure_demo_accounts(store)
    svc = EventService(store)
    svc.submit_many(list(reports_from_frame(generate_events(n=160, year=2025, seed=3))))
    now = current_time()
    with store.session() as s:
        ids = s.scalars(select(Event.id).order_by(Event.id)).all()
        for i, event_id in enumerate(ids):
            values: dict[str, object] = {"status": STATUS_VALUES[i % len(STATUS_VALUES)]}
            if i % 3:
                values["dispatched_at"] = now - timedelta(hours=30)
                values["deadline_at"] = now + timedelta(hours=(i * 37) % 100 - 50)
            if i % 7 == 0:
                values["priority"] = "urgent"
            s.execute(update(Event).where(Event.id == event_id).values(**values))


def test_list_answer_equals_its_validated_model(db_url: URL, make_client) -> None:
    with Store(db_url) as store:
        fill(store)
    seen = 0
    with make_client(db_url) as client:
        for query in QUERIES:
            answer = client.get(f"/v1/events?{query}", headers=KEY)
            assert answer.status_code == 200, query
            assert answer.headers["content-type"] == "application/json"
            body = answer.json()
            seen += len(body["items"])
            validated = EventPage.model_validate(body).model_dump(mode="json", exclude_unset=True)
            assert validated == body, query
            assert {"items", "total", "limit", "offset", "counts"} <= set(body)
    assert seen > 150
