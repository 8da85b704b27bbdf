"""`gridgov casework tick`: urge and escalate overdue co-tasks, write due periodic reports;
`gridgov casework team`: define a joint team (4+X).

Run it from cron (e.g. every 10 minutes) or let `gridgov serve --casework-every SECONDS`
run the same tick in the background (gis_core.reports.schedule).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from gis_core.cli.catalogue import _fail, _store, err
from gis_core.cli.spatial import UrlOpt, user_errors

casework_app = typer.Typer(help="Cross-department casework on a schedule.", no_args_is_help=True)


def _at(text: str | None) -> datetime | None:
    if text is None:
        return None
    from gis_core.cases.calendar import TZ

    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise _fail(f"--at must be an ISO time (2026-12-01T08:00), got {text[:40]!r}") from None
    return at if at.tzinfo is not None else at.replace(tzinfo=TZ)


def tick(
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder for due reports (none: no reports).")
    ] = None,
    area: Annotated[
        list[str] | None, typer.Option("--area", help="Area code; repeat. Default: every street.")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="pdf, html or json.")] = "pdf",
    weekly: Annotated[bool, typer.Option("--weekly", help="Also last week's reports.")] = False,
    urge_every: Annotated[
        float, typer.Option("--urge-every", min=0.0, max=720.0, help="Hours between urges.")
    ] = 4.0,
    at: Annotated[str | None, typer.Option("--at", help="The tick's time (default now).")] = None,
    url: UrlOpt = None,
) -> None:
    """One tick: urge overdue tasks (escalating those urged twice), write due reports."""
    from gis_core.events.service import EventService
    from gis_core.reports import ReportNotFound
    from gis_core.reports.schedule import tick as run_tick

    if fmt not in ("pdf", "html", "json"):
        raise _fail("--format must be pdf, html or json")
    for code in area or ():
        if not (code.isdigit() and len(code) in (6, 9, 12, 15)):
            raise _fail(f"--area must be a 6, 9, 12 or 15-digit code, got {code[:20]!r}")
    service = EventService(_store(url))
    with Progress(
        TextColumn("[bold]due reports[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task("reports", total=None)
        try:
            result = run_tick(
                service,
                now=_at(at),
                out=out,
                areas=area,
                fmt=fmt,
                weekly=weekly,
                urge_every=timedelta(hours=urge_every) if urge_every else None,
                progress=lambda n, total: progress.update(task, completed=n, total=total),
            )
        except ReportNotFound as exc:
            raise _fail(str(exc)) from None
    typer.echo(json.dumps(result, ensure_ascii=False))


def team(
    code: Annotated[str, typer.Argument(help="The team's unit code, e.g. 340111-4X.")],
    name: Annotated[str, typer.Option("--name", help="e.g. 包河区4+X联合执法队.")],
    member: Annotated[
        list[str], typer.Option("--member", help="A member unit's code; repeat (2..20).")
    ],
    area: Annotated[str | None, typer.Option("--area", help="The team's area code.")] = None,
    url: UrlOpt = None,
) -> None:
    """Define (or redefine) a joint team (联合执法队, 4+X) that can lead cases."""
    from gis_core.events.reports import IntakeRejected
    from gis_core.events.service import EventService
    from gis_core.events.teams import define_team

    try:
        defined = define_team(EventService(_store(url)), code, name, member, area)
    except IntakeRejected as exc:
        raise _fail(str(exc)) from None
    typer.echo(json.dumps(defined, ensure_ascii=False))


def register(app: typer.Typer) -> None:
    casework_app.command("tick")(user_errors(tick))
    casework_app.command("team")(user_errors(team))
    app.add_typer(casework_app, name="casework")
