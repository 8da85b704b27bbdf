"""Alembic environment: works from ``Store.upgrade`` (a connection is handed in through
``config.attributes``) and from the ``alembic`` CLI (URL resolved like the Store does).

Migrations are hand-written and dialect-aware (GiST vs bbox indexes, trigger syntax);
autogenerate is only a drafting aid, and ``tests/storage`` checks models == migrations.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from gis_core.storage.engine import creating_allowed, make_engine
from gis_core.storage.migrations import include_object_for
from gis_core.storage.models import Base

config = context.config
target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=include_object_for(connection.dialect.name),
        user_module_prefix="gis_core.storage.types.",
        compare_type=True,
    )


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or None)
    try:
        with creating_allowed(), engine.connect() as conn:
            _configure(conn)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported: the DDL is dialect-aware")
run_migrations_online()
