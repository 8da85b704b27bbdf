"""`gridgov field ...`: the field force from the command line.

assign (members' patrol areas from CSV), load (fixes from CSV/Parquet, with progress),
coverage (a day's report), coverage-refresh (store daily coverage), rotation (solve and
keep a plan, CSV out), spot-check (a seeded draw), prune (retention), mqtt (store fixes
arriving over MQTT until Ctrl-C).
"""

from __future__ import annotations

import json
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from gis_core.boundaries.generations import LookupService
from gis_core.cli.db import UrlOpt, db_errors
from gis_core.field import members as field_members
from gis_core.field import plans, spot_checks, tracks
from gis_core.field.coverage import CoverageGrids, compute
from gis_core.field.rotation import RotationProblem, check_plan, solve, to_csv
from gis_core.standards import event_classes
from gis_core.storage import Store

out = Console()
err = Console(stderr=True)
LOAD_CHUNK = 50_000


def _read(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise ValueError(f"no file {path}")
    if path.suffix.lower() == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@db_errors
def assign(
    file: Annotated[
        Path, typer.Argument(help="CSV with columns member (id or username), area_code.")
    ],
    url: UrlOpt = None,
    replace: Annotated[bool, typer.Option(help="Replace the named members' assignments.")] = False,
) -> None:
    """Import members' patrol assignments (grids or any area codes)."""
    with Store(url) as store:
        n = field_members.assign(store, _read(file), replace=replace)
    out.print(f"{n} assignment(s) stored")


@db_errors
def load(
    file: Annotated[
        Path, typer.Argument(help="CSV or Parquet: member,time,lon,lat[,accuracy,speed].")
    ],
    url: UrlOpt = None,
    crs: Annotated[
        str, typer.Option(help="CRS of lon/lat: wgs84, gcj02, bd09, EPSG:<code>.")
    ] = "wgs84",
) -> None:
    """Load position fixes (idempotent; bad fixes kept aside with a reason)."""
    df = _read(file)
    missing = [c for c in ("member", "time", "lon", "lat") if c not in df.columns]
    if missing:
        raise ValueError(f"{file}: missing column(s) {', '.join(missing)}")
    totals: dict[str, int] = {"received": 0, "accepted": 0, "duplicates": 0, "rejected": 0}
    reasons: dict[str, int] = {}
    columns = [TextColumn("fixes"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()]
    with Store(url) as store, Progress(*columns, console=err) as bar:
        task = bar.add_task("load", total=len(df))
        for start in range(0, len(df), LOAD_CHUNK):
            part = df.iloc[start : start + LOAD_CHUNK]
            res = tracks.ingest(
                store,
                part["member"].tolist(),
                part["time"].tolist(),
                part["lon"].tolist(),
                part["lat"].tolist(),
                crs=crs,
                accuracy=part.get("accuracy"),
                speed=part.get("speed"),
                source="file",
            )
            for k in totals:
                totals[k] += getattr(res, k)
            for k, v in res.reasons.items():
                reasons[k] = reasons.get(k, 0) + v
            bar.advance(task, len(part))
    out.print_json(json.dumps({**totals, "reasons": reasons}))


@db_errors
def coverage(
    day: Annotated[
        str, typer.Option("--date", help="China-time day YYYY-MM-DD (default today).")
    ] = "",
    url: UrlOpt = None,
    by: Annotated[str, typer.Option(help="grid, member or street.")] = "street",
    out_file: Annotated[Path | None, typer.Option("--out", help="Write the table as CSV.")] = None,
) -> None:
    """A day's patrol coverage report."""
    when = date.fromisoformat(day) if day else datetime.now(tracks.TZ).date()
    if by not in ("grid", "member", "street"):
        raise ValueError("--by must be grid, member or street")
    with Store(url) as store:
        loc, _ = LookupService(store).locator()
        started = time.perf_counter()
        grids = CoverageGrids.from_frame(loc.grids)
        start, end = tracks.day_bounds(when)
        fixes = tracks.fixes_between(store, start, end)
        mem = field_members.read_members(store)
        areas = dict(zip(mem["id"].astype(int), mem["areas"], strict=True))
        cov = compute(fixes, grids, areas=areas)
    if by == "grid":
        table = cov.grids
    elif by == "member":
        table = cov.members.merge(mem[["id", "name", "role"]].rename(columns={"id": "member_id"}))
    else:
        from gis_core.field.coverage import street_rates

        table = street_rates(cov.grids.assign(day=when.isoformat()))
    if out_file is not None:
        table.to_csv(out_file, index=False)
    shown = Table(
        title=f"{when} patrol coverage ({len(fixes)} fixes, {time.perf_counter() - started:.1f} s)"
    )
    for col in table.columns:
        shown.add_column(str(col))
    for row in table.head(50).itertuples(index=False):
        shown.add_row(*(escape(str(v)) for v in row))
    out.print(shown)
    out.print(f"patrolled grids: {int(cov.grids['patrolled'].sum())} / {len(cov.grids)}")


def _names(value: str) -> list[str]:
    path = Path(value)
    if path.is_file():
        return [
            line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
        ]
    return [v.strip() for v in value.split(",") if v.strip()]


@db_errors
def rotation(
    inspectors: Annotated[str, typer.Option(help="Comma-separated names, or a file (one a line).")],
    areas: Annotated[str, typer.Option(help="Comma-separated area codes, or a file.")],
    periods: Annotated[int, typer.Option(min=1, max=52)] = 6,
    min_gap: Annotated[int, typer.Option(min=0, help="Periods before returning to an area.")] = 2,
    unavailable: Annotated[str, typer.Option(help='"name:0,1;name2:3" (0-based periods).')] = "",
    name: Annotated[str, typer.Option()] = "轮岗计划",
    url: UrlOpt = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="Write the plan as CSV.")] = None,
) -> None:
    """Solve an inspectors' rotation plan (OR-Tools CP-SAT), check it, keep it."""
    off: dict[str, list[int]] = {}
    for part in filter(None, (p.strip() for p in unavailable.split(";"))):
        who, _, per = part.partition(":")
        off[who.strip()] = [int(p) for p in per.split(",") if p.strip()]
    problem = RotationProblem(_names(inspectors), _names(areas), periods, min_gap, off)
    plan = solve(problem)
    broken = check_plan(problem, plan["assignments"])
    if broken:
        raise ValueError("plan failed its check: " + "; ".join(broken[:3]))
    with Store(url) as store:
        plan_id = plans.save(store, name, problem, plan, "cli")
    if out_file is not None:
        out_file.write_text(to_csv(plan), encoding="utf-8")
    table = Table(title=f"rotation plan #{plan_id} ({plan['explanation']['status']})")
    table.add_column("period")
    for a in problem.areas:
        table.add_column(a)
    cell = {(r["period"], r["area"]): r["inspector"] for r in plan["assignments"]}
    for p in range(periods):
        table.add_row(str(p + 1), *(escape(cell[(p, a)]) for a in problem.areas))
    out.print(table)
    out.print(f"load spread: {plan['explanation']['load_spread']}")


@db_errors
def spot_check(
    period: Annotated[str, typer.Option(help="YYYY-MM")],
    seed: Annotated[int, typer.Option(min=0)],
    n: Annotated[int, typer.Option(min=1)] = 10,
    areas: Annotated[str, typer.Option(help="Comma-separated area codes (default: streets).")] = "",
    url: UrlOpt = None,
) -> None:
    """Draw (reproducibly) and store a period's spot checks."""
    with Store(url) as store:
        if areas:
            codes = _names(areas)
        else:
            loc, _ = LookupService(store).locator()
            codes = sorted({c[:9] for c in loc.grids["code"].astype(str)})
        classes = sorted(event_classes()["major_code"].astype(str).unique())
        sample = spot_checks.draw(period, codes, classes, n, seed)
        stored = spot_checks.save_draw(store, period, seed, sample, "cli")
    for s in sample:
        out.print(f"{s['area_code']}\t{s['category_code']}")
    out.print(f"{stored} new check(s) stored for {period}")


@db_errors
def coverage_refresh(
    day: Annotated[
        list[str] | None,
        typer.Option("--date", help="Recompute this day (repeatable); default: changed days."),
    ] = None,
    lookback: Annotated[int, typer.Option(help="Days back to look for changes.")] = 7,
    url: UrlOpt = None,
) -> None:
    """Store daily coverage for days whose fixes changed (a cron job beside the API's own)."""
    from gis_core.field import coverage_days

    with Store(url) as store:
        loc, _ = LookupService(store).locator()
        grids = CoverageGrids.from_frame(loc.grids)
        if day:
            days = [date.fromisoformat(d) for d in day]
        else:
            oldest = coverage_days.today() - timedelta(days=lookback)
            days = coverage_days.due_days(store, oldest)
        runs = []
        with Progress(
            TextColumn("coverage"), BarColumn(), MofNCompleteColumn(), console=err
        ) as bar:
            task = bar.add_task("days", total=len(days))
            for d in days:
                runs.append(coverage_days.refresh_day(store, grids, d))
                bar.advance(task)
    for r in runs:
        out.print(f"{r['day']}\t{r['fixes']} fixes\t{r['seconds']} s")
    out.print(f"{len(runs)} day(s) stored")


@db_errors
def prune(
    days: Annotated[float, typer.Option(help="Keep this many days of fixes.")] = 90.0,
    url: UrlOpt = None,
) -> None:
    """Retention: delete fixes older than the window."""
    with Store(url) as store:
        out.print_json(json.dumps(tracks.prune(store, days)))


@db_errors
def mqtt(
    url: UrlOpt = None,
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 1883,
    prefix: Annotated[str, typer.Option(help="Topics <prefix>/<member>/fixes.")] = "gridgov",
) -> None:
    """Store fixes published over MQTT until interrupted (Ctrl-C)."""
    from gis_core.field.mqtt import FixSubscriber

    with Store(url) as store:
        sub = FixSubscriber(store, host=host, port=port, prefix=prefix)
        sub.start()
        err.print(f"listening on {host}:{port} {sub.topic}")
        try:
            while True:
                time.sleep(5)
                s = sub.stats
                err.print(f"messages {s.messages} accepted {s.accepted} rejected {s.rejected}")
        except KeyboardInterrupt:
            pass
        finally:
            sub.stop()


def register(app: typer.Typer) -> None:
    """Add the `field` command group."""
    field_app = typer.Typer(
        help="Field force: tracks, coverage, rotation, spot checks.", no_args_is_help=True
    )
    field_app.command("assign")(assign)
    field_app.command("load")(load)
    field_app.command("coverage")(coverage)
    field_app.command("rotation")(rotation)
    field_app.command("spot-check")(spot_check)
    field_app.command("coverage-refresh")(coverage_refresh)
    field_app.command("prune")(prune)
    field_app.command("mqtt")(mqtt)
    app.add_typer(field_app, name="field")
