"""The ground truth the intake must find: second reports of the same problem by another
source (near duplicates), deliberately broken records (defects), and exact re-sends."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .district import District
from .places import around, nearest_building
from .rows import Rows
from .tables import DEFECT_KINDS, DUP_SOURCE, RETRY, RETRY_SOURCES, SOURCES, UNKNOWN_CODES


def near_duplicates(
    base: Rows, address_only: np.ndarray, k: int, d: District, end: int, rng: np.random.Generator
) -> Rows:
    """Second reports of the same problem by another source, within 45 m and 2 h."""
    fault_addr = (base.comp >= 0) & address_only
    eligible = np.flatnonzero(~fault_addr & (base.t < end - 7200))
    k = min(k, len(eligible))
    orig = np.sort(rng.choice(eligible, size=k, replace=False))
    rows = Rows.make(k, 0)
    w = np.array([DUP_SOURCE[s] for s in SOURCES])
    for s in range(len(SOURCES)):
        sel = np.flatnonzero(base.src[orig] == s)
        p = w.copy()
        p[s] = 0.0
        rows.src[sel] = rng.choice(len(SOURCES), size=len(sel), p=p / p.sum())
    rows.orig[:] = orig
    rows.cat[:] = base.cat[orig]
    rows.comp[:] = base.comp[orig]
    rows.storm[:] = base.storm[orig]
    rows.t[:] = base.t[orig] + rng.integers(60, 7000, k)
    # where the first report resolves to: its point, or its building for address-only ones
    b = nearest_building(d, base.x[orig], base.y[orig])
    ox = np.where(address_only[orig], d.bld["x"].to_numpy()[b], base.x[orig])
    oy = np.where(address_only[orig], d.bld["y"].to_numpy()[b], base.y[orig])
    r = 45.0 * np.sqrt(rng.random(k))
    a = rng.uniform(0, 2 * np.pi, k)
    rows.x[:], rows.y[:] = ox + r * np.cos(a), oy + r * np.sin(a)
    c = rows.comp >= 0
    rows.x[c], rows.y[c] = around(
        d.cmp["x"].to_numpy()[rows.comp[c]], d.cmp["y"].to_numpy()[rows.comp[c]], 1.0, 6.0, rng
    )
    return rows


def pick_defects(
    rows: Rows, n_base: int, address_only: np.ndarray, n_def: int, rng: np.random.Generator
) -> np.ndarray:
    """The defect kind per row (None for most): ``n_def`` of each kind, on base rows (the
    first ``n_base``) that are nobody's first report."""
    m = len(rows)
    defect = np.full(m, None, dtype=object)
    taken = np.zeros(m, dtype=bool)
    taken[rows.orig[n_base:]] = True
    taken[n_base:] = True
    device = np.isin(rows.src, [SOURCES.index("iot"), SOURCES.index("ai_camera")])
    for kind in DEFECT_KINDS:
        pool = ~taken
        if kind == "out_of_range":  # needs coordinates to break
            pool &= ~address_only
        elif kind == "missing_location":  # a device id would still place it
            pool &= ~device
        pool_idx = np.flatnonzero(pool)
        pick = rng.choice(pool_idx, size=min(n_def, len(pool_idx)), replace=False)
        defect[pick] = kind
        taken[pick] = True
    return defect


def break_records(
    defect: np.ndarray,
    rows: Rows,
    d: District,
    lon: np.ndarray,
    lat: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Apply the defects: unknown class codes, coordinates out of range (swapped or beyond
    ±90/±180, changed in place in ``lon``/``lat``), no location. Returns (category_code,
    component_id) per row."""
    category = rows.cat.copy()
    component_id = np.where(
        rows.comp >= 0, d.cmp["component_id"].to_numpy(object)[np.maximum(rows.comp, 0)], None
    )
    bad = np.flatnonzero(defect == "unknown_category")
    category[bad] = np.array(UNKNOWN_CODES, dtype=object)[
        rng.integers(0, len(UNKNOWN_CODES), len(bad))
    ]
    component_id[bad] = None
    oor = np.flatnonzero(defect == "out_of_range")
    how = rng.integers(0, 3, len(oor))
    swap = oor[how == 0]
    lon[swap], lat[swap] = lat[swap].copy(), lon[swap].copy()
    lat[oor[how == 1]] = np.round(95.0 + rng.random(int((how == 1).sum())), 6)
    lon[oor[how == 2]] = np.round(200.0 + rng.random(int((how == 2).sum())), 6)
    missing = defect == "missing_location"
    lon[missing], lat[missing] = np.nan, np.nan
    component_id[missing] = None
    return category, component_id


def add_retries(
    cols: dict[str, np.ndarray], rows: Rows, n_retry: int, rng: np.random.Generator
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Append exact re-sends of sound 12345 and IoT records, received 5 s to 30 min later
    (``defect == 'retry'``). Returns the columns and each row's source index."""
    defect = cols["defect"]
    pool = np.flatnonzero(np.isin(rows.src, [SOURCES.index(s) for s in RETRY_SOURCES]))
    pool = pool[pd.isna(defect[pool])]
    again = np.sort(rng.choice(pool, size=min(n_retry, len(pool)), replace=False))
    late = np.exp(rng.uniform(np.log(5.0), np.log(1800.0), len(again)))
    extra = {c: v[again].copy() for c, v in cols.items()}
    extra["received_at"] = extra["received_at"] + np.round(late * 1000).astype(np.int64)
    extra["defect"][:] = RETRY
    cols = {c: np.concatenate([v, extra[c]]) for c, v in cols.items()}
    return cols, np.concatenate([rows.src, rows.src[again]])
