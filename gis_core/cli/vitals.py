"""`gridgov vitals check`: evaluate the vital-sign thresholds now and raise one alert event
per new crossing (the same check the server runs every
``GRIDGOV_ANALYTICS_VITALS_CHECK_SECONDS``; run this one from cron instead when that is
off). Several checks at once, from cron and from server workers, raise one alert: the
database decides (gis_core.analytics.vitals_schedule).
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from gis_core.cli.casework import _at
from gis_core.cli.catalogue import _store
from gis_core.cli.spatial import UrlOpt, user_errors

vitals_app = typer.Typer(help="City vital signs (城市体征): threshold checks.",
                         no_args_is_help=True)


def check(
    at: Annotated[str | None, typer.Option("--at", help="The check's time (default now).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    url: UrlOpt = None,
) -> None:
    """Check every threshold; print each value, whether it is crossed, and new alerts."""
    from gis_core.analytics.vitals_schedule import check_now
    from gis_core.events.service import EventService

    done = check_now(EventService(_store(url)), _at(at))
    if as_json:
        typer.echo(json.dumps(done, ensure_ascii=False))
        return
    table = Table(title=f"vital signs at {done['checked_at']}")
    for name in ("threshold", "indicator", "value", "crossed", "alert event"):
        table.add_column(name)
    for r in done["results"]:
        value = "" if r["value"] is None else f"{r['value']:.4g}"
        table.add_row(str(r["threshold_id"]), r["indicator"], value,
                      "yes" if r["crossed"] else "no", str(r["alert_event_id"] or ""))
    Console().print(table)
    raised = sum(1 for r in done["results"] if r["alert_event_id"])
    typer.echo(f"{len(done['results'])} threshold(s) checked, {raised} alert(s) raised")


def register(app: typer.Typer) -> None:
    vitals_app.command("check")(user_errors(check))
    app.add_typer(vitals_app, name="vitals")


__all__ = ["register"]
