"""gridgov's spatial core and domain logic (no web code).

The two entry points most callers need are re-exported here: `GridIndex` (pure
point-in-polygon over arrays) and `Locator` (the index plus the administrative hierarchy
and input CRS handling).
"""

from gis_core.index import GridIndex
from gis_core.locator import Locator

__all__ = ["GridIndex", "Locator"]
