"""The migration builds the schema the models describe, with each dialect's indexes."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from gis_core.storage import Store
from gis_core.storage.migrations import include_object_for
from gis_core.storage.models import TABLES, Base

SPATIAL = (
    "admin_units",
    "buildings",
    "components",
    "responsibility_layers",
    "basemap_features",
    "events",
)


def test_upgrade_creates_every_table_and_is_idempotent(store: Store) -> None:
    assert store.current_revision() == store.head_revision() is not None
    store.upgrade()  # second run: a no-op, not an error
    assert store.current_revision() == store.head_revision()
    names = set(inspect(store.engine).get_table_names())
    assert set(TABLES) <= names
    assert "alembic_version" in names
    assert store.counts() == dict.fromkeys(TABLES, 0)


def test_models_and_migration_agree(store: Store) -> None:
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn,
            opts={"compare_type": True, "include_object": include_object_for(store.dialect)},
        )
        diffs = compare_metadata(ctx, Base.metadata)
    assert diffs == []


def test_spatial_indexes_per_dialect(store: Store) -> None:
    with store.engine.connect() as conn:
        if store.dialect == "postgresql":
            rows = conn.execute(
                text(
                    "SELECT tablename, indexdef FROM pg_indexes"
                    " WHERE schemaname = current_schema() AND indexdef ILIKE '%USING gist%'"
                )
            ).all()
            gist = {t: d for t, d in rows}
            assert set(gist) == set(SPATIAL)
            assert all("(geom)" in d for d in gist.values())
            kinds = dict(
                conn.execute(
                    text(
                        "SELECT f_table_name, type FROM geometry_columns"
                        " WHERE f_table_schema = current_schema() AND srid = 4326"
                    )
                ).all()
            )
            assert kinds == {
                "admin_units": "MULTIPOLYGON",
                "buildings": "GEOMETRY",
                "components": "POINT",
                "responsibility_layers": "MULTIPOLYGON",
                "basemap_features": "GEOMETRY",
                "events": "POINT",
            }
        else:
            index_names = {
                r[0]
                for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'"))
            }
            for table in SPATIAL[:-1]:
                assert f"ix_{table}_bbox" in index_names
            assert "ix_events_lon_lat" in index_names
            pragmas = [
                conn.exec_driver_sql(f"PRAGMA {p}").scalar()
                for p in ("journal_mode", "foreign_keys", "busy_timeout")
            ]
            assert pragmas[0] == "wal" and pragmas[1] == 1 and pragmas[2] >= 1000


def test_event_indexes_exist(store: Store) -> None:
    indexes = {i["name"] for i in inspect(store.engine).get_indexes("events")}
    assert {
        "ix_events_status",
        "ix_events_grid_code",
        "ix_events_reported_at",
        "ix_events_unit_id_status",
    } <= indexes
    uniques = {
        tuple(u["column_names"])
        for u in inspect(store.engine).get_unique_constraints("event_history")
    }
    assert ("event_id", "seq") in uniques
