"""The import entry point: read, check every row, load the rows that pass, report."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sqlalchemy.exc import SQLAlchemyError

from gis_core.storage.columns import RULE_COLUMNS, UNIT_COLUMNS
from gis_core.storage.importers.assets import (
    BUILDING_COLUMNS,
    COMPONENT_COLUMNS,
    check_buildings,
    check_components,
)
from gis_core.storage.importers.boundaries import GRID_COLUMNS, check_grids, load_grids
from gis_core.storage.importers.checks import Checked
from gis_core.storage.importers.reading import normalise_columns, read_table
from gis_core.storage.importers.report import (
    ImportFailure,
    ImportProgress,
    ImportReport,
    NoProgress,
)
from gis_core.storage.importers.responsibility import check_rules, check_units
from gis_core.storage.protocol import StoreLike

KINDS = ("grids", "buildings", "components", "units", "rules")


def import_file(
    store: StoreLike,
    kind: str,
    path: str | Path,
    generation_id: int | None = None,
    *,
    generation_name: str | None = None,
    activate: bool = False,
    source_crs: str | None = None,
    replace: bool = False,
    progress: ImportProgress | None = None,
) -> ImportReport:
    """Import one file of ``kind`` (grids|buildings|components|units|rules).

    grids: into ``generation_id``, else the generation named ``generation_name``
    (created if new), else a new generation named after the file; communities, streets
    and districts are derived from the grids. ``activate`` makes that generation
    active; so does loading the first generation of an empty database.
    buildings, components: replace the stored set with the accepted rows.
    units: upsert by code. rules: appended, exact duplicates skipped (``replace`` clears
    the rule table first).
    ``source_crs`` overrides the file's CRS (wgs84, cgcs2000, gcj02, bd09, EPSG:n).
    """
    progress = progress or NoProgress()
    report = ImportReport(kind=kind, path=str(path))
    if kind not in KINDS:
        report.error = f"unknown import kind {kind!r}: choose from {', '.join(KINDS)}"
        return report
    try:
        progress.start("reading", None)
        df = read_table(path)
        report.total = len(df)
        if report.total == 0:
            raise ImportFailure(f"{path} has no rows")
        progress.start("checking", None)
        checked = _check(store, kind, df, source_crs)
        report.rejected = checked.checks.rejections()
        report.accepted = len(checked.frame)
        if report.accepted == 0:
            report.error = "every row was rejected; nothing loaded"
            return report
        _load(
            store,
            kind,
            checked.frame,
            report,
            generation_id,
            generation_name,
            activate,
            replace,
            progress,
        )
    except ImportFailure as exc:
        report.error = str(exc)
        report.accepted = 0
    except SQLAlchemyError as exc:
        report.error = f"the database refused the load, nothing was written: {_first_line(exc)}"
        report.accepted = 0
    except (ValueError, LookupError) as exc:  # bad input the row checks did not foresee
        report.error = f"could not load, nothing was written: {exc}"
        report.accepted = 0
    return report


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


def _check(store: StoreLike, kind: str, df: pd.DataFrame, source_crs: str | None) -> Checked:
    expected = {
        "grids": GRID_COLUMNS,
        "buildings": BUILDING_COLUMNS,
        "components": COMPONENT_COLUMNS,
        "units": UNIT_COLUMNS,
        "rules": RULE_COLUMNS,
    }[kind]
    df = normalise_columns(df, expected)
    if kind == "grids":
        return check_grids(df, source_crs)
    if kind == "buildings":
        return check_buildings(df, source_crs)
    if kind == "components":
        return check_components(df, source_crs)
    if kind == "units":
        return check_units(df, store)
    return check_rules(df, store)


def _load(
    store: StoreLike,
    kind: str,
    frame: pd.DataFrame,
    report: ImportReport,
    generation_id: int | None,
    generation_name: str | None,
    activate: bool,
    replace: bool,
    progress: ImportProgress,
) -> None:
    if kind == "grids":
        load_grids(store, frame, report, generation_id, generation_name, activate, progress)
        return
    progress.start("loading", len(frame))
    if kind == "buildings":
        report.loaded["buildings"] = store.replace_buildings(frame, progress=progress.advance)
    elif kind == "components":
        report.loaded["components"] = store.replace_components(frame, progress=progress.advance)
    elif kind == "units":
        counts = store.add_units(frame)
        report.loaded["units inserted"] = counts["inserted"]
        report.loaded["units updated"] = counts["updated"]
        progress.advance(len(frame))
    else:
        inserted = store.add_rules(frame, replace=replace)
        report.loaded["rules"] = inserted
        if inserted < len(frame):
            report.warnings.append(
                f"{len(frame) - inserted} rule(s) already stored (identical) were skipped"
            )
        progress.advance(len(frame))
