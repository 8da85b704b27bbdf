"""Reports from tables: the sample year of events, or a city's export (Parquet or CSV).

Columns follow `gis_core.sample_data.events` (source, external_id, category_code,
description, lon, lat, crs, address, building_id, reporter_name, reporter_phone, priority,
photos as a JSON list, reported_at); ground-truth columns such as `defect` are ignored.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from gis_core.cases.calendar import TZ
from gis_core.cases.deadlines import Priority
from gis_core.events.reports import EventReport
from gis_core.spatial.io import LayerError, file_kind


def read_event_table(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    if not path.exists():
        raise LayerError(f"no such file: {path}")
    kind = file_kind(path)
    if kind == "parquet":
        return pd.read_parquet(path)
    if kind == "csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    raise LayerError(f"events load reads .parquet or .csv, not {path.suffix}")


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = str(value).strip()
    return text or None


def _when(value: Any) -> Any:
    if value is None or (isinstance(value, float) and value != value) or value == "":
        return None
    ts = pd.Timestamp(value)
    if ts.tzinfo is None:
        ts = ts.tz_localize(TZ)
    return ts.to_pydatetime()


def reports_from_frame(frame: pd.DataFrame) -> Iterator[EventReport]:
    """One EventReport per row, in row order."""
    cols = set(frame.columns)
    for row in frame.itertuples(index=False):
        get = row._asdict().get
        photos_raw = _text(get("photos"))
        photos = json.loads(photos_raw) if photos_raw and photos_raw.startswith("[") else []
        yield EventReport(
            source=_text(get("source")) or "",
            category_code=_text(get("category_code")) or "",
            external_id=_text(get("external_id")),
            description=_text(get("description")) or "",
            lon=_text(get("lon")) if "lon" in cols else None,
            lat=_text(get("lat")) if "lat" in cols else None,
            crs=_text(get("crs")) or "wgs84",
            address=_text(get("address")),
            building_id=_text(get("building_id")),
            reporter_name=_text(get("reporter_name")),
            reporter_phone=_text(get("reporter_phone")),
            priority=_text(get("priority")) or Priority.NORMAL.value,
            photos=photos,
            reported_at=_when(get("reported_at")),
        )
