"""`gridgov devices`, `gridgov ingest mqtt`, `gridgov outbox`, `gridgov platforms`."""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from gis_core.cli.db import db_errors
from gis_core.cli.spatial import UrlOpt

err = Console(stderr=True)
devices_app = typer.Typer(help="The device registry (sensors, AI cameras).", no_args_is_help=True)
ingest_app = typer.Typer(help="Device messages in (MQTT).", no_args_is_help=True)
outbox_app = typer.Typer(help="Results sent back to sources (webhooks).", no_args_is_help=True)
platforms_app = typer.Typer(help="External hotline platforms pushing cases.", no_args_is_help=True)


def check_share_group(group: str | None, option: str) -> None:
    """Refuse a bad shared-subscription group on the command line, before connecting."""
    from gis_core.integrations.mqtt import DEFAULT_TOPIC, shared

    try:
        shared([DEFAULT_TOPIC], group)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None


def _store(url: str | None):
    from gis_core.storage import Store

    store = Store(url)
    store.ensure_current()
    return store


@db_errors
def import_devices(
    path: Annotated[
        Path,
        typer.Argument(
            help="CSV (device_id,kind,lon,lat,category_code,threshold) or GeoJSON points."
        ),
    ],
    url: UrlOpt = None,
) -> None:
    """Register or update every device in FILE (all or nothing)."""
    from gis_core.integrations.devices import import_file

    if not path.is_file():
        raise ValueError(f"no such file: {path}")
    with err.status(f"importing devices from {path.name}"):
        n = import_file(_store(url), path)
    typer.echo(json.dumps({"imported": n}))


@db_errors
def list_devices(
    url: UrlOpt = None,
    kind: Annotated[str | None, typer.Option("--kind")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100_000)] = 100,
) -> None:
    """Devices as JSON lines."""
    from gis_core.integrations.devices import list_devices as listing

    for row in listing(_store(url), kind=kind, limit=limit):
        typer.echo(json.dumps(row, ensure_ascii=False))


@db_errors
def ingest_mqtt(
    broker: Annotated[str, typer.Option("--broker", help="mqtt://HOST:PORT")] = (
        "mqtt://127.0.0.1:1883"
    ),
    topic: Annotated[
        list[str] | None,
        typer.Option("--topic", help="Topic filter(s); the device id is the first '+' level."),
    ] = None,
    client_id: Annotated[
        str, typer.Option("--client-id", help="Keep it fixed: the broker's session is by id.")
    ] = "gridgov-ingest",
    batch: Annotated[int, typer.Option("--batch", min=1, max=5000)] = 500,
    share: Annotated[
        str | None,
        typer.Option(
            "--share",
            help="Join shared subscription group GROUP ($share/GROUP/<topic>): run several "
            "consumers, each with its own --client-id, to share the load.",
        ),
    ] = None,
    protocol: Annotated[
        int, typer.Option("--protocol", help="MQTT version: 5 (default) or 311.")
    ] = 5,
    receive_maximum: Annotated[
        int | None,
        typer.Option(
            "--receive-maximum",
            min=20,
            max=65535,
            help="MQTT 5: unacknowledged messages in flight to this consumer (default 2x batch).",
        ),
    ] = None,
    auto_close: Annotated[
        list[str] | None,
        typer.Option(
            "--auto-close",
            help="Device kind whose 'clear' closes its event (repeat; 'none' for no kind). "
            "Default: water_level, smoke, range_hood, electricity, gas.",
        ),
    ] = None,
    url: UrlOpt = None,
) -> None:
    """Consume device messages (QoS 1, persistent session, ack after commit) until stopped."""
    from gis_core.events import EventService
    from gis_core.integrations.devices import AUTO_CLOSE_KINDS
    from gis_core.integrations.mqtt import Broker, Consumer

    kinds = AUTO_CLOSE_KINDS if auto_close is None else frozenset(auto_close) - {"none"}
    if protocol not in (5, 311):
        raise typer.BadParameter("5 or 311", param_hint="--protocol")
    check_share_group(share, "--share")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    target = Broker.parse(broker)
    consumer = Consumer(
        EventService(_store(url)),
        target,
        topics=topic,
        client_id=client_id,
        batch=batch,
        auto_close=kinds,
        share=share,
        protocol=protocol,
        receive_maximum=receive_maximum,
    )
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: consumer.stop())
    worker = threading.Thread(target=consumer.run, name="ingest", daemon=True)
    worker.start()
    err.print(
        f"consuming {', '.join(consumer.subscriptions)} from {target.host}:{target.port}"
        f" (MQTT {protocol})"
    )
    last = 0.0
    while worker.is_alive():
        worker.join(1.0)
        if time.monotonic() - last >= 10:
            last = time.monotonic()
            s = consumer.stats
            err.print(f"batches {s.batches} connects {s.connects} " + json.dumps(s.outcomes))
    typer.echo(json.dumps(dict(consumer.stats.outcomes)))


@db_errors
def deliver(
    url: UrlOpt = None,
    once: Annotated[bool, typer.Option("--once", help="One round, then exit.")] = False,
    max_attempts: Annotated[int, typer.Option("--max-attempts", min=1, max=1000)] = 20,
    base_delay: Annotated[float, typer.Option("--base-delay", min=0.01, max=3600)] = 1.0,
    max_delay: Annotated[float, typer.Option("--max-delay", min=0.01, max=86400)] = 30.0,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, max=256)] = 8,
) -> None:
    """Send outbox messages to their webhooks (retries, order, dead letters) until stopped."""
    import httpx

    from gis_core.integrations import outbox

    settings = outbox.DeliverySettings(
        max_attempts=max_attempts,
        base_delay=base_delay,
        max_delay=max_delay,
        concurrency=concurrency,
    )
    store = _store(url)
    if once:
        with httpx.Client(timeout=settings.timeout) as client:
            typer.echo(json.dumps(dict(outbox.deliver_once(store, client, settings))))
        return
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())

    def show(counts: dict, totals: dict) -> None:
        if counts:
            err.print("outbox " + json.dumps(dict(totals)))

    totals = outbox.run(store, settings, stop, show)
    typer.echo(json.dumps(dict(totals)))


@db_errors
def outbox_list(
    url: UrlOpt = None,
    status: Annotated[str | None, typer.Option("--status", help="pending|delivered|dead")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 100,
) -> None:
    """Outbox messages as JSON lines (dead letters with --status dead)."""
    from gis_core.integrations.outbox import list_messages

    for row in list_messages(_store(url), status=status, limit=limit):
        typer.echo(json.dumps(row, ensure_ascii=False))


@db_errors
def outbox_retry(
    ids: Annotated[
        list[int] | None, typer.Argument(help="Message ids (default: all dead).")
    ] = None,
    url: UrlOpt = None,
) -> None:
    """Send dead letters again (attempts reset)."""
    from gis_core.integrations.outbox import retry_dead

    typer.echo(json.dumps({"retried": retry_dead(_store(url), ids or None)}))


@db_errors
def outbox_target(
    name: Annotated[str, typer.Argument()],
    webhook: Annotated[str, typer.Argument(help="http(s) URL")],
    source: Annotated[str, typer.Option("--source", help="Every event of this source.")],
    secret: Annotated[str | None, typer.Option("--secret", help="HMAC signing secret.")] = None,
    url: UrlOpt = None,
) -> None:
    """Add or replace a webhook for every event of a source."""
    from gis_core.integrations.outbox import add_target

    tid = add_target(_store(url), name=name, url=webhook, secret=secret, source=source)
    typer.echo(json.dumps({"target_id": tid}))


@db_errors
def platform_add(
    platform_id: Annotated[str, typer.Argument()],
    name: Annotated[str, typer.Option("--name")],
    source: Annotated[str, typer.Option("--source", help="Event source of its cases.")],
    secret: Annotated[str, typer.Option("--secret", help="Shared HMAC secret (16+ chars).")],
    webhook: Annotated[str | None, typer.Option("--webhook", help="Where results go.")] = None,
    url: UrlOpt = None,
) -> None:
    """Register or update a platform."""
    from gis_core.integrations.hotline import add_platform

    add_platform(
        _store(url), platform_id, name=name, source=source, secret=secret, webhook_url=webhook
    )
    typer.echo(json.dumps({"platform": platform_id}))


@db_errors
def platform_map(
    platform_id: Annotated[str, typer.Argument()],
    pairs: Annotated[list[str], typer.Argument(help="EXTERNAL=CLASS pairs, e.g. 0301=06010")],
    url: UrlOpt = None,
) -> None:
    """Map the platform's category codes to gridgov event classes."""
    from gis_core.integrations.hotline import map_categories

    mapping = {}
    for pair in pairs:
        external, sep, code = pair.partition("=")
        if not sep:
            raise ValueError(f"expected EXTERNAL=CLASS, got {pair!r}")
        mapping[external.strip()] = code.strip()
    typer.echo(json.dumps({"mapped": map_categories(_store(url), platform_id, mapping)}))


def register(app: typer.Typer) -> None:
    devices_app.command("import")(import_devices)
    devices_app.command("list")(list_devices)
    app.add_typer(devices_app, name="devices")
    ingest_app.command("mqtt")(ingest_mqtt)
    app.add_typer(ingest_app, name="ingest")
    outbox_app.command("deliver")(deliver)
    outbox_app.command("list")(outbox_list)
    outbox_app.command("retry")(outbox_retry)
    outbox_app.command("target")(outbox_target)
    app.add_typer(outbox_app, name="outbox")
    platforms_app.command("add")(platform_add)
    platforms_app.command("map")(platform_map)
    app.add_typer(platforms_app, name="platforms")
