"""PostgreSQL pool: a connection that died while idle in the pool is replaced before use
(pinged when idle, not on every checkout), and one just returned goes out unpinged."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import URL, create_engine

import gis_core.storage.engine as engine_module
from gis_core.storage.engine import make_engine
from tests.db_fixtures import postgis_schema


def test_a_connection_killed_while_idle_is_replaced(
    postgis_url: URL, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "PING_IDLE_S", 0.2)
    with postgis_schema(postgis_url, "pool") as url:
        engine = make_engine(url)
        pings: list[int] = []
        original = engine.dialect.do_ping

        def counting(dbapi):  # type: ignore[no-untyped-def]
            pings.append(1)
            return original(dbapi)

        monkeypatch.setattr(engine.dialect, "do_ping", counting)
        try:
            with engine.connect() as conn:
                pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
            with engine.connect() as conn:  # returned moments ago: no ping
                assert conn.exec_driver_sql("SELECT pg_backend_pid()").scalar() == pid
            assert pings == []
            admin = create_engine(postgis_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})")
            admin.dispose()
            time.sleep(0.3)  # idle past the threshold: pinged, found dead, replaced
            with engine.connect() as conn:
                assert conn.exec_driver_sql("SELECT 1").scalar() == 1
                assert conn.exec_driver_sql("SELECT pg_backend_pid()").scalar() != pid
            assert len(pings) >= 1
        finally:
            engine.dispose()
