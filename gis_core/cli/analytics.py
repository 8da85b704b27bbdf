"""`gridgov analytics aggregate|density|hotspots|emerging|recurrent`: the statistics of
``/v1/analytics`` from the command line, written to GeoJSON, CSV or GeoParquet (by the
output's extension or ``--format``), with the parameters used in the file.

Events come from the database (``--url``) or from a file (``--events``: Parquet, CSV or
GeoJSON with ``lon``, ``lat``, ``reported_at`` ...; grid codes are located when absent);
units from the database's active grids or ``--grids``. The filters and parameters are the
API's (docs/analytics.md); bad ones end with a message naming the option and status 2.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from gis_core.cli.catalogue import _fail, err
from gis_core.cli.spatial import UrlOpt, user_errors

analytics_app = typer.Typer(
    help="Statistics over events (counts, density, hot spots, trends, recurrent problems).",
    no_args_is_help=True,
)

OutArg = Annotated[Path, typer.Argument(help="Output file: .geojson, .csv or .parquet.")]
FormatOpt = Annotated[
    str | None, typer.Option("--format", help="geojson, csv or parquet (GeoParquet).")
]
EventsOpt = Annotated[
    Path | None,
    typer.Option("--events", help="Events file (Parquet, CSV, GeoJSON) instead of the database."),
]
GridsOpt = Annotated[
    Path | None,
    typer.Option("--grids", help="Grid file (or a folder with grids.geojson) instead of the "
                 "database's active grids."),
]
CategoryOpt = Annotated[list[str] | None, typer.Option("--category",
                                                      help="Event class(es); repeat or comma.")]
SourceOpt = Annotated[list[str] | None, typer.Option("--source", help="Source(s).")]
StatusOpt = Annotated[list[str] | None, typer.Option("--status", help="Status(es).")]
FromOpt = Annotated[str | None, typer.Option("--from", help="reported_at >= (ISO; +08:00).")]
ToOpt = Annotated[str | None, typer.Option("--to", help="reported_at < (ISO; +08:00).")]
AreaOpt = Annotated[str | None, typer.Option("--area", help="Area-code prefix.")]
ByOpt = Annotated[str, typer.Option("--by", help="grid, community, street, h3:<res> or "
                                    "square:<metres>.")]
MAX_LIST = 200


def _option(field: str) -> str:
    return {"start": "--from", "end": "--to"}.get(field, "--" + field.replace("_", "-"))


def _time(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    from gis_core.cases.calendar import TZ

    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise _fail(f"{option} must be an ISO date or time (2025-03-01T08:00), "
                    f"got {text[:40]!r}") from None
    return at if at.tzinfo is not None else at.replace(tzinfo=TZ)


def _listed(values: list[str] | None, option: str) -> list[str] | None:
    out = [v.strip() for value in values or () for v in value.split(",") if v.strip()]
    if len(out) > MAX_LIST or any(len(v) > 64 for v in out):
        raise _fail(f"{option}: at most {MAX_LIST} values of at most 64 characters")
    return out or None


def _filters(category, source, status, from_, to, area) -> Any:
    from gis_core.analytics import Filters

    if area is not None and not (area.isdigit() and len(area) <= 15):
        raise _fail(f"--area must be an area-code prefix (digits, at most 15), got {area[:20]!r}")
    return Filters(category=_listed(category, "--category"), source=_listed(source, "--source"),
                   status=_listed(status, "--status"), start=_time(from_, "--from"),
                   end=_time(to, "--to"), area=area)


class Inputs:
    """Events and grids, read once and only when a statistic needs them."""

    def __init__(self, url: str | None, events: Path | None, grids: Path | None) -> None:
        self.url, self.events_path, self.grids_path = url, events, grids
        self._store: Any = None

    def store(self) -> Any:
        if self._store is None:
            from gis_core.cli.catalogue import _store

            self._store = _store(self.url)
        return self._store

    def grids(self) -> Any:
        import geopandas as gpd

        if self.grids_path is None:
            return self.store().read_admin_layer("grid")
        path = self.grids_path / "grids.geojson" if self.grids_path.is_dir() else self.grids_path
        if not path.is_file():
            raise _fail(f"--grids: no file {path}")
        grids = gpd.read_file(path)
        if "code" not in grids.columns:
            raise _fail(f"--grids: {path.name} has no 'code' column")
        return grids

    def events(self) -> Any:
        from gis_core.analytics import prepare_events

        if self.events_path is None:
            from gis_core.analytics.source import store_events
            from gis_core.events.service import EventService

            return store_events(EventService(self.store()))
        frame = _read_events(self.events_path)
        index = None
        if "grid_code" not in frame.columns:
            from gis_core import GridIndex

            index = GridIndex.from_geodataframe(self.grids(), code_column="code")
        return prepare_events(frame, index)


def _read_events(path: Path) -> Any:
    import pandas as pd

    if not path.is_file():
        raise _fail(f"--events: no file {path}")
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".geoparquet"):
        frame = pd.read_parquet(path)
    elif suffix == ".csv":
        frame = pd.read_csv(path, dtype={"grid_code": str, "category_code": str})
    elif suffix in (".geojson", ".json", ".gpkg"):
        import geopandas as gpd

        gdf = gpd.read_file(path).to_crs(4326)
        frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
        frame["lon"], frame["lat"] = gdf.geometry.x, gdf.geometry.y
    else:
        raise _fail(f"--events: read .parquet, .csv or .geojson, not {path.name!r}")
    if "geometry" in frame.columns and "lon" not in frame.columns:
        raise _fail("--events: the file needs lon and lat columns")
    return frame


@contextmanager
def _steps() -> Iterator[Callable[[str], None]]:
    """A rich spinner naming the step at work (reading events, units, computing, writing)."""
    with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), TimeElapsedColumn(),
                  console=err, transient=True) as progress:
        task = progress.add_task("starting", total=None)
        yield lambda what: progress.update(task, description=what)


def _run(out: Path, fmt: str | None, compute: Callable[[Callable[[str], None]], Any]) -> None:
    """Check the output, compute with progress, write; AnalyticsInputError names the option."""
    from gis_core.analytics.export import output_format, write_table
    from gis_core.analytics.frame import AnalyticsInputError

    try:
        kind = output_format(out, fmt)
        with _steps() as step:
            table, params = compute(step)
            step(f"writing {out.name}")
            write_table(table, params, out, kind)
    except AnalyticsInputError as exc:
        raise _fail(f"{_option(exc.field)}: {exc}") from None
    typer.echo(json.dumps({"written": str(out), "format": kind, "rows": len(table),
                           "params": params}, ensure_ascii=False, default=str))


def aggregate(
    out: OutArg, by: ByOpt = "grid", fmt: FormatOpt = None, category: CategoryOpt = None,
    source: SourceOpt = None, status: StatusOpt = None, from_: FromOpt = None, to: ToOpt = None,
    area: AreaOpt = None, engine: Annotated[str, typer.Option(help="local or dask.")] = "local",
    events: EventsOpt = None, grids: GridsOpt = None, url: UrlOpt = None,
) -> None:
    """Events per unit, per 1,000 households, median handling hours."""
    from gis_core.analytics import aggregate as run
    from gis_core.analytics import unit_set

    flt = _filters(category, source, status, from_, to, area)
    inputs = Inputs(url, events, grids)

    def compute(step: Callable[[str], None]) -> Any:
        step("building units")
        units = unit_set(by, inputs.grids())
        step("reading events")
        frame = inputs.events()
        step(f"counting {len(frame):,} events by {units.by}")
        res = run(frame, units, flt, engine=engine)
        return res.table, {**res.params, "outside": res.outside}

    _run(out, fmt, compute)


def density(
    out: OutArg, cell_m: Annotated[float, typer.Option("--cell-m")] = 50.0,
    bandwidth_m: Annotated[float | None, typer.Option("--bandwidth-m")] = None,
    bandwidth_rule: Annotated[str, typer.Option("--bandwidth-rule",
                                                help="silverman or scott.")] = "silverman",
    min_value: Annotated[float, typer.Option("--min-value", min=0.0,
                                             help="Write cells above this (events/km²).")] = 0.0,
    fmt: FormatOpt = None, category: CategoryOpt = None, source: SourceOpt = None,
    status: StatusOpt = None, from_: FromOpt = None, to: ToOpt = None, area: AreaOpt = None,
    events: EventsOpt = None, grids: GridsOpt = None, url: UrlOpt = None,
) -> None:
    """Kernel density (events per km²) on square cells in metres, written as polygons."""
    from gis_core.analytics import density as run
    from gis_core.analytics.export import density_cells

    flt = _filters(category, source, status, from_, to, area)
    inputs = Inputs(url, events, grids)

    def compute(step: Callable[[str], None]) -> Any:
        step("reading events")
        frame = inputs.events()
        step(f"kernel density of {len(frame):,} events on {cell_m:g} m cells")
        res = run(frame, flt, cell_m=cell_m, bandwidth_m=bandwidth_m,
                  bandwidth_rule=bandwidth_rule)
        step("cells to polygons")
        return density_cells(res, min_value), {**res.params, "min_value": min_value}

    _run(out, fmt, compute)


def hotspots(
    out: OutArg, by: ByOpt = "grid",
    permutations: Annotated[int, typer.Option(min=0, max=9999)] = 999,
    seed: Annotated[int, typer.Option(min=0, max=2**31 - 1)] = 0,
    fdr: Annotated[bool, typer.Option("--fdr/--no-fdr")] = True,
    p_value: Annotated[str, typer.Option("--p-value", help="normal or permutation.")] = "normal",
    fmt: FormatOpt = None, category: CategoryOpt = None, source: SourceOpt = None,
    status: StatusOpt = None, from_: FromOpt = None, to: ToOpt = None, area: AreaOpt = None,
    events: EventsOpt = None, grids: GridsOpt = None, url: UrlOpt = None,
) -> None:
    """Getis-Ord Gi* hot and cold spots with Esri's bins (-3..+3)."""
    from gis_core.analytics import hotspots as run
    from gis_core.analytics import unit_set

    flt = _filters(category, source, status, from_, to, area)
    inputs = Inputs(url, events, grids)

    def compute(step: Callable[[str], None]) -> Any:
        step("building units")
        units = unit_set(by, inputs.grids())
        step("reading events")
        frame = inputs.events()
        step(f"Gi* on {units.n:,} units, {permutations} permutations")
        res = run(frame, units, flt, permutations=permutations, seed=seed, fdr=fdr,
                  p_value=p_value)
        return res.table, {**res.params, "summary": res.summary}

    _run(out, fmt, compute)


def emerging(
    out: OutArg, by: ByOpt = "grid",
    step_: Annotated[str, typer.Option("--step", help="day, week or month.")] = "month",
    time_window: Annotated[int, typer.Option("--time-window", min=0, max=12)] = 1,
    alpha: Annotated[float, typer.Option(min=0.0, max=1.0)] = 0.10,
    trend_alpha: Annotated[float, typer.Option("--trend-alpha", min=0.0, max=1.0)] = 0.05,
    fdr: Annotated[bool, typer.Option("--fdr/--no-fdr")] = True,
    fmt: FormatOpt = None, category: CategoryOpt = None, source: SourceOpt = None,
    status: StatusOpt = None, from_: FromOpt = None, to: ToOpt = None, area: AreaOpt = None,
    events: EventsOpt = None, grids: GridsOpt = None, url: UrlOpt = None,
) -> None:
    """Emerging hot spot categories (space-time Gi* and Mann-Kendall, Esri's rules)."""
    from gis_core.analytics import emerging_hotspots as run
    from gis_core.analytics import unit_set

    if step_ not in ("day", "week", "month"):
        raise _fail("--step must be day, week or month")
    flt = _filters(category, source, status, from_, to, area)
    inputs = Inputs(url, events, grids)

    def compute(step: Callable[[str], None]) -> Any:
        step("building units")
        units = unit_set(by, inputs.grids())
        step("reading events")
        frame = inputs.events()
        step(f"space-time Gi* by {step_} on {units.n:,} units")
        res = run(frame, units, flt, step=step_, time_window=time_window, alpha=alpha,
                  fdr=fdr, trend_alpha=trend_alpha)
        return res.table, {**res.params, "time_steps": res.steps}

    _run(out, fmt, compute)


def recurrent(
    out: OutArg, eps_m: Annotated[float, typer.Option("--eps-m", min=1, max=5000)] = 50.0,
    eps_days: Annotated[float, typer.Option("--eps-days", min=0.1, max=365)] = 14.0,
    min_events: Annotated[int, typer.Option("--min-events", min=2, max=10_000)] = 5,
    min_days: Annotated[int, typer.Option("--min-days", min=1, max=3650)] = 3,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    fmt: FormatOpt = None, category: CategoryOpt = None, source: SourceOpt = None,
    status: StatusOpt = None, from_: FromOpt = None, to: ToOpt = None, area: AreaOpt = None,
    events: EventsOpt = None, grids: GridsOpt = None, url: UrlOpt = None,
) -> None:
    """Recurrent problems (one class at one place on many days), best first, with events."""
    import geopandas as gpd
    import shapely

    from gis_core.analytics import recurrent as run

    flt = _filters(category, source, status, from_, to, area)
    inputs = Inputs(url, events, grids)

    def compute(step: Callable[[str], None]) -> Any:
        step("reading events")
        frame = inputs.events()
        step(f"clustering {len(frame):,} events in space and time")
        res = run(frame, flt, eps_m=eps_m, eps_days=eps_days, min_events=min_events,
                  min_days=min_days, limit=limit)
        p = res.problems
        table = gpd.GeoDataFrame(p, geometry=shapely.points(
            p["lon"].to_numpy(float), p["lat"].to_numpy(float)), crs=4326)
        return table, res.params

    _run(out, fmt, compute)


def register(app: typer.Typer) -> None:
    for name, func in (("aggregate", aggregate), ("density", density), ("hotspots", hotspots),
                       ("emerging", emerging), ("recurrent", recurrent)):
        analytics_app.command(name)(user_errors(func))
    app.add_typer(analytics_app, name="analytics")


__all__ = ["register"]
