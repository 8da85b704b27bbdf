"""The `gridgov` command line: one module per command group, registered here."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="gridgov",
    help="gridgov: grid-based city governance (网格化管理) spatial core and services.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def register_commands() -> None:
    """Add every command group to ``app`` (lazily, so `import gis_core.cli` stays cheap)."""
    from gis_core.cli import analytics as analytics_cli  # issue 11: analytics ...
    from gis_core.cli import (
        calendar,
        casework,
        catalogue,
        db,
        demo,
        events,
        grids,
        sample,
        serve,
        spatial,
        users,
    )
    from gis_core.cli import field as field_cli
    from gis_core.cli import integrations as integrations_cli
    from gis_core.cli import vitals as vitals_cli  # issue 11: vitals check

    spatial.register(app)
    sample.register(app)
    db.register(app)
    events.register(app)
    serve.register(app)
    users.register(app)
    demo.register(app)
    integrations_cli.register(app)  # devices, ingest, outbox, platforms
    catalogue.register(app)
    casework.register(app)  # casework tick (issue 16)
    grids.register(app)
    field_cli.register(app)
    calendar.register(app)
    vitals_cli.register(app)  # issue 11: gridgov vitals check
    analytics_cli.register(app)  # issue 11: gridgov analytics aggregate|density|...


def main() -> None:
    register_commands()
    app()
