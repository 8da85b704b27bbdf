"""外发消息 in the console: an admin sees delivery counts and dead letters and sends one
again (real headless Chromium)."""

from __future__ import annotations

from sqlalchemy import func, select

from gis_core.integrations import outbox
from gis_core.storage import Store
from gis_core.storage.models import Event, OutboxMessage, OutboxTarget
from tests.web.conftest import ConsolePage


def test_admin_sees_and_retries_dead_letters(console: ConsolePage) -> None:
    store = Store(console.server.db_url)
    try:
        target = outbox.add_target(store, name="console-test", url="http://127.0.0.1:9/x",
                                   source="patrol")  # fmt: skip
        with store.session() as s:
            event_id = s.scalar(select(func.min(Event.id)))
            msg = OutboxMessage(
                event_id=event_id,
                target_id=target,
                seq=99,
                kind="handled",
                payload={"event_id": event_id, "action": "handle"},
                status="dead",
                attempts=20,
                last_error="HTTP 503",
                idempotency_key="console-1",
            )
            s.add(msg)
            s.flush()
            msg_id = msg.id
        console.login("admin")
        page = console.page
        page.click("#outbox-btn")
        page.wait_for_selector(f".outbox-table tr[data-id='{msg_id}']")
        assert "死信" in page.inner_text(".outbox-counts")
        row = page.inner_text(f".outbox-table tr[data-id='{msg_id}']")
        assert f"#{event_id}" in row and "处置" in row and "HTTP 503" in row
        page.click(f".outbox-table tr[data-id='{msg_id}'] button")
        page.wait_for_selector(f".outbox-table tr[data-id='{msg_id}']", state="detached")
        with store.session(write=False) as s:
            assert s.get(OutboxMessage, msg_id).status == "pending"
    finally:
        with store.session() as s:  # leave the shared database as it was
            s.query(OutboxMessage).filter(OutboxMessage.idempotency_key == "console-1").delete()
            s.get(OutboxTarget, target).active = False
        store.dispose()
