"""`gridgov calendar ...`: the working-day calendar's official holiday schedules.

``load FILE`` stores a year's State Council notice (see :mod:`gis_core.cases.schedule`
for the file) so deadlines count its holidays and make-up workdays; ``show`` says which
years are known and warns about the ones that are not. Workers read loaded schedules
when they start: restart ``gridgov serve`` after loading.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from gis_core.cases.calendar import calendar_status, load_schedule
from gis_core.cases.schedule import ScheduleError, parse_schedule
from gis_core.cli.db import UrlOpt, db_errors
from gis_core.storage import Store

out = Console()
err = Console(stderr=True)

calendar_app = typer.Typer(help="Official holiday schedules (节假日安排) for working time.")


@calendar_app.command("load")
@db_errors
def load(
    file: Annotated[Path, typer.Argument(help="CSV: date,kind,name (holiday | workday).")],
    url: UrlOpt = None,
) -> None:
    """Store one year's holiday schedule from the State Council's notice."""
    try:
        text = file.read_text(encoding="utf-8")
        schedule, names = parse_schedule(text, str(file))
    except (OSError, UnicodeDecodeError, ScheduleError) as exc:
        err.print(f"[red]cannot load {file}: {exc}[/red]")
        raise typer.Exit(2) from None
    store = Store(url)
    store.ensure_current()
    count = store.save_schedule(schedule, names)
    load_schedule(schedule)
    out.print(
        f"{schedule.year}: {len(schedule.holidays)} holidays, {len(schedule.workdays)} make-up"
        f" workdays ({count} days) stored; restart `gridgov serve` to use them"
    )


@calendar_app.command("show")
@db_errors
def show(url: UrlOpt = None) -> None:
    """Which years' schedules are known (JSON), with a warning for unknown ones."""
    store = Store(url)
    store.ensure_current()
    store.install_schedules()
    status = calendar_status()
    for warning in status["warnings"]:  # type: ignore[union-attr]
        err.print(f"[bold red]WARNING[/bold red] {warning}")
    out.print_json(json.dumps(status, ensure_ascii=False))


def register(app: typer.Typer) -> None:
    app.add_typer(calendar_app, name="calendar")
