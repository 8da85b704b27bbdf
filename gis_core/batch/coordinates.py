"""Reading and checking coordinates of many points: the one set of rules batch work uses.

A value is usable when it is present, a number, finite and (in a geographic CRS) a
longitude in -180..180 and a latitude in -90..90. Each unusable value gets a reason
instead of an exception, so a batch keeps every row: file assignment
(:mod:`gis_core.batch.assign`) and batch-locate bodies (:mod:`gis_core.batch.points`)
read coordinates the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from gis_core.spatial.crs import parse_crs, valid_lonlat

MISSING = "missing coordinate"
NOT_A_NUMBER = "coordinate is not a number"
NOT_FINITE = "coordinate is not finite"
OUT_OF_RANGE = "coordinate out of range"

FloatArray = NDArray[np.float64]
ReasonArray = NDArray[np.object_]


def number_column(raw: pd.Series) -> tuple[FloatArray, ReasonArray]:
    """Numbers from a column of text or numbers, with a reason for each unusable value."""
    reason = np.full(len(raw), None, dtype=object)
    if pd.api.types.is_numeric_dtype(raw.dtype):
        values = raw.to_numpy(dtype=np.float64, na_value=np.nan)
        reason[np.isnan(values)] = MISSING
    else:
        text = raw.astype("string").str.strip()
        missing = text.isna() | (text == "")
        values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        explicit_nan = text.str.lower().isin(["nan", "-nan", "+nan"]).fillna(False).to_numpy()
        not_number = ~missing.to_numpy() & np.isnan(values) & ~explicit_nan
        reason[missing.to_numpy()] = MISSING
        reason[not_number] = NOT_A_NUMBER
        reason[explicit_nan] = NOT_FINITE
    reason[np.isinf(values) & (reason == None)] = NOT_FINITE  # noqa: E711
    return values, reason


def first_reason(*reasons: ReasonArray) -> ReasonArray:
    """Element-wise the first non-None reason (lon's before lat's)."""
    out = reasons[0]
    for more in reasons[1:]:
        out = np.where(out == None, more, out)  # noqa: E711
    return out


def flag_out_of_range(x: FloatArray, y: FloatArray, reason: ReasonArray, crs: str) -> ReasonArray:
    """``reason`` with OUT_OF_RANGE added where a usable geographic point is not lon/lat."""
    if parse_crs(crs).is_geographic:
        usable = reason == None  # noqa: E711
        reason[usable & ~valid_lonlat(x, y)] = OUT_OF_RANGE
    return reason


def read_coordinates(
    lon: Sequence[Any] | pd.Series, lat: Sequence[Any] | pd.Series, crs: str
) -> tuple[FloatArray, FloatArray, ReasonArray]:
    """x, y and a reason per point (None = usable) from raw values: numbers, text, None."""
    x, rx = number_column(_series(lon))
    y, ry = number_column(_series(lat))
    return x, y, flag_out_of_range(x, y, first_reason(rx, ry), crs)


def _series(values: Sequence[Any] | pd.Series) -> pd.Series:
    if isinstance(values, pd.Series):
        return values
    # Kept as objects, read as text: JSON true is not the number 1, "117.3" is 117.3.
    return pd.Series(list(values), dtype=object)
