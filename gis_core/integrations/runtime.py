"""The consumer and the deliverer as background threads of another process
(``gridgov serve --mqtt ... --deliver-outbox``), so a small installation runs one process.

The deliverer assumes it is alone: one per installation. A consumer's broker session
belongs to its client id: one process per id. More consumers join a shared subscription
(``share``, each with its own client id; ``gridgov ingest mqtt --share GROUP`` runs one
alone). ``gridgov serve`` starts them in its supervising process, never in each worker.
"""

from __future__ import annotations

import logging
import threading

from gis_core.events import EventService
from gis_core.integrations import outbox
from gis_core.integrations.mqtt import DEFAULT_CLIENT_ID, Broker, Consumer
from gis_core.storage.protocol import StoreLike

log = logging.getLogger(__name__)


class Background:
    """Start with :meth:`start`, end with :meth:`stop` (joins the threads)."""

    def __init__(
        self,
        store: StoreLike,
        *,
        broker: str | None = None,
        topics: list[str] | None = None,
        client_id: str = DEFAULT_CLIENT_ID,
        deliver: bool = False,
        settings: outbox.DeliverySettings | None = None,
        share: str | None = None,
    ) -> None:
        self.store = store
        self.consumer = (
            None
            if broker is None
            else Consumer(
                EventService(store),
                Broker.parse(broker),
                topics=topics,
                client_id=client_id,
                share=share,
            )
        )
        self.deliver = deliver
        self.settings = settings or outbox.DeliverySettings()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        if self.consumer is not None:
            self._threads.append(threading.Thread(target=self.consumer.run, name="mqtt-ingest"))
        if self.deliver:
            self._threads.append(
                threading.Thread(
                    target=outbox.run,
                    args=(self.store, self.settings, self._stop),
                    name="outbox-deliver",
                )
            )
        for thread in self._threads:
            thread.daemon = True
            thread.start()
        log.info("background integrations: %s", [t.name for t in self._threads] or "none")

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self.consumer is not None:
            self.consumer.stop()
        for thread in self._threads:
            thread.join(timeout)


__all__ = ["Background"]
