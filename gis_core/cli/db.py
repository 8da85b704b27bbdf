"""Database commands: `gridgov db upgrade|info` and `gridgov import <kind> FILE`.

Bad input and database trouble end in a one-line message and a non-zero exit status,
never a traceback; an import prints a table of what was accepted and why rows were not.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from gis_core.spatial.crs import CRSError
from gis_core.storage import KINDS, ImportReport, SchemaNotCurrent, Store, import_file
from gis_core.storage.engine import DatabaseMissing, display_url

out = Console()
err = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])

UrlOpt = Annotated[
    str | None,
    typer.Option(
        "--url",
        help="Database URL (default: $GRIDGOV_DATABASE_URL, else sqlite:///gridgov.sqlite).",
    ),
]


def _one_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def db_errors(func: F) -> F:
    """Database/URL problems as one line and exit status 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (
            SchemaNotCurrent,
            DatabaseMissing,
            ArgumentError,
            ValueError,
            LookupError,
            CRSError,
        ) as exc:
            err.print(f"[bold red]error:[/] {escape(str(exc))}")
            raise typer.Exit(2) from None
        except SQLAlchemyError as exc:
            err.print(f"[bold red]database error:[/] {escape(_one_line(exc))}")
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def _store(url: str | None) -> Store:
    return Store(url)


# -- db -----------------------------------------------------------------------------------


@db_errors
def upgrade(url: UrlOpt = None) -> None:
    """Create or migrate the database schema to the latest revision (idempotent)."""
    store = _store(url)
    try:
        before = store.current_revision() if _exists(store) else None
        store.upgrade()
        after = store.current_revision()
    finally:
        store.dispose()
    where = escape(display_url(store.url))
    if before == after:
        out.print(f"{where}: already at revision [bold]{after}[/]")
    else:
        out.print(f"{where}: {before or 'empty'} -> [bold]{after}[/] ({store.dialect})")


def _exists(store: Store) -> bool:
    try:
        store.current_revision()
    except DatabaseMissing:
        return False
    return True


@db_errors
def info(url: UrlOpt = None) -> None:
    """Dialect, server version, schema revision, row counts and boundary generations."""
    store = _store(url)
    try:
        summary = Table(show_header=False, box=None)
        summary.add_row("database", escape(display_url(store.url)))
        summary.add_row("dialect", store.dialect)
        if not _exists(store):
            summary.add_row("revision", "[yellow]none: database does not exist[/]")
            out.print(summary)
            raise typer.Exit(1)
        for key, value in store.server_info().items():
            summary.add_row(key, escape(value))
        current, head = store.current_revision(), store.head_revision()
        state = "[green]up to date[/]" if current == head else f"[yellow]head is {head}[/]"
        summary.add_row("revision", f"{current or 'none'} ({state})")
        out.print(summary)
        counts = store.counts()
        if counts:
            table = Table(title="rows")
            table.add_column("table")
            table.add_column("rows", justify="right")
            for name, n in counts.items():
                table.add_row(name, f"{n:,}")
            out.print(table)
        if "boundary_generations" in counts:
            gens = store.list_generations()
            if gens:
                table = Table(title="boundary generations")
                for col in ("id", "name", "active", "created", "activated"):
                    table.add_column(col)
                for g in gens:
                    table.add_row(
                        str(g.id),
                        escape(g.name),
                        "[green]yes[/]" if g.active else "",
                        g.created_at.strftime("%Y-%m-%d %H:%M"),
                        g.activated_at.strftime("%Y-%m-%d %H:%M") if g.activated_at else "",
                    )
                out.print(table)
        if current != head:
            raise typer.Exit(1)
    finally:
        store.dispose()


# -- import -------------------------------------------------------------------------------


class _RichProgress:
    """ImportProgress on a rich progress bar (stderr, so stdout stays the report)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task: TaskID | None = None

    def start(self, phase: str, total: int | None) -> None:
        if self.task is not None:
            self.progress.update(self.task, visible=False)
        self.task = self.progress.add_task(phase, total=total)

    def advance(self, n: int) -> None:
        if self.task is not None:
            self.progress.advance(self.task, n)


def _print_report(report: ImportReport, max_reasons: int) -> None:
    table = Table(title=f"import {report.kind}", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("file", escape(report.path))
    table.add_row("rows read", f"{report.total:,}")
    table.add_row("accepted", f"[green]{report.accepted:,}[/]")
    rejected = len(report.rejected)
    table.add_row("rejected", f"[red]{rejected:,}[/]" if rejected else "0")
    for name, n in report.loaded.items():
        table.add_row(f"written: {name}", f"{n:,}")
    if report.generation_id is not None:
        state = " [green](active)[/]" if report.activated else ""
        table.add_row(
            "generation", f"{report.generation_id} {escape(report.generation_name or '')}{state}"
        )
    out.print(table)
    if report.rejected:
        reasons = Table(title=f"rejected rows (first {min(max_reasons, rejected)} of {rejected})")
        reasons.add_column("row", justify="right")
        reasons.add_column("id")
        reasons.add_column("reason")
        for r in report.rejected[:max_reasons]:
            reasons.add_row(str(r.row), escape(r.key or ""), escape(r.reason))
        out.print(reasons)
        if rejected > max_reasons:
            common = Counter(r.reason.split(":")[0].split(" (")[0] for r in report.rejected)
            summary = ", ".join(f"{escape(k)} x{v}" for k, v in common.most_common(5))
            out.print(f"[dim]most common: {summary}[/]")
    for warning in report.warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}")


def _import(
    kind: str,
    path: Path,
    url: str | None,
    generation: str | None,
    activate: bool,
    crs: str | None,
    replace: bool,
    max_reasons: int,
) -> None:
    store = _store(url)
    try:
        store.ensure_current()
        with Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        ) as bar:
            report = import_file(
                store,
                kind,
                path,
                generation_name=generation,
                activate=activate,
                source_crs=crs,
                replace=replace,
                progress=_RichProgress(bar),
            )
    finally:
        store.dispose()
    if report.error and report.total == 0:
        err.print(f"[bold red]error:[/] {escape(report.error)}")
        raise typer.Exit(1)
    _print_report(report, max_reasons)
    if report.error:
        err.print(f"[bold red]error:[/] {escape(report.error)}")
        raise typer.Exit(1)


FileArg = Annotated[
    Path, typer.Argument(help="GeoJSON, GeoPackage, Shapefile, GeoParquet or CSV file.")
]
GenerationOpt = Annotated[
    str | None,
    typer.Option(
        "--generation",
        help="Boundary generation name: loaded into if it exists, created if not"
        " (default: a new one named after the file). Grids only.",
    ),
]
ActivateOpt = Annotated[
    bool,
    typer.Option(
        "--activate",
        help="Make the generation active after loading (the first generation of a database"
        " is activated anyway). Grids only.",
    ),
]
CrsOpt = Annotated[
    str | None,
    typer.Option(
        "--crs", help="Input CRS overriding the file's: wgs84, cgcs2000, gcj02, bd09, EPSG:<code>."
    ),
]
ReplaceOpt = Annotated[
    bool, typer.Option("--replace", help="Delete all stored rules first. Rules only.")
]
MaxReasonsOpt = Annotated[int, typer.Option("--max-reasons", help="Rejected rows to list.")]


def _make_import_command(kind: str) -> Callable[..., None]:
    @db_errors
    def command(
        file: FileArg,
        url: UrlOpt = None,
        generation: GenerationOpt = None,
        activate: ActivateOpt = False,
        crs: CrsOpt = None,
        replace: ReplaceOpt = False,
        max_reasons: MaxReasonsOpt = 20,
    ) -> None:
        if kind != "grids" and (generation or activate):
            err.print("[yellow]warning:[/] --generation/--activate apply to grids only; ignored")
        if kind != "rules" and replace:
            err.print("[yellow]warning:[/] --replace applies to rules only; ignored")
        _import(kind, file, url, generation, activate, crs, replace, max_reasons)

    command.__doc__ = {
        "grids": "Import unit grids (15-digit codes) as a boundary generation; communities,"
        " streets and districts are derived from them.",
        "buildings": "Replace the buildings with the file's valid rows.",
        "components": "Replace the city components (17-digit ids) with the file's valid rows.",
        "units": "Add or update responsible units (by code).",
        "rules": "Add routing rules (identical rules already stored are skipped).",
    }[kind]
    return command


def register(app: typer.Typer) -> None:
    """Add `db` and `import` command groups to the top-level app."""
    db_app = typer.Typer(help="Database schema and status.", no_args_is_help=True)
    db_app.command("upgrade")(upgrade)
    db_app.command("info")(info)
    app.add_typer(db_app, name="db")

    import_app = typer.Typer(
        help="Import files into the database, with a report of rejected rows.",
        no_args_is_help=True,
    )
    for kind in KINDS:
        import_app.command(kind)(_make_import_command(kind))
    app.add_typer(import_app, name="import")
