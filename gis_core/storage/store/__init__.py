"""The Store: the one door to the system of record, whether SQLite or PostGIS.

Bulk loads go through SQLAlchemy Core ``executemany`` in chunks (insertmanyvalues
batches on PostgreSQL, native executemany on SQLite) inside one transaction each, so a
failed load leaves the previous data untouched. Reads return GeoDataFrames in EPSG:4326.
Spatial filters use ``ST_Intersects`` (GiST) on PostGIS and the bbox columns plus an
exact shapely test on SQLite (``storage/sql_geo.py``): the same answer from both.

``Store`` is one class composed by job: ``core`` (engine, sessions, schema),
``boundaries`` (generations, admin units), ``assets`` (buildings, components),
``responsibility`` (units, members, duty layers, rules), ``planning`` (drafts, steps,
the activation log), ``analytics`` (vital-sign thresholds, alert states, class
problems), ``media`` (uploaded photos); ``frames`` holds what they share.
"""

from __future__ import annotations

from gis_core.storage.columns import BUILDING_COLUMNS, COMPONENT_COLUMNS
from gis_core.storage.store.analytics import AnalyticsStore
from gis_core.storage.store.assets import AssetsStore
from gis_core.storage.store.basemap import BasemapStore
from gis_core.storage.store.boundaries import BoundariesStore, Generation
from gis_core.storage.store.calendar import CalendarStore
from gis_core.storage.store.core import SchemaNotCurrent
from gis_core.storage.store.frames import CHUNK_ROWS, Progress
from gis_core.storage.store.media import MediaStore
from gis_core.storage.store.planning import Activation, PlanningStore, switch_active
from gis_core.storage.store.responsibility import ResponsibilityStore


class Store(
    BoundariesStore,
    AssetsStore,
    ResponsibilityStore,
    PlanningStore,
    AnalyticsStore,
    CalendarStore,
    MediaStore,
    BasemapStore,
):
    """Typed access to the gridgov database (see the module docstring).

    ``Store(url)`` resolves the URL as :func:`gis_core.storage.engine.resolve_url` does;
    nothing is created until :meth:`upgrade` runs the migrations.
    """


__all__ = [
    "BUILDING_COLUMNS",
    "CHUNK_ROWS",
    "COMPONENT_COLUMNS",
    "Activation",
    "Generation",
    "PlanningStore",
    "Progress",
    "SchemaNotCurrent",
    "Store",
    "switch_active",
]
