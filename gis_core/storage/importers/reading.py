"""Reading an import file: any supported format into a (Geo)DataFrame, and column
names normalised (case, Shapefile's 10-character cut, the standard's abbreviations)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from gis_core.spatial.io import LayerError, file_kind
from gis_core.storage.importers.report import ImportFailure

COMPONENT_ABBREVIATIONS = {
    "glbjbsm": "component_id",
    "glbjmc": "class_name",
    "zgbmdm": "department_code",
    "zgbmmc": "department_name",
    "qsdwdm": "owner_code",
    "qsdwmc": "owner_name",
    "yhdwdm": "maintainer_code",
    "yhdwmc": "maintainer_name",
    "szdywgbsm": "grid_code",
    "glbjzt": "status",
    "csrq": "initial_date",
    "bgrq": "change_date",
    "sjly": "data_source",
    "bz": "note",
    "szjddm": "street_code",
    "szjdmc": "street_name",
    "szsqdm": "community_code",
    "szsqmc": "community_name",
}
"""GB/T 47678.5 Annex A field abbreviations, as survey deliveries name their columns."""


def _read_csv(path: Path) -> pd.DataFrame:
    """All cells as text (codes keep leading zeros); UTF-8 with or without BOM, else
    GB18030, the superset of GBK that Chinese spreadsheet exports use."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFailure(f"cannot decode {path}: neither UTF-8 nor GB18030")


def read_table(path: str | Path) -> pd.DataFrame:
    """The file as a (Geo)DataFrame, untouched apart from decoding. Raises ImportFailure."""
    path = Path(path)
    if not path.is_file():
        raise ImportFailure(f"no such file: {path}")
    try:
        kind = file_kind(path)
    except LayerError as exc:
        raise ImportFailure(str(exc)) from None
    try:
        if kind == "csv":
            return _read_csv(path)
        if kind == "parquet":
            try:
                return gpd.read_parquet(path)
            except ValueError as exc:  # a plain Parquet table has no geo metadata
                if "geo" not in str(exc).lower():
                    raise
                return pd.read_parquet(path)
        return gpd.read_file(path, engine="pyogrio")
    except ImportFailure:
        raise
    except Exception as exc:  # GDAL, Arrow and pandas raise many types; say which file
        raise ImportFailure(f"cannot read {path}: {exc}") from None


def normalise_columns(df: pd.DataFrame, expected: tuple[str, ...]) -> pd.DataFrame:
    """Lower-case names; restore names a Shapefile cut to 10 characters; map the
    standard's field abbreviations (GLBJBSM...) for components."""
    geom_name = df.geometry.name if isinstance(df, gpd.GeoDataFrame) else None
    renames: dict[str, str] = {}
    taken = set()
    for col in df.columns:
        if col == geom_name:
            continue
        low = str(col).strip().lower()
        target = COMPONENT_ABBREVIATIONS.get(low, low) if "component_id" in expected else low
        if target not in expected:
            for name in expected:
                if len(name) > 10 and name[:10] == low:
                    target = name
        if target in taken:
            raise ImportFailure(f"column {target!r} appears twice (names ignore case)")
        renames[col] = target
        taken.add(target)
    return df.rename(columns=renames)
