"""Spatial commands: locate, assign and export (and the shared options and error handling)."""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from gis_core.batch.assign import InputSpec
from gis_core.boundaries.sources import (
    DataSource,
    DirectorySource,
    MissingLayerError,
    build_locator,
    sample_source,
)
from gis_core.spatial.crs import CRSError
from gis_core.spatial.io import LayerError, write_layer
from gis_core.spatial.locator import CoordinateError, Locator
from gis_core.storage.store import SchemaNotCurrent

err = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])


class SourceError(RuntimeError):
    """The database named for the layers cannot be read."""


USER_ERRORS = (
    SchemaNotCurrent,
    SourceError,
    LayerError,
    CRSError,
    CoordinateError,
    MissingLayerError,
    FileNotFoundError,
    ValueError,
)

GridsOpt = Annotated[
    Path | None,
    typer.Option(
        "--grids",
        help="Folder of layer files (grids.geojson ...) or one grid file, instead of the database.",
    ),
]
UrlOpt = Annotated[
    str | None,
    typer.Option(
        "--url", help="Database URL (default: $GRIDGOV_DATABASE_URL or the embedded SQLite file)."
    ),
]
CrsOpt = Annotated[
    str, typer.Option("--crs", help="Input CRS: wgs84, cgcs2000, gcj02, bd09 or EPSG:<code>.")
]


def user_errors(func: F) -> F:
    """Turn bad input into a one-line message and exit status 2, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except USER_ERRORS as exc:
            err.print(f"[bold red]error:[/] {escape(str(exc))}")
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def resolve_source(grids: Path | None, url: str | None) -> DataSource:
    """Explicit files, else the database's active generation, else the sample district."""
    if grids is not None:
        if grids.is_dir():
            return DirectorySource(grids)
        if grids.is_file():
            return _SingleGridFile(grids)
        raise FileNotFoundError(f"no such file or folder: {grids}")
    store_source = _store_source(url)
    if store_source is not None:
        return store_source
    if url is not None:
        raise MissingLayerError(f"no active boundary generation with grids in {url}")
    err.print(
        "[dim]no grids loaded in the database yet: using the sample district "
        "(run `gridgov demo` or `gridgov import grids FILE` to load one)[/]"
    )
    return sample_source()


def _store_source(url: str | None) -> DataSource | None:
    """The database's active generation; None when the database holds no grids yet."""
    from sqlalchemy.exc import SQLAlchemyError

    from gis_core.boundaries.sources import StoreSource
    from gis_core.storage import Store

    store = Store(url)
    database = store.url.database
    in_file = store.dialect == "sqlite" and database and database != ":memory:"
    if in_file and not Path(database).exists():
        return None
    try:
        if store.current_revision() is None or store.active_generation() is None:
            return None
    except SQLAlchemyError as exc:
        raise SourceError(f"cannot read the database {store.url}: {exc.orig or exc}") from exc
    return StoreSource(store)


class _SingleGridFile(DirectorySource):
    def layer(self, name: str):  # type: ignore[no-untyped-def]
        if name == "grids":
            from gis_core.spatial.io import read_layer

            return read_layer(self.path)
        raise MissingLayerError(f"{self.path} holds only grids")


def _locator(grids: Path | None, url: str | None) -> tuple[Locator, DataSource]:
    source = resolve_source(grids, url)
    return build_locator(source), source


def locate(
    lon: Annotated[float, typer.Argument(help="Longitude (or x in a projected CRS).")],
    lat: Annotated[float, typer.Argument(help="Latitude (or y in a projected CRS).")],
    crs: CrsOpt = "wgs84",
    grids: GridsOpt = None,
    url: UrlOpt = None,
) -> None:
    """Which grid owns this coordinate: grid, community, street and district as JSON."""
    locator, source = _locator(grids, url)
    answer = locator.locate_one(lon, lat, crs)
    if answer is None:
        err.print(
            f"({lon}, {lat}) in {crs} is outside every grid of {source.description}",
            markup=False,
        )
        raise typer.Exit(1)
    out = locator.document(answer)
    out["input"] = {"x": lon, "y": lat, "crs": crs}
    typer.echo(json.dumps(out, ensure_ascii=False, indent=2))


class Engine(StrEnum):
    local = "local"
    dask = "dask"


def assign(
    input_path: Annotated[
        Path,
        typer.Argument(
            metavar="INPUT", help="CSV, GeoJSON, GeoPackage or (Geo)Parquet file of points."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="Output file; format from its suffix.")],
    crs: Annotated[
        str | None,
        typer.Option("--crs", help="Input CRS (default: the file's, or wgs84 for tables)."),
    ] = None,
    lon_col: Annotated[str, typer.Option("--lon-col")] = "lon",
    lat_col: Annotated[str, typer.Option("--lat-col")] = "lat",
    engine: Annotated[Engine, typer.Option("--engine")] = Engine.local,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Dask scheduler address (default: a LocalCluster)."),
    ] = None,
    workers: Annotated[int | None, typer.Option("--workers", help="LocalCluster workers.")] = None,
    grids: GridsOpt = None,
    url: UrlOpt = None,
) -> None:
    """Add grid, community, street and district codes to every row; bad rows are flagged."""
    if input_path.resolve() == out.resolve():
        raise LayerError("--out must differ from the input file")
    spec = InputSpec(crs=crs or "wgs84", lon_col=lon_col, lat_col=lat_col)
    locator, _ = _locator(grids, url)
    started = time.perf_counter()
    with Progress(
        TextColumn("[bold]assigning[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    ) as progress:
        task = progress.add_task("assign", total=None)

        def on_chunk(rows: int, total: int | None) -> None:
            progress.update(task, advance=rows, total=total)

        if engine is Engine.dask:
            from gis_core.batch.assign_dask import assign_file_dask

            summary = assign_file_dask(
                input_path,
                out,
                locator,
                spec,
                crs_given=crs is not None,
                scheduler=scheduler,
                n_workers=workers,
                on_chunk=on_chunk,
            )
        else:
            from gis_core.batch.assign import assign_file

            summary = assign_file(
                input_path, out, locator, spec, crs_given=crs is not None, on_chunk=on_chunk
            )
    elapsed = time.perf_counter() - started
    report = summary.as_dict() | {"output": str(out), "seconds": round(elapsed, 2)}
    typer.echo(json.dumps(report, ensure_ascii=False, indent=2))


class ExportLayer(StrEnum):
    grids = "grids"
    communities = "communities"
    streets = "streets"
    districts = "districts"
    buildings = "buildings"
    components = "components"


def export(
    layer: Annotated[ExportLayer, typer.Argument(help="Layer to write.")],
    out: Annotated[
        Path, typer.Option("--out", help="Output file: .geojson, .gpkg, .parquet, .shp.")
    ],
    grids: GridsOpt = None,
    url: UrlOpt = None,
) -> None:
    """Write a layer with its codes and names."""
    source = resolve_source(grids, url)
    gdf = source.layer(layer.value)
    write_layer(gdf, out)
    err.print(f"wrote {len(gdf)} {layer.value} to {out}")


def register(app: typer.Typer) -> None:
    for func in (locate, assign, export):
        app.command(func.__name__)(user_errors(func))
