"""The Dask engine for batch assignment: the same partition function on a cluster.

Without a scheduler address a LocalCluster (one process per core) is started. The
locator is broadcast to every worker once; partitions come back to the client in input
order and pass through the same `OutputWriter` as the local engine, so both engines
write identical files.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import dask
import dask.dataframe as dd
import pandas as pd

from gis_core.batch.assign import (
    CHUNK_ROWS,
    AssignSummary,
    InputSpec,
    OutputWriter,
    assign_partition,
    open_input,
)
from gis_core.spatial.io import file_kind
from gis_core.spatial.locator import Locator


def _partitioned(input_path: Path, table_frame: pd.DataFrame | None) -> dd.DataFrame:
    if file_kind(input_path) == "csv":
        return dd.read_csv(input_path, dtype=str, keep_default_na=False, blocksize="32MB")
    assert table_frame is not None
    nparts = max(1, -(-len(table_frame) // CHUNK_ROWS))
    return dd.from_pandas(table_frame, npartitions=nparts, sort=False)


def assign_file_dask(
    input_path: str | Path,
    output_path: str | Path,
    locator: Locator,
    spec: InputSpec,
    *,
    crs_given: bool = False,
    scheduler: str | None = None,
    n_workers: int | None = None,
    on_chunk: Callable[[int, int | None], None] | None = None,
) -> AssignSummary:
    from dask.distributed import Client, LocalCluster

    input_path = Path(input_path)
    table = open_input(input_path, spec, crs_given)
    frame = None
    if file_kind(input_path) != "csv":
        frame = pd.concat(list(table.chunks()), ignore_index=False)
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
    with dask.config.set({"dataframe.convert-string": False}):
        client = Client(cluster if cluster is not None else scheduler)
        try:
            ddf = _partitioned(input_path, frame)
            loc = client.scatter(locator, broadcast=True)
            meta = assign_partition(ddf._meta, locator, table.spec)
            parts = ddf.map_partitions(assign_partition, loc, table.spec, meta=meta)
            futures = client.compute(parts.to_delayed())
            writer = OutputWriter(output_path, table.spec.geometry_col, table.geo_crs)
            summary = AssignSummary()
            for fut in futures:  # in input order; workers run ahead in parallel
                out = fut.result()
                writer.write(out)
                summary.add(out)
                if on_chunk is not None:
                    on_chunk(len(out), table.total_rows)
                fut.release()
            writer.close()
            return summary
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
