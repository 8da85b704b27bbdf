"""`gridgov grids ...`: draft, validate, edit, diff, activate and roll back boundary
generations. A refused draft or activation ends in a clear message and a non-zero exit
status (1: blocking validation items; 2: bad input or database trouble)."""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from gis_core.cli.db import UrlOpt, db_errors
from gis_core.planning import activation, checking, drafts, edits
from gis_core.planning.drafts import parents_of, read_draft_file
from gis_core.planning.impact import impact
from gis_core.planning.validation import Report, Thresholds, thresholds_from, validate
from gis_core.storage import Store

out = Console()
err = Console(stderr=True)

ActorOpt = Annotated[
    str | None, typer.Option("--actor", help="Who does this, for the record (default: $USER).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def _actor(actor: str | None) -> str:
    if actor:
        return actor[:100]
    try:
        return f"cli:{getpass.getuser()}"[:100]
    except (KeyError, OSError):
        return "cli"


@contextmanager
def _store(url: str | None) -> Iterator[Store]:
    store = Store(url)
    try:
        store.ensure_current()
        yield store
    finally:
        store.dispose()


@contextmanager
def _working(what: str) -> Iterator[None]:
    """A spinner on stderr while something takes seconds (stdout stays the report)."""
    with err.status(f"[bold]{what}[/] ..."):
        yield


def _print_report(report: Report, limit: int) -> None:
    summary = Table(title="validation report", show_header=False)
    summary.add_row("grids", f"{report.grid_count:,}")
    blocking = sum(i.severity == "blocking" for i in report.items)
    summary.add_row("blocking", f"[red]{blocking}[/]" if blocking else "[green]0[/]")
    summary.add_row("warnings", str(len(report.items) - blocking))
    for code, n in sorted(report.counts().items()):
        summary.add_row(f"  {code}", str(n))
    thresholds = ", ".join(f"{k}={v:g}" for k, v in vars(report.thresholds).items())
    summary.add_row("thresholds", escape(thresholds))
    out.print(summary)
    if report.items:
        ordered = sorted(report.items, key=lambda i: i.severity != "blocking")
        table = Table(title=f"items (first {min(limit, len(ordered))} of {len(ordered)})")
        for col in ("severity", "code", "grids", "location", "message"):
            table.add_column(col)
        for item in ordered[:limit]:
            loc = item.location
            table.add_row(
                "[red]blocking[/]" if item.severity == "blocking" else "warning",
                item.code,
                escape(", ".join(item.grids[:4]) + (" ..." if len(item.grids) > 4 else "")),
                "" if loc is None else f"{loc[0]:.6f},{loc[1]:.6f}",
                escape(item.message),
            )
        out.print(table)


@db_errors
def draft(
    name: Annotated[str, typer.Argument(help="Name of the new generation.")],
    from_file: Annotated[
        Path | None, typer.Option("--from", help="GeoJSON, GeoPackage, Shapefile or GeoParquet.")
    ] = None,
    from_active: Annotated[
        bool, typer.Option("--from-active", help="Copy the active generation.")
    ] = False,
    crs: Annotated[
        str | None, typer.Option("--crs", help="The file's CRS if it lacks one.")
    ] = None,
    url: UrlOpt = None,
    actor: ActorOpt = None,
) -> None:
    """Create a draft generation from a file or as a copy of the active one."""
    with _store(url) as store, _working("reading and storing the draft"):
        gen = drafts.create_draft(
            store, name, path=from_file, from_active=from_active, crs=crs, actor=_actor(actor)
        )
        n = len(store.read_draft(gen, "grid"))
    out.print(f"draft [bold]{escape(name)}[/] (generation {gen}): {n:,} grids")


ThresholdOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--threshold",
        "-t",
        help="NAME=VALUE, repeatable: target_area_m2, area_low_ratio, area_high_ratio,"
        " overlap_m2, gap_m2, outside_m2, sliver_thinness, load_ratio.",
    ),
]


def _thresholds(given: list[str] | None) -> Thresholds:
    """The defaults with the ``--threshold NAME=VALUE`` options applied (exit 2 if bad)."""
    pairs = {}
    for item in given or []:
        name, sep, value = item.partition("=")
        if not sep:
            err.print(f"[bold red]bad --threshold {escape(item)!r}:[/] use NAME=VALUE")
            raise typer.Exit(2)
        pairs[name.strip()] = value.strip()
    try:
        return thresholds_from(pairs)
    except ValueError as exc:
        err.print(f"[bold red]bad --threshold:[/] {escape(str(exc))}")
        raise typer.Exit(2) from None


@db_errors
def validate_cmd(
    target: Annotated[str, typer.Argument(help="A draft's name or id, or a file to check.")],
    crs: Annotated[str | None, typer.Option("--crs", help="A file's CRS if it lacks one.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=0, help="Items to list.")] = 30,
    url: UrlOpt = None,
    actor: ActorOpt = None,
    as_json: JsonOpt = False,
    threshold: ThresholdOpt = None,
) -> None:
    """Print the validation report (with the thresholds used); exit status 1 when
    anything is blocking."""
    used = _thresholds(threshold)
    with _store(url) as store, _working("validating"):
        if Path(target).is_file():
            grids = read_draft_file(target, crs, strict=False)
            active = store.active_generation()
            communities = parents_of(store, grids, None if active is None else active.id)
            report = validate(grids, communities["community"], thresholds=used)
        else:
            _, report = checking.validate_generation(
                store, target, actor=_actor(actor), thresholds=used
            )
    if as_json:
        out.print_json(json.dumps(report.as_json(limit), ensure_ascii=False))
    else:
        _print_report(report, limit)
    if report.blocking:
        raise typer.Exit(1)


@db_errors
def diff(
    name: Annotated[str, typer.Argument(help="A draft's name or id.")],
    limit: Annotated[int, typer.Option("--limit", min=0, help="Grids to list.")] = 50,
    url: UrlOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The impact table: what the draft changes against the active generation."""
    with _store(url) as store, _working("computing the impact"):
        table = impact(store, name)
    if as_json:
        out.print_json(json.dumps(table, ensure_ascii=False))
        return
    _print_impact(table, limit)


def _pair(v: list[Any]) -> str:
    a, b = v
    fmt = lambda x: "-" if x is None else f"{x:,.0f}"  # noqa: E731
    return f"{fmt(a)} → {fmt(b)}"


def _print_impact(table: dict[str, Any], limit: int) -> None:
    totals = Table(title=f"impact of {table['generation']} against {table['against']}")
    totals.add_column("what")
    totals.add_column("count", justify="right")
    for key in ("added", "removed", "reshaped"):
        totals.add_row(f"grids {key}", str(table["totals"][key]))
    for key in ("buildings", "components", "open_events"):
        moves = table["totals"][f"{key}_moving"]
        totals.add_row(
            f"{key} changing grid / community / street",
            f"{moves['grid']} / {moves['community']} / {moves['street']}",
        )
    totals.add_row("rules naming retired codes", str(len(table["rules_naming_retired_codes"])))
    totals.add_row("units naming retired codes", str(len(table["units_naming_retired_codes"])))
    out.print(totals)
    rows = table["changed_grids"]
    grid = Table(title=f"changed grids (first {min(limit, len(rows))} of {len(rows)})")
    for col in ("code", "status", "area m²", "buildings", "households", "components", "open"):
        grid.add_column(col)
    for r in rows[:limit]:
        grid.add_row(
            r["code"],
            r["status"],
            _pair(r["area_m2"]),
            _pair(r["buildings"]),
            _pair(r["households"]),
            _pair(r["components"]),
            _pair(r["open_events"]),
        )
    out.print(grid)
    if table["units"]:
        units = Table(title="units gaining or losing open events")
        for col in ("unit", "name", "gained", "lost"):
            units.add_column(col)
        for u in table["units"]:
            units.add_row(
                str(u["unit_code"]),
                escape(str(u["unit_name"])),
                str(u["open_events_gained"]),
                str(u["open_events_lost"]),
            )
        out.print(units)
    if table["rules_naming_retired_codes"]:
        rules = Table(title="rules naming retired codes (remapped with --remap-rules)")
        for col in ("rule", "area code", "unit", "remap to"):
            rules.add_column(col)
        for r in table["rules_naming_retired_codes"]:
            rules.add_row(
                str(r["rule_id"]), r["area_code"], str(r["unit_code"]), str(r["remap_to"])
            )
        out.print(rules)


@db_errors
def edit(
    name: Annotated[str, typer.Argument(help="A draft's name or id.")],
    kind: Annotated[str, typer.Argument(help=", ".join(edits.EDIT_KINDS))],
    params: Annotated[
        str, typer.Argument(help='The edit\'s parameters as JSON, e.g. {"code": ...}')
    ],
    version: Annotated[
        int | None, typer.Option("--version", help="Refuse if the draft moved past it.")
    ] = None,
    url: UrlOpt = None,
    actor: ActorOpt = None,
) -> None:
    """One edit on a draft: grids (split, merge, move_edge, reshape, reassign, renumber)
    or parents (community_reshape, community_move_edge, community_split, community_merge,
    community_move, street_reshape)."""
    try:
        values = json.loads(params)
    except ValueError as exc:
        raise ValueError(f"params are not JSON: {exc}") from None
    if not isinstance(values, dict):
        raise ValueError("params must be a JSON object")
    with _store(url) as store:
        gen = drafts.load_draft(store, name).generation_id
        try:
            step = edits.edit(
                store, gen, kind, values, actor=_actor(actor), expected_version=version
            )
        except (edits.StaleDraft, edits.NotEditable) as exc:
            err.print(f"[bold red]error:[/] {escape(str(exc))}")
            raise typer.Exit(2) from None
    out.print(
        f"step {step['seq']} {kind}: {escape(json.dumps(step['summary'], ensure_ascii=False))}"
    )
    out.print(f"draft version {step['version']}")


@db_errors
def undo(
    name: Annotated[str, typer.Argument(help="A draft's name or id.")],
    url: UrlOpt = None,
    actor: ActorOpt = None,
) -> None:
    """Take back the draft's latest edit."""
    with _store(url) as store:
        gen = drafts.load_draft(store, name).generation_id
        step = edits.undo(store, gen, actor=_actor(actor))
    out.print(f"undid step {step['summary']['step']} ({step['summary']['undid']})")


def _print_switch(result: activation.SwitchResult) -> None:
    out.print(
        f"{result.kind}: [bold]{escape(result.generation)}[/] is active"
        f" (was {escape(str(result.previous))}); {result.rerouted} open events re-routed,"
        f" {result.rules_remapped} rules remapped, {result.seconds:.2f} s"
    )


@db_errors
def activate(
    name: Annotated[str, typer.Argument(help="A validated (or valid) draft's name or id.")],
    remap_rules: Annotated[
        bool,
        typer.Option("--remap-rules", help="Remap rules naming retired codes by the renumbering."),
    ] = False,
    url: UrlOpt = None,
    actor: ActorOpt = None,
    threshold: ThresholdOpt = None,
) -> None:
    """Switch to the generation, re-routing open events (refused on blocking items)."""
    used = _thresholds(threshold)
    with _store(url) as store:
        try:
            with _working("activating"):
                result = activation.activate(
                    store, name, who=_actor(actor), remap_rules=remap_rules, thresholds=used
                )
        except activation.ActivationRefused as exc:
            err.print(f"[bold red]refused:[/] {escape(str(exc))}")
            if exc.report is not None:
                _print_report(exc.report, 20)
            raise typer.Exit(1) from None
    _print_switch(result)


@db_errors
def rollback(url: UrlOpt = None, actor: ActorOpt = None) -> None:
    """Switch back to the generation active before the current one (recorded)."""
    with _store(url) as store:
        try:
            with _working("rolling back"):
                result = activation.rollback(store, who=_actor(actor))
        except activation.ActivationRefused as exc:
            err.print(f"[bold red]refused:[/] {escape(str(exc))}")
            raise typer.Exit(1) from None
    _print_switch(result)


@db_errors
def sweep(url: UrlOpt = None, actor: ActorOpt = None) -> None:
    """Re-route open events a worker located in the previous generation just after a switch."""
    with _store(url) as store:
        try:
            result = activation.sweep(store, who=_actor(actor))
        except activation.ActivationRefused as exc:
            err.print(f"[bold red]refused:[/] {escape(str(exc))}")
            raise typer.Exit(1) from None
    out.print(f"sweep of {escape(result.generation)}: {result.rerouted} open events re-routed")


@db_errors
def list_cmd(url: UrlOpt = None, as_json: JsonOpt = False) -> None:
    """Every generation with its state and draft version."""
    with _store(url) as store:
        rows = []
        for g in store.list_generations():
            plan = store.plan_state(g.id)
            rows.append(
                {
                    "id": g.id,
                    "name": g.name,
                    "state": drafts.generation_state(g, plan),
                    "version": None if plan is None else plan["version"],
                    "activated_at": None if g.activated_at is None else g.activated_at.isoformat(),
                }
            )
    if as_json:
        out.print_json(json.dumps(rows, ensure_ascii=False))
        return
    table = Table(title="boundary generations")
    for col in ("id", "name", "state", "version", "activated"):
        table.add_column(col)
    for r in rows:
        state = f"[green]{r['state']}[/]" if r["state"] == "active" else r["state"]
        table.add_row(
            str(r["id"]),
            escape(r["name"]),
            state,
            "" if r["version"] is None else str(r["version"]),
            (r["activated_at"] or "")[:16],
        )
    out.print(table)


def register(app: typer.Typer) -> None:
    """Add the `grids` command group."""
    grids = typer.Typer(
        help="Plan boundary generations: draft, validate, edit, diff, activate, roll back.",
        no_args_is_help=True,
    )
    grids.command("draft")(draft)
    grids.command("validate")(validate_cmd)
    grids.command("diff")(diff)
    grids.command("edit")(edit)
    grids.command("undo")(undo)
    grids.command("activate")(activate)
    grids.command("rollback")(rollback)
    grids.command("sweep")(sweep)
    grids.command("list")(list_cmd)
    app.add_typer(grids, name="grids")
