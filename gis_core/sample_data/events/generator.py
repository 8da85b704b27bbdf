"""A year of intake records: the stages in order, each on its own seeded stream, and the
typed frame and Parquet file they end in."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import shapely

from gis_core.paths import SAMPLE_DIR
from gis_core.spatial.crs import from_wgs84
from gis_core.standards import event_classes

from ..config import stream
from ..progress import progress_bars, stepper
from .defects import add_retries, break_records, near_duplicates, pick_defects
from .district import District, load_district
from .places import find_hotspots, nearest_building
from .reporters import external_ids, photo_lists, reporters
from .rhythm import receive_times, summer_storms, year_calendar
from .rows import Rows
from .sources import camera_reports, iot_reports, people_reports
from .tables import (
    ADDRESS_ONLY,
    ADDRESS_WITH_COORDS,
    APP_BD09,
    COLUMNS,
    COORD_CRS,
    DEFAULT_N,
    DEFAULT_SEED,
    DEFECT_SHARE,
    FLOAT_COLUMNS,
    NEAR_DUPLICATE_SHARE,
    RETRY_SHARE,
    RETRY_SOURCES,
    SOURCE_SHARES,
    SOURCES,
    TIME_COLUMNS,
    TIME_DTYPE,
    TIMEZONE,
)
from .text import describe, priorities

STAGES = 7
"""Steps of the progress bar."""


def generate_events(
    sample_dir: Path = SAMPLE_DIR,
    *,
    n: int = DEFAULT_N,
    year: int = 2025,
    seed: int = DEFAULT_SEED,
    progress: bool = False,
) -> pd.DataFrame:
    """A year of intake records for the sample district, in order of ``reported_at``.

    Exactly ``n`` rows: ordinary reports, ~3 % near duplicates (``near_duplicate_of``) and
    ~1.5 % exact re-sends of the 12345 and IoT records (``defect == 'retry'``). Same
    ``sample_dir`` content, ``n``, ``year`` and ``seed`` give the same frame.
    """
    if n < 1:
        raise ValueError(f"n must be positive, got {n}")
    sample_dir = Path(sample_dir)

    def rs(name: str) -> np.random.Generator:
        return stream(seed, f"events.{name}")

    with progress_bars(progress) as prog:
        step = stepper(prog, "events", STAGES)
        d = load_district(sample_dir)
        hot = find_hotspots(d, rs("hotspots"))
        storms = summer_storms(year, rs("storms"))
        step()

        # 1. How many of each.
        shares = np.array([SOURCE_SHARES[s] for s in SOURCES])
        retry_share = RETRY_SHARE * sum(SOURCE_SHARES[s] for s in RETRY_SOURCES)
        n_dup = round(n * NEAR_DUPLICATE_SHARE)
        n_retry = round(n * retry_share)
        n_base = n - n_dup - n_retry
        counts = rs("counts").multinomial(n_base, shares / shares.sum())

        # 2. Base reports per source.
        codes = event_classes()["code"].to_numpy(object)
        parts = []
        for s, name in enumerate(SOURCES):
            rng = rs(f"source.{name}")
            k = int(counts[s])
            if name == "iot":
                parts.append(iot_reports(k, d, year, storms, rng))
            elif name == "ai_camera":
                parts.append(camera_reports(k, d, year, rng))
            else:
                parts.append(people_reports(name, k, d, hot, year, storms, rng, codes))
        base = Rows.concat(parts)
        step()

        # 3. How the hotlines give the place; near duplicates always carry coordinates.
        rng = rs("address_only")
        address_only = np.zeros(len(base), dtype=bool)
        for name, share in ADDRESS_ONLY.items():
            sel = base.src == SOURCES.index(name)
            address_only |= sel & (rng.random(len(base)) < share)
        end = year_calendar(year)[0] * 86400
        dups = near_duplicates(base, address_only, n_dup, d, end, rs("near_duplicates"))
        rows = Rows.concat([base, dups])
        address_only = np.concatenate([address_only, np.zeros(len(dups), dtype=bool)])
        step()

        # 4. Defects, on base rows that are nobody's first report.
        defect = pick_defects(rows, len(base), address_only, round(n * DEFECT_SHARE), rs("defects"))
        missing = defect == "missing_location"

        # 5. Where, in which CRS, which building; text.
        b = nearest_building(d, rows.x, rows.y)
        crs, lon, lat, address, building_id = _locations(
            rows, d, b, address_only, missing, rs("crs")
        )
        step()
        description, devices, dev_urgent = describe(rows, d, b, missing, rs("text"))
        step()

        # 6. Priority, people, attachments, ids.
        priority = priorities(rows, devices, dev_urgent, rs("priority"))
        reporter_id, reporter_name, phone = reporters(rows, d, b, rs("people"), rs("patrol_team"))
        photos = photo_lists(rs("photos"), rows.src, rows.t, year)
        external_id = external_ids(rows, year, rs("ids"))
        step()

        # 7. Apply defects, add re-sends, order by time.
        rng = rs("defects.apply")
        category, component_id = break_records(defect, rows, d, lon, lat, rng)
        near = np.where(rows.orig >= 0, external_id[np.maximum(rows.orig, 0)], None)
        t_ms, recv_ms = receive_times(rows, rng)
        cols: dict[str, np.ndarray] = {
            "source": np.array(SOURCES, dtype=object)[rows.src],
            "external_id": external_id,
            "reported_at": t_ms,
            "received_at": recv_ms,
            "category_code": category,
            "description": description,
            "lon": lon,
            "lat": lat,
            "crs": crs,
            "address": address,
            "building_id": building_id,
            "component_id": component_id,
            "device_id": rows.dev,
            "priority": priority,
            "reporter_id": reporter_id,
            "reporter_name": reporter_name,
            "reporter_phone": phone,
            "photos": photos,
            "near_duplicate_of": near,
            "defect": defect,
        }
        cols, src_rank = add_retries(cols, rows, n_retry, rng)
        order = np.lexsort(
            (cols["external_id"].astype(str), src_rank, cols["received_at"], cols["reported_at"])
        )
        df = _frame({c: v[order] for c, v in cols.items()}, year)
        step()
    return df


def _locations(
    rows: Rows,
    d: District,
    b: np.ndarray,
    address_only: np.ndarray,
    missing: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, ...]:
    """(crs, lon, lat, address, building_id) as each source sends the place: coordinates in
    its own CRS, an address of the nearest building, or only that building."""
    m = len(rows)
    inside = shapely.contains_xy(d.outline_m, rows.x, rows.y)
    crs = np.full(m, "wgs84", dtype=object)
    for name, c in COORD_CRS.items():
        crs[rows.src == SOURCES.index(name)] = c
    app = np.flatnonzero(rows.src == SOURCES.index("resident_app"))
    crs[app] = np.where(rng.random(len(app)) < APP_BD09, "bd09", "gcj02")
    has_coords = ~address_only & ~missing
    crs[~has_coords] = None
    lon_w, lat_w = d.projector.to_lonlat(rows.x, rows.y)
    lon = np.full(m, np.nan)
    lat = np.full(m, np.nan)
    for c in ("wgs84", "gcj02", "bd09"):
        sel = crs == c
        lon[sel], lat[sel] = from_wgs84(lon_w[sel], lat_w[sel], c)
    lon, lat = np.round(lon, 6), np.round(lat, 6)

    with_addr = address_only.copy()
    for name in ("12345", "110", "12315"):
        with_addr |= (rows.src == SOURCES.index(name)) & inside
    for name, share in ADDRESS_WITH_COORDS.items():
        sel = (rows.src == SOURCES.index(name)) & inside
        with_addr |= sel & (rng.random(m) < share)
    with_addr &= ~missing
    address = np.where(with_addr, d.bld["address"].to_numpy(object)[b], None)
    building_id = np.where(address_only & ~missing, d.bld["building_id"].to_numpy(object)[b], None)
    return crs, lon, lat, address, building_id


def _frame(cols: dict[str, np.ndarray], year: int) -> pd.DataFrame:
    """Typed columns: text as ``str`` (missing = NaN), lon/lat float64, times tz-aware."""
    start = pd.Timestamp(year=year, month=1, day=1)
    data: dict[str, pd.Series] = {}
    for c in COLUMNS:
        v = cols[c]
        if c in FLOAT_COLUMNS:
            data[c] = pd.Series(v, dtype="float64")
        elif c in TIME_COLUMNS:
            local = start + pd.to_timedelta(v, unit="ms")
            data[c] = pd.Series(local.tz_localize(TIMEZONE)).astype(TIME_DTYPE)
        else:
            data[c] = pd.Series(v, dtype="str")
    return pd.DataFrame(data)


def write_events(df: pd.DataFrame, path: str | Path) -> Path:
    """Write the events as Parquet: same frame in, same bytes out (fixed row groups,
    zstd, no index, statistics; the only metadata is the schema and pyarrow's version)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(df, preserve_index=False)
    pq.write_table(table, path, compression="zstd", row_group_size=65_536, write_statistics=True)
    return path


def read_events(path: str | Path) -> pd.DataFrame:
    """Read a file written by ``write_events`` back into the same dtypes."""
    return pd.read_parquet(path)
