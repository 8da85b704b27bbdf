"""The duplicate-candidate query reads the partial index, so intake cost does not grow
with the open events of a class (issue 14)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gis_core.events.duplicates import candidate_query
from gis_core.storage import Store


def test_candidate_query_uses_the_partial_index(store: Store) -> None:
    t = datetime(2026, 6, 1, tzinfo=UTC)
    query = candidate_query(
        {"06010", "09006"}, (t - timedelta(hours=2), t), (117.2, 117.3), (31.80, 31.81)
    )
    with store.connection(write=False) as conn:
        assert conn.execute(query).all() == []
        if conn.dialect.name != "sqlite":
            return  # PostgreSQL chooses by statistics; an empty table says little
        compiled = query.compile(conn, compile_kwargs={"render_postcompile": True})
        plan = conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + str(compiled), tuple(compiled.construct_params().values())
        ).all()
    assert any("ix_events_open_dup" in str(row) for row in plan), plan
