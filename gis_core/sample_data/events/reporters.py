"""Who reports and what they attach: callers and masked phones, grid members and patrol
teams by the place, photo lists, and each source's own id format."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import names
from .district import District
from .rows import Rows
from .tables import PHOTOS, SOURCES

PATROL_TEAMS_PER_STREET = 8


def reporters(
    rows: Rows,
    d: District,
    b: np.ndarray,
    rng: np.random.Generator,
    team_rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(reporter_id, reporter_name, reporter_phone) per row (``b``: nearest building):
    callers by name or title, grid members of the place's grid, the street's patrol teams."""
    m = len(rows)
    reporter_id = np.full(m, None, dtype=object)
    reporter_name = np.full(m, None, dtype=object)
    phone = np.full(m, None, dtype=object)
    for name, anon in (("12345", 0.15), ("110", 0.05), ("12315", 0.1), ("resident_app", 0)):
        sel = np.flatnonzero(rows.src == SOURCES.index(name))
        reporter_name[sel] = _callers(rng, len(sel), anon)
        phone[sel] = _phones(rng, len(sel))
    gm = np.flatnonzero(rows.src == SOURCES.index("grid_member"))
    grid = d.bld["grid_code"].to_numpy(object)[b[gm]]
    start = np.array([d.staff_start.get(g, 0) for g in grid], dtype=np.int64)
    cnt = np.array([d.staff_count.get(g, 0) for g in grid], dtype=np.int64)
    has = cnt > 0
    member = start + (rng.random(len(gm)) * np.maximum(cnt, 1)).astype(np.int64)
    reporter_id[gm[has]] = d.staff_id[member[has]]
    reporter_name[gm[has]] = d.staff_name[member[has]]
    pt = np.flatnonzero(rows.src == SOURCES.index("patrol"))
    streets = sorted(set(d.bld["street_code"]))
    teams = PATROL_TEAMS_PER_STREET
    team_ids = np.array([f"ZF{s}{k + 1:02d}" for s in streets for k in range(teams)], object)
    team_names = person_names(team_rng, len(team_ids))
    street_of = d.bld["street_code"].to_numpy(object)[b[pt]]
    si = np.searchsorted(np.array(streets, dtype=object), street_of)
    member = si * teams + rng.integers(0, teams, len(pt))
    reporter_id[pt] = team_ids[member]
    reporter_name[pt] = team_names[member]
    return reporter_id, reporter_name, phone


def person_names(rng: np.random.Generator, k: int) -> np.ndarray:
    """Full Chinese names, vectorised over the morphemes of ``names``."""
    sur = np.array(list(names.SURNAMES), dtype=object)
    giv = np.array(list(names.GIVEN), dtype=object)
    a = sur[rng.integers(0, len(sur), k)]
    b = giv[rng.integers(0, len(giv), k)]
    c = np.where(rng.random(k) < 0.6, giv[rng.integers(0, len(giv), k)], "")
    return a + b + c


def _callers(rng: np.random.Generator, k: int, anonymous: float) -> np.ndarray:
    full = person_names(rng, k)
    u = rng.random(k)
    title = np.where(rng.random(k) < 0.5, "先生", "女士")
    sur = np.array([f[0] for f in full], dtype=object) if k else np.empty(0, object)
    out = np.where(u < 0.45, sur + title, full)
    return np.where(u > 1.0 - anonymous, "匿名", out)


def _phones(rng: np.random.Generator, k: int) -> np.ndarray:
    second = np.array(list("3456789"))[rng.choice(7, k, p=[0.3, 0.2, 0.08, 0.25, 0.1, 0.04, 0.03])]
    third = rng.integers(0, 10, k)
    last = rng.integers(0, 10_000, k)
    return np.array(
        [f"1{s}{t}****{v:04d}" for s, t, v in zip(second, third, last, strict=True)], dtype=object
    )


def photo_lists(rng: np.random.Generator, src: np.ndarray, t: np.ndarray, year: int) -> np.ndarray:
    out = np.full(len(src), None, dtype=object)
    day0 = pd.Timestamp(year=year, month=1, day=1)
    for name, p in PHOTOS.items():
        sel = np.flatnonzero(src == SOURCES.index(name))
        counts = rng.choice(4, size=len(sel), p=p)
        keys = rng.integers(0, 2**48, size=(len(sel), 3))
        stamp = day0 + pd.to_timedelta(t[sel] // 86400, unit="D")
        days = np.asarray(stamp.strftime("%Y/%m/%d"), dtype=object)
        lists = [
            "[" + ", ".join(f'"photos/{day}/{key:012x}.jpg"' for key in row[:c]) + "]"
            for day, row, c in zip(days, keys.tolist(), counts.tolist(), strict=True)
        ]
        out[sel] = np.array(lists, dtype=object)
    return out


def external_ids(rows: Rows, year: int, rng: np.random.Generator) -> np.ndarray:
    """Each source's own id format, numbered in report order (gaps where the numbering is
    city-wide: those systems also number other districts' cases)."""
    out = np.empty(len(rows), dtype=object)
    day0 = pd.Timestamp(year=year, month=1, day=1)
    for s, name in enumerate(SOURCES):
        sel = np.flatnonzero(rows.src == s)
        sel = sel[np.lexsort((sel, rows.t[sel]))]
        k = len(sel)
        stamp = day0 + pd.to_timedelta(rows.t[sel], unit="s")
        ymd = np.asarray(stamp.strftime("%Y%m%d"), dtype=object)
        if name in ("iot", "ai_camera"):
            dev = rows.dev[sel]
            seq = pd.Series(dev).groupby(dev, sort=False).cumcount().to_numpy() + 1
            prefix = "" if name == "iot" else "AI-"
            out[sel] = [f"{prefix}{d}-{q:06d}" for d, q in zip(dev, seq, strict=True)]
            continue
        if name == "110":
            gaps = rng.integers(1, 4, k)
            seq = pd.Series(gaps).groupby(ymd, sort=False).cumsum().to_numpy()
            out[sel] = [f"110-{d}-{q:05d}" for d, q in zip(ymd, seq, strict=True)]
            continue
        gap_hi = {"12345": 6, "12315": 12}.get(name, 1)
        seq = int(rng.integers(1, 500)) + np.cumsum(rng.integers(1, gap_hi + 1, k))
        fmt = {
            "12345": "12345-{y}-{q:07d}",
            "12315": "12315-{y}{q:08d}",
            "grid_member": "GM{y}{q:08d}",
            "patrol": "XC-{y}-{q:06d}",
        }.get(name)
        if fmt is None:  # resident app: order number by day
            out[sel] = [f"APP{d}{q:07d}" for d, q in zip(ymd, seq, strict=True)]
        else:
            out[sel] = [fmt.format(y=year, q=q) for q in seq]
    return out
