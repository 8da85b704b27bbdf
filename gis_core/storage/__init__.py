"""Storage: the system of record behind one boundary, SQLite or PostGIS.

``Store`` is the facade the CLI, API and benchmarks use; ``import_file`` loads files with a
rejection report. Everything else in this package is implementation detail:
``engine`` (URL and connection setup), ``types`` (per-dialect column types), ``models``
(the tables), ``migrations`` (Alembic, run by ``Store.upgrade``).
"""

from __future__ import annotations

from gis_core.storage.engine import DEFAULT_URL, ENV_URL, resolve_url
from gis_core.storage.importers import KINDS, ImportReport, Rejection, import_file
from gis_core.storage.store import Generation, SchemaNotCurrent, Store

__all__ = [
    "DEFAULT_URL",
    "ENV_URL",
    "KINDS",
    "Generation",
    "ImportReport",
    "Rejection",
    "SchemaNotCurrent",
    "Store",
    "import_file",
    "resolve_url",
]
