"""`gridgov serve`: run the HTTP API with uvicorn, one or several supervised worker processes."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Annotated, Any

import typer

from gis_core.cli.integrations import check_share_group
from gis_core.cli.spatial import UrlOpt, user_errors

HostOpt = Annotated[str, typer.Option("--host", help="Interface to listen on.")]
PortOpt = Annotated[int, typer.Option("--port", min=1, max=65535)]
APP = "api.app:create_app"


def _listener(host: str, port: int) -> socket.socket:
    """The shared listening socket, created with proto=IPPROTO_TCP.

    uvicorn's own `--workers` supervisor binds with proto 0, so asyncio does not set
    TCP_NODELAY on accepted connections and every keep-alive response waits ~40 ms for the
    peer's delayed ACK (uvicorn issue #3149). Binding here avoids that.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def run_server(
    host: str,
    port: int,
    url: str | None,
    workers: int = 1,
    log_level: str = "info",
    background: Any = None,
) -> None:
    """Serve the app factory; the database URL travels in the environment so that every
    worker process builds the same app. Several workers run under
    :class:`gis_core.cli.supervisor.Supervisor` (dead workers replaced, none outliving it);
    ``background`` (device consumer, outbox deliverer) runs in this process only."""
    import uvicorn

    from gis_core.cli.supervisor import Supervisor

    if url is not None:
        os.environ["GRIDGOV_DATABASE_URL"] = url
    if workers == 1:
        if background is not None:
            background.start()
        try:
            uvicorn.run(APP, factory=True, host=host, port=port, log_level=log_level)
        finally:
            if background is not None:
                background.stop()
        return
    status = Supervisor(_listener(host, port), APP, workers, log_level, background).run()
    if status:
        raise typer.Exit(status)


class Together:
    """Several background services started and stopped as one."""

    def __init__(self, *parts: Any) -> None:
        self.parts = parts

    def start(self) -> None:
        for part in self.parts:
            part.start()

    def stop(self) -> None:
        for part in reversed(self.parts):
            part.stop()


def serve(
    url: UrlOpt = None,
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8000,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64)] = 1,
    log_level: Annotated[str, typer.Option("--log-level")] = "info",
    mqtt: Annotated[
        str | None,
        typer.Option("--mqtt", help="Also consume device messages from mqtt://HOST:PORT."),
    ] = None,
    mqtt_share: Annotated[
        str | None,
        typer.Option(
            "--mqtt-share",
            help="With --mqtt: join shared subscription group GROUP, so several nodes (each "
            "with its own --mqtt-client-id) share the device messages.",
        ),
    ] = None,
    mqtt_client_id: Annotated[
        str,
        typer.Option("--mqtt-client-id", help="With --mqtt: keep it fixed per node."),
    ] = "gridgov-ingest",
    deliver_outbox: Annotated[
        bool, typer.Option("--deliver-outbox", help="Also deliver the outbox to webhooks.")
    ] = False,
    casework_every: Annotated[
        float | None,
        typer.Option(
            "--casework-every",
            min=10.0,
            help="Also run `gridgov casework tick` every this many seconds.",
        ),
    ] = None,
    reports_out: Annotated[
        Path | None,
        typer.Option("--reports-out", help="With --casework-every: folder for due reports."),
    ] = None,
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs)."""
    from gis_core.storage import Store

    if mqtt is None and (mqtt_share is not None or mqtt_client_id != "gridgov-ingest"):
        raise typer.BadParameter("goes with --mqtt", param_hint="--mqtt-share/--mqtt-client-id")
    check_share_group(mqtt_share, "--mqtt-share")
    store = Store(url)
    store.ensure_current()  # refuse to start on an unmigrated database, clearly
    background = None
    if mqtt is not None or deliver_outbox:
        from gis_core.integrations.runtime import Background

        background = Background(
            store, broker=mqtt, deliver=deliver_outbox, client_id=mqtt_client_id, share=mqtt_share
        )
    if casework_every is not None:
        from gis_core.events.service import EventService
        from gis_core.reports.schedule import Ticker

        ticker = Ticker(EventService(store), casework_every, out=reports_out)
        background = ticker if background is None else Together(background, ticker)
    elif reports_out is not None:
        raise typer.BadParameter("--reports-out goes with --casework-every")
    run_server(host, port, url, workers, log_level, background)


def register(app: typer.Typer) -> None:
    app.command("serve")(user_errors(serve))
