"""gridgov's spatial core and domain logic (no web code).

The entry points most callers need are re-exported here: `GridIndex` (pure
point-in-polygon over arrays), `Locator` (the index plus the administrative hierarchy and
input CRS handling) and `read_layer` (any layer file, reprojected to the storage CRS).
The package layout and its import order are described in ``docs/architecture.md``.
"""

from gis_core.spatial.grid_index import GridIndex
from gis_core.spatial.io import read_layer
from gis_core.spatial.locator import Locator

__all__ = ["GridIndex", "Locator", "read_layer"]
