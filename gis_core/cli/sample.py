"""Sample-data commands: `gridgov sample-data` (a district) and `gridgov sample-events`
(a seeded year of reports for it)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from gis_core.cli.spatial import user_errors
from gis_core.paths import SAMPLE_DIR
from gis_core.sample_data.config import DEFAULT_SEED
from gis_core.sample_data.events.tables import DEFAULT_N
from gis_core.sample_data.events.tables import DEFAULT_SEED as EVENTS_SEED

QuietOpt = Annotated[bool, typer.Option("--quiet", help="No progress bars.")]


def sample_data(
    district: Annotated[
        str, typer.Argument(help="District code: 340111 (Baohe) or 330109 (Xiaoshan).")
    ],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    grids: Annotated[int | None, typer.Option("--grids", help="Number of grids.")] = None,
    seed: Annotated[int, typer.Option("--seed")] = DEFAULT_SEED,
    quiet: QuietOpt = False,
) -> None:
    """Generate a sample district (streets, communities, grids, buildings, components)."""
    from gis_core.sample_data import generate

    counts = generate(district, out, seed=seed, grids=grids, progress=not quiet)
    typer.echo(json.dumps(counts, ensure_ascii=False))


def sample_events(
    out: Annotated[Path, typer.Option("--out", help="Output Parquet file.")],
    n: Annotated[int, typer.Option("--n", min=1, help="Number of records.")] = DEFAULT_N,
    year: Annotated[int, typer.Option("--year", help="Calendar year.")] = 2025,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = EVENTS_SEED,
    sample_dir: Annotated[
        Path, typer.Option("--sample-dir", help="Sample district folder (from sample-data).")
    ] = SAMPLE_DIR,
    quiet: QuietOpt = False,
) -> None:
    """Generate a seeded year of reported events for the sample district, as Parquet."""
    from gis_core.sample_data.events import generate_events, write_events

    start = time.perf_counter()
    df = generate_events(sample_dir, n=n, year=year, seed=seed, progress=not quiet)
    write_events(df, out)
    typer.echo(f"wrote {out}: {len(df)} events in {time.perf_counter() - start:.1f} s")


def register(app: typer.Typer) -> None:
    app.command("sample-data")(user_errors(sample_data))
    app.command("sample-events")(user_errors(sample_events))
