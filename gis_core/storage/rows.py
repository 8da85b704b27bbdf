"""Turning DataFrame cells into plain Python values the database accepts.

Files hand us numpy scalars, NaN/NA for missing values and, too often, codes stored as
numbers; the helpers here make that uniform once, so the Store and the importers agree.
"""

from __future__ import annotations

import json
import math
import re
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

_MAX_EXACT_FLOAT = 2**53


class ValueProblem(ValueError):
    """A cell that cannot be turned into the value its column needs (message is user-facing)."""


def py(value: Any) -> Any:
    """A plain Python value; None for every flavour of missing (None, NaN, NA, NaT, '')."""
    if type(value) is str:  # the common case first: this runs once per cell
        value = value.strip()
        return value or None
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def code(value: Any) -> str | None:
    """A code as text. Integers are accepted; floats only when they are exact integers,
    because a 17-digit id that went through a float has already lost digits."""
    value = py(value)
    if value is None or type(value) is str:
        return value
    if isinstance(value, bool):
        raise ValueProblem(f"expected a code, got {value!r}")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < _MAX_EXACT_FLOAT:
            return str(int(value))
        raise ValueProblem(
            f"code {value!r} was stored as a floating-point number and may have lost digits;"
            " store codes as text"
        )
    return str(value)


def text(value: Any) -> str | None:
    value = py(value)
    return None if value is None else str(value)


def integer(value: Any, *, minimum: int | None = 0) -> int | None:
    value = py(value)
    if value is None:
        return None
    try:
        if isinstance(value, str):
            value = float(value)
        if isinstance(value, float):
            if not value.is_integer():
                raise ValueError
            value = int(value)
        value = int(value)
    except (TypeError, ValueError):
        raise ValueProblem(f"expected a whole number, got {value!r}") from None
    if minimum is not None and value < minimum:
        raise ValueProblem(f"expected a number >= {minimum}, got {value}")
    return value


def number(value: Any) -> float | None:
    value = py(value)
    if value is None:
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ValueProblem(f"expected a number, got {value!r}") from None
    if not math.isfinite(out):
        raise ValueProblem(f"expected a finite number, got {value!r}")
    return out


_DATE_PATTERNS = (
    (re.compile(r"^\d{8}$"), "%Y%m%d"),
    (re.compile(r"^\d{4}-\d{2}-\d{2}$"), "%Y-%m-%d"),
    (re.compile(r"^\d{4}/\d{2}/\d{2}$"), "%Y/%m/%d"),
)


def day(value: Any) -> date | None:
    """A date from YYYYMMDD (the standard's format), YYYY-MM-DD, YYYY/MM/DD or a datetime."""
    value = py(value)
    if value is None:
        return None
    if isinstance(value, datetime | pd.Timestamp):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int):
        value = str(value)
    if isinstance(value, str):
        for pattern, fmt in _DATE_PATTERNS:
            if pattern.match(value):
                try:
                    return datetime.strptime(value, fmt).date()
                except ValueError:
                    break
    raise ValueProblem(f"expected a date as YYYYMMDD, got {value!r}")


def json_text(value: Any) -> str | None:
    """JSON text: strings that already are JSON are kept verbatim, other values dumped."""
    if isinstance(value, list | dict | tuple):
        return json.dumps(value, ensure_ascii=False)
    value = py(value)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            json.loads(value)
        except ValueError:
            return json.dumps(value, ensure_ascii=False)
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def column(df: pd.DataFrame, name: str) -> list[Any]:
    """The column as a list of raw cells, or all None when the frame lacks it."""
    if name in df.columns:
        return df[name].tolist()
    return [None] * len(df)
