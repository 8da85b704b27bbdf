"""Storage: the system of record behind one boundary, SQLite or PostGIS.

``Store`` is the facade the CLI, API and benchmarks use (annotate with ``StoreLike``, or
``Database`` where only the engine and sessions are needed); ``import_file`` loads files
with a rejection report. The rest is implementation detail: ``engine`` (URL and
connection setup), ``types`` (per-dialect column types), ``models`` (the tables, by
domain), ``sql_geo`` (the per-dialect geometry SQL), ``columns`` (file columns shared
with the sample data), ``features`` (OGC feature queries), ``migrations`` (Alembic, run
by ``Store.upgrade``).
"""

from __future__ import annotations

from gis_core.storage.engine import DEFAULT_URL, ENV_URL, resolve_url
from gis_core.storage.importers import KINDS, ImportReport, Rejection, import_file
from gis_core.storage.protocol import Database, StoreLike
from gis_core.storage.store import Generation, SchemaNotCurrent, Store

__all__ = [
    "DEFAULT_URL",
    "ENV_URL",
    "KINDS",
    "Database",
    "Generation",
    "ImportReport",
    "Rejection",
    "SchemaNotCurrent",
    "Store",
    "StoreLike",
    "import_file",
    "resolve_url",
]
