"""SQLite intake from two stores on one file at once (as two serve workers): the writers
queue for their turn, the batch's ids drawn after max(id) never clash, duplicates found
by the one json_each candidate query are linked as before, and nothing is lost."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import func, select

from gis_core.events.intake import SubmitResult, group_commit
from gis_core.events.loader import reports_from_frame
from gis_core.events.reports import EventReport, IntakeRejected
from gis_core.events.service import EventService
from gis_core.sample_data.events import generate_events
from gis_core.sample_data.seeding import seed_store
from gis_core.storage import Store
from gis_core.storage.models import Event, EventHistory


def test_two_writers_on_one_file_lose_nothing_and_link_duplicates(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'two.sqlite'}"
    seed_store(Store(url), components=False)
    services = [EventService(Store(url)), EventService(Store(url))]
    reports = list(reports_from_frame(generate_events(n=160, year=2025, seed=11)))
    # The same report sent to both at once: the second is a possible duplicate of the first.
    twins = [EventReport(**{**vars(r), "external_id": None}) for r in reports[:10]]

    def send(job: tuple[int, EventReport]) -> object:
        k, report = job
        try:
            return services[k % 2].submit(report)
        except IntakeRejected as exc:  # bad sample records are refused, as before
            return exc

    jobs = list(enumerate(reports + twins))
    with ThreadPoolExecutor(24) as pool:
        outcomes = list(pool.map(send, jobs))
    ids = [r.event["id"] for r in outcomes if isinstance(r, SubmitResult) and r.created]
    assert len(ids) > 100 and len(ids) == len(set(ids))
    with services[0].store.session(write=False) as s:
        stored = set(s.scalars(select(Event.id)))
        histories = dict(
            s.execute(
                select(EventHistory.event_id, func.count()).group_by(EventHistory.event_id)
            ).all()
        )
        links = dict(s.execute(select(Event.id, Event.duplicate_of)).all())
    assert stored == set(ids)  # nothing lost, nothing extra
    assert all(histories.get(i) == 1 for i in ids)
    by_id = {r.event["id"]: r.event for r in outcomes if isinstance(r, SubmitResult) and r.created}
    assert all(by_id[i]["duplicate_of"] == links[i] for i in ids)  # answers as stored
    accepted_twins = sum(isinstance(r, SubmitResult) for r in outcomes[len(reports) :])
    assert accepted_twins > 0
    # Each accepted pair of twins: whichever was written second links to the first.
    assert sum(links[i] is not None for i in ids) >= accepted_twins
    for svc in services:
        assert group_commit(svc).items > 0  # both writers made progress
        svc.store.dispose()
