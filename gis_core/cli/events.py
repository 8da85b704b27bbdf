"""`gridgov events`: load reports in bulk and print evaluation indicators."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from gis_core.cli.spatial import UrlOpt, user_errors

events_app = typer.Typer(help="Event intake in bulk and indicators.", no_args_is_help=True)
err = Console(stderr=True)


def load(
    path: Annotated[Path, typer.Argument(help="Parquet or CSV of reports (sample format).")],
    url: UrlOpt = None,
    batch: Annotated[int, typer.Option("--batch", min=1, max=50_000)] = 2000,
    limit: Annotated[
        int | None, typer.Option("--limit", help="Load only the first N rows.")
    ] = None,
) -> None:
    """Submit every row as a report: routed, deduplicated, idempotent; bad rows reported."""
    from gis_core.events.loader import read_event_table, reports_from_frame
    from gis_core.events.service import EventService
    from gis_core.storage import Store

    frame = read_event_table(path)
    if limit is not None:
        frame = frame.iloc[:limit]
    store = Store(url)
    store.ensure_current()
    service = EventService(store)
    reports = list(reports_from_frame(frame))
    created = retries = 0
    reasons: Counter[str] = Counter()
    with Progress(
        TextColumn("[bold]loading events[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
    ) as progress:
        task = progress.add_task("load", total=len(reports))
        for start in range(0, len(reports), batch):
            result = service.submit_many(reports[start : start + batch])
            created += len(result.created)
            retries += result.retries
            reasons.update(
                f"{field}: {reason.split(':')[0]}" for _, field, reason in result.rejected
            )
            progress.advance(task, min(batch, len(reports) - start))
    typer.echo(
        json.dumps(
            {
                "rows": len(reports),
                "created": created,
                "retries": retries,
                "rejected": sum(reasons.values()),
                "rejected_reasons": dict(reasons.most_common()),
            },
            ensure_ascii=False,
            indent=2,
        )
    )


def indicators(
    start: Annotated[datetime, typer.Option("--from", help="Period start (inclusive).")],
    end: Annotated[datetime, typer.Option("--to", help="Period end (exclusive).")],
    by: Annotated[
        str | None, typer.Option("--by", help="grid_code, community_code, street_code or unit_id")
    ] = None,
    url: UrlOpt = None,
) -> None:
    """Closure, on-time and rework rates per area or unit for a period (JSON lines)."""
    from gis_core.cases.calendar import TZ
    from gis_core.events.service import EventService
    from gis_core.storage import Store

    start = start if start.tzinfo else start.replace(tzinfo=TZ)
    end = end if end.tzinfo else end.replace(tzinfo=TZ)
    store = Store(url)
    store.ensure_current()
    table = EventService(store).indicators(start, end, by)
    # The group key is the table's index: keep it in every row (as the API does).
    typer.echo(table.reset_index().to_json(orient="records", force_ascii=False, lines=True))


def register(app: typer.Typer) -> None:
    events_app.command("load")(user_errors(load))
    events_app.command("indicators")(user_errors(indicators))
    app.add_typer(events_app, name="events")
