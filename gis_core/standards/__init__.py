"""The city-management code tables (GB/T 47678.5-2026 Annex A/C, third-party transcription).

The CSVs beside this file are shipped with the package so that every part of gridgov
(sample data, validation of event categories, Open311 services) reads one copy. They are
replaceable: drop in an official transcription with the same columns.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

_HERE = Path(__file__).parent


@lru_cache(maxsize=1)
def management_codes() -> pd.DataFrame:
    """All component (部件) and event (事项) classes: kind, major_code, major_name, code, name."""
    return pd.read_csv(_HERE / "management_codes.csv", dtype=str, keep_default_na=False)


def component_classes() -> pd.DataFrame:
    df = management_codes()
    return df[df["kind"] == "component"].reset_index(drop=True)


def event_classes() -> pd.DataFrame:
    df = management_codes()
    return df[df["kind"] == "event"].reset_index(drop=True)


@lru_cache(maxsize=1)
def attributes() -> pd.DataFrame:
    """The attributes recorded for a component or an event class."""
    return pd.read_csv(_HERE / "attributes.csv", dtype=str, keep_default_na=False)
