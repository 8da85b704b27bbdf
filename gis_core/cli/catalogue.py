"""`gridgov catalogue` (the matter catalogue as CSV/XLSX) and `gridgov reports` (area
health reports as files, for a scheduler such as cron)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from gis_core.cli.spatial import UrlOpt, user_errors

catalogue_app = typer.Typer(help="The matter catalogue (事项清单).", no_args_is_help=True)
reports_app = typer.Typer(help="Area health reports (体检报告).", no_args_is_help=True)
err = Console(stderr=True)


def _store(url: str | None):
    from gis_core.storage import Store

    store = Store(url)
    store.ensure_current()
    return store


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(2)


def import_(
    path: Annotated[Path, typer.Argument(help="A .csv or .xlsx catalogue file.")],
    url: UrlOpt = None,
    note: Annotated[str, typer.Option("--note", help="Why this version.")] = "",
    actor: Annotated[str, typer.Option("--actor", help="Who, on record.")] = "cli",
) -> None:
    """Check every row, then save the file as a new catalogue version (new cases use it)."""
    from gis_core.catalogue import Catalogue
    from gis_core.catalogue.files import read_catalogue

    entries = read_catalogue(path)
    version = Catalogue(_store(url)).save(entries, actor, note)
    typer.echo(json.dumps({"version": version, "entries": len(entries)}))


def export(
    path: Annotated[Path, typer.Argument(help="Where to write: .csv or .xlsx.")],
    url: UrlOpt = None,
    version: Annotated[int | None, typer.Option("--version", min=1)] = None,
) -> None:
    """Write the current (or one) catalogue version to a file."""
    from gis_core.catalogue import Catalogue
    from gis_core.catalogue.files import file_format, write_catalogue
    from gis_core.catalogue.versions import CatalogueNotFound

    file_format(path)
    try:
        meta, entries = Catalogue(_store(url)).load(version)
    except CatalogueNotFound as exc:
        raise _fail(f"{exc} (gridgov catalogue import FILE loads one)") from None
    write_catalogue(entries, path)
    typer.echo(json.dumps({"version": meta["version"], "entries": len(entries), "file": str(path)}))


def sample(
    path: Annotated[Path, typer.Argument(help="Where to write: .csv or .xlsx.")],
) -> None:
    """Write the sample district's generated catalogue (11 major / 118 minor classes)."""
    from gis_core.catalogue.files import write_catalogue
    from gis_core.catalogue.sample import sample_catalogue

    n = write_catalogue(sample_catalogue(), path)
    typer.echo(json.dumps({"entries": n, "file": str(path)}))


def generate(
    period: Annotated[str, typer.Argument(help="2026-11 (a month) or 2026-W45 (a week).")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the report files.")],
    area: Annotated[
        list[str] | None, typer.Option("--area", help="Area code; repeat. Default: every street.")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="pdf, html or json.")] = "pdf",
    url: UrlOpt = None,
) -> None:
    """Write one report per area (every street of the active generation by default)."""
    from gis_core.events.service import EventService
    from gis_core.reports import ReportNotFound, area_report, parse_period, render_html, render_pdf

    if fmt not in ("pdf", "html", "json"):
        raise _fail("--format must be pdf, html or json")
    when = parse_period(period)
    store = _store(url)
    codes = list(area or [])
    if not codes:
        try:
            codes = sorted(store.read_admin_layer("street")["code"])
        except LookupError:
            raise _fail("no boundaries loaded: run `gridgov demo` or import grids") from None
    out.mkdir(parents=True, exist_ok=True)
    service = EventService(store)
    written = []
    with Progress(
        TextColumn("[bold]reports[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
    ) as progress:
        task = progress.add_task("reports", total=len(codes))
        for code in codes:
            try:
                figures = area_report(service, code, when)
            except ReportNotFound as exc:
                raise _fail(str(exc)) from None
            target = out / f"report-{code}-{when.name}.{fmt}"
            if fmt == "pdf":
                target.write_bytes(render_pdf(figures))
            elif fmt == "html":
                target.write_text(render_html(figures), encoding="utf-8")
            else:
                target.write_text(json.dumps(figures, ensure_ascii=False, indent=1), "utf-8")
            written.append(str(target))
            progress.advance(task)
    typer.echo(json.dumps({"period": when.name, "files": written}, ensure_ascii=False))


def register(app: typer.Typer) -> None:
    catalogue_app.command("import")(user_errors(import_))
    catalogue_app.command("export")(user_errors(export))
    catalogue_app.command("sample")(user_errors(sample))
    reports_app.command("generate")(user_errors(generate))
    app.add_typer(catalogue_app, name="catalogue")
    app.add_typer(reports_app, name="reports")
