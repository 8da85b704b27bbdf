"""File import with a rejection report: bad rows are named and skipped, good rows load.

``import_file(store, kind, path)`` reads GeoJSON, GeoPackage, Shapefile (pyogrio),
GeoParquet and CSV, checks every row (required values, code formats and prefixes,
known component classes, geometry type and validity, coordinate range, duplicates,
column lengths) and loads the rows that pass through the :class:`Store`. Bad input never
raises: a file-level problem (unreadable, required column absent) is ``report.error``.

Row numbers in reports are 1-based data rows in file order (for a CSV, line = row + 1).

Modules by job: ``report`` (what an import returns), ``reading`` (files and column
names), ``checks`` (row checks every kind shares), ``boundaries`` (grids and the
generation they become), ``assets`` (buildings, components), ``responsibility`` (units,
rules), ``pipeline`` (:func:`import_file`).
"""

from __future__ import annotations

from gis_core.storage.columns import RULE_COLUMNS, UNIT_COLUMNS
from gis_core.storage.importers.assets import BUILDING_COLUMNS, COMPONENT_COLUMNS
from gis_core.storage.importers.boundaries import GRID_COLUMNS
from gis_core.storage.importers.checks import MAX_REASONS_PER_ROW
from gis_core.storage.importers.pipeline import KINDS, import_file
from gis_core.storage.importers.reading import COMPONENT_ABBREVIATIONS, read_table
from gis_core.storage.importers.report import (
    ImportFailure,
    ImportProgress,
    ImportReport,
    Rejection,
)

__all__ = [
    "BUILDING_COLUMNS",
    "COMPONENT_ABBREVIATIONS",
    "COMPONENT_COLUMNS",
    "GRID_COLUMNS",
    "KINDS",
    "MAX_REASONS_PER_ROW",
    "RULE_COLUMNS",
    "UNIT_COLUMNS",
    "ImportFailure",
    "ImportProgress",
    "ImportReport",
    "Rejection",
    "import_file",
    "read_table",
]
