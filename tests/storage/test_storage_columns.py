"""One table of file columns: the sample data, the importers and the Store agree, and the
Store satisfies the protocol other packages annotate with."""

from __future__ import annotations

from gis_core.sample_data import buildings, components, units
from gis_core.storage import Database, Store, StoreLike, columns, importers


def test_sample_files_use_the_shared_columns() -> None:
    assert buildings.PROPERTIES == columns.BUILDING_COLUMNS
    assert components.PROPERTIES == columns.SAMPLE_COMPONENT_COLUMNS
    assert set(columns.SAMPLE_COMPONENT_COLUMNS) <= set(columns.COMPONENT_COLUMNS)
    assert units.UNIT_COLUMNS == columns.UNIT_COLUMNS
    assert units.MEMBER_COLUMNS == columns.MEMBER_COLUMNS
    assert units.RULE_COLUMNS == columns.RULE_COLUMNS
    assert units.LAYER_PROPERTIES == columns.DUTY_LAYER_COLUMNS


def test_importers_expect_the_shared_columns() -> None:
    assert importers.BUILDING_COLUMNS == columns.BUILDING_COLUMNS
    assert importers.COMPONENT_COLUMNS[: len(columns.COMPONENT_COLUMNS)] == (
        columns.COMPONENT_COLUMNS
    )
    assert importers.GRID_COLUMNS[: len(columns.GRID_COLUMNS)] == columns.GRID_COLUMNS
    assert importers.UNIT_COLUMNS == columns.UNIT_COLUMNS
    assert importers.RULE_COLUMNS == columns.RULE_COLUMNS


def test_store_is_store_like(store: Store) -> None:
    assert isinstance(store, StoreLike)
    assert isinstance(store, Database)
