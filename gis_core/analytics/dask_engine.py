"""Counting events per unit on Dask, for inputs larger than one process wants to hold.

Each partition is assigned to units and counted with the same function as the local
engine; the per-partition counts are summed, so the answer equals the local engine's
(integers: no rounding). ``scheduler``: None runs Dask's threaded scheduler in this
process; ``"local-cluster"`` starts a LocalCluster (one process per core) for the call;
any other value is a scheduler address (``tcp://host:8786``).
"""

from __future__ import annotations

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd

from gis_core.analytics.units import ADMIN_UNITS, UnitSet

PARTITION_ROWS = 250_000


def _count(part: pd.DataFrame, units: UnitSet) -> np.ndarray:
    pos = units.assign(part)
    inside = pos[pos >= 0]
    return np.bincount(inside, minlength=units.n).astype(np.int64)


def dask_unit_counts(
    events: pd.DataFrame | dd.DataFrame, units: UnitSet, scheduler: str | None = None
) -> np.ndarray:
    """Events per unit (in ``units.ids`` order), counted partition by partition."""
    needed = [f"{units.by}_code"] if units.by in ADMIN_UNITS else ["lon", "lat"]
    events = events[needed]  # only what assignment reads travels to the workers
    if isinstance(events, pd.DataFrame):
        nparts = max(1, -(-len(events) // PARTITION_ROWS))
        ddf = dd.from_pandas(events, npartitions=nparts, sort=False)
    else:
        ddf = events
    parts = [dask.delayed(_count)(p, units) for p in ddf.to_delayed()]
    total = dask.delayed(lambda arrays: np.sum(arrays, axis=0) if arrays else None)(parts)
    if scheduler is None:
        out = total.compute(scheduler="threads")
    else:
        from dask.distributed import Client, LocalCluster

        cluster = (
            LocalCluster(threads_per_worker=1, processes=True, dashboard_address=None)
            if scheduler == "local-cluster"
            else None
        )
        try:
            with Client(cluster if cluster is not None else scheduler) as client:
                out = client.compute(total).result()
        finally:
            if cluster is not None:
                cluster.close()
    if out is None:
        return np.zeros(units.n, dtype=np.int64)
    return np.asarray(out, dtype=np.int64)


__all__ = ["dask_unit_counts"]
