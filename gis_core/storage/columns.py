"""File columns, defined once: what a layer or table file of each kind carries.

The sample-data writer writes these columns, the importers expect them, and the
:class:`~gis_core.storage.Store` reads and writes them, so the three cannot drift apart.
Order matters: it is the order of properties in written files and of columns in frames.
"""

from __future__ import annotations

GRID_COLUMNS = (
    "code",
    "name",
    "community_code",
    "street_code",
    "district_code",
    "unit_name",
    "staff",
)
"""A grid file (grids.geojson): the grid, its parents' codes, its team and staff."""
PARENT_NAME_COLUMNS = ("community_name", "street_name", "district_name")
"""Optional in a grid file: names for the communities, streets and districts derived
from the grids."""
ADMIN_COLUMNS = (
    "code",
    "name",
    "parent_code",
    "district_code",
    "street_code",
    "community_code",
    "area_m2",
)
"""An admin unit of any level as the Store reads it."""
GRID_EXTRA_COLUMNS = ("unit_name", "staff")
"""What grids have beyond :data:`ADMIN_COLUMNS`."""

BUILDING_COLUMNS = (
    "building_id",
    "address",
    "name",
    "floors",
    "households",
    "use",
    "grid_code",
    "community_code",
    "street_code",
)
COMPONENT_COLUMNS = (
    "component_id",
    "class_code",
    "class_name",
    "major_code",
    "major_name",
    "department_code",
    "department_name",
    "owner_code",
    "owner_name",
    "maintainer_code",
    "maintainer_name",
    "status",
    "initial_date",
    "change_date",
    "data_source",
    "note",
    "grid_code",
    "street_code",
    "street_name",
    "community_code",
    "community_name",
)
"""GB/T 47678.5 Annex A attributes of a component (管理部件)."""
SAMPLE_COMPONENT_COLUMNS = (
    "component_id",
    "class_code",
    "class_name",
    "major_code",
    "major_name",
    "department_code",
    "department_name",
    "owner_name",
    "maintainer_name",
    "status",
    "initial_date",
    "data_source",
    "grid_code",
    "community_code",
    "community_name",
    "street_code",
    "street_name",
)
"""The subset of :data:`COMPONENT_COLUMNS` the sample district fills, in the order its
committed file has (the sample files rebuild byte for byte)."""

UNIT_COLUMNS = ("code", "name", "kind", "parent_code", "area_code", "phone")
"""A responsible-unit table (units.csv)."""
MEMBER_COLUMNS = ("unit_code", "name", "role", "phone")
"""A unit-member table (members.csv); ``user_id`` may follow."""
DUTY_LAYER_COLUMNS = ("layer_id", "kind", "name", "unit_code", "unit_name")
"""A duty-layer file (duty_layers.geojson): areas a bureau owns."""
RULE_COLUMNS = (
    "category_code",
    "area_code",
    "layer_kind",
    "unit_code",
    "precedence",
    "priority",
    "time_limit_value",
    "time_limit_unit",
    "note",
)
"""A routing-rule table (rules.csv); the unit is named by its code."""
RULE_ROW_COLUMNS = tuple("unit_id" if c == "unit_code" else c for c in RULE_COLUMNS)
"""A stored routing rule (the unit by id): what makes two rules the same rule."""

SAMPLE_FILE_COLUMNS = {
    "grids": GRID_COLUMNS,
    "buildings": BUILDING_COLUMNS,
    "components": SAMPLE_COMPONENT_COLUMNS,
    "units": UNIT_COLUMNS,
    "members": MEMBER_COLUMNS,
    "duty_layers": DUTY_LAYER_COLUMNS,
    "rules": RULE_COLUMNS,
}
"""The columns of each file the sample district writes, by file name (without suffix)."""

BASEMAP_FILE_COLUMNS = {
    "rivers": ("river_id", "name"),
    "roads": ("road_id", "name", "class"),
    "place_names": ("code", "name", "level"),
}
"""The offline basemap's files (sample_data.basemap) and the properties each carries."""
BASEMAP_LAYERS = tuple(BASEMAP_FILE_COLUMNS)
"""The basemap layers, as ``basemap_features.layer`` stores them."""
