"""PostGIS layout of ``field_fixes``: one BRIN-indexed table (what gridgov uses) beside a
table partitioned by day (declarative, a B-tree per partition), same rows.

Rows are generated in SQL (a fix every 10 s per member: 4.3 M rows a day for 500
members; default 100 members x 2 days = 1.7 M rows, to stay under 2 minutes) into a scratch
schema that is dropped at the end. Printed per layout: load time, index size, one
member's day (replay), one day's fixes (coverage input), the last fix per member over
an hour (positions), and retention of the oldest day (DELETE vs DROP partition).

The machine is shared (2 cores, several sessions): figures are noisy; run twice.

    python benchmarks/bench_field_layout.py --pg postgresql+psycopg://postgres@127.0.0.1/postgres
"""

from __future__ import annotations

import argparse
import time
import uuid

from sqlalchemy import create_engine, text

START = "2026-11-01 00:00:00+08"


def timed(conn, sql: str, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    """Best of ``repeat`` runs, ms (the first run warms the cache)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        conn.execute(text(sql)).fetchall()
        best = min(best, time.perf_counter() - t0)
    return best * 1000


def generate(table: str, members: int, days: int) -> str:
    return f"""
        INSERT INTO {table} (member_id, t, lon, lat)
        SELECT m, timestamptz '{START}' + make_interval(secs => s * 10),
               117.28 + (m % 50) * 0.001 + (s % 60) * 0.00001, 31.85 + (m / 50) * 0.001
        FROM generate_series(1, {members}) m,
             generate_series(0, {days} * 8640 - 1) s
    """


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pg", required=True)
    ap.add_argument("--members", type=int, default=100)
    ap.add_argument("--days", type=int, default=2)
    args = ap.parse_args()
    schema = f"bench_layout_{uuid.uuid4().hex[:8]}"
    engine = create_engine(args.pg)
    rows = args.members * args.days * 8640
    try:
        with engine.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
            conn.execute(text(f"SET search_path TO {schema}"))
            cols = (
                "id bigserial, member_id int NOT NULL, t timestamptz NOT NULL, "
                "lon float8, lat float8"
            )
            conn.execute(
                text(f"CREATE TABLE brin_fixes ({cols}, PRIMARY KEY (id), UNIQUE (member_id, t))")
            )
            conn.execute(text("CREATE INDEX ON brin_fixes USING brin (t)"))
            conn.execute(
                text(
                    f"CREATE TABLE part_fixes ({cols}, PRIMARY KEY (id, t), UNIQUE (member_id, t)) "
                    "PARTITION BY RANGE (t)"
                )
            )
            for d in range(args.days + 1):
                conn.execute(
                    text(
                        f"CREATE TABLE part_fixes_{d} PARTITION OF part_fixes FOR VALUES FROM "
                        f"(timestamptz '{START}' + interval '{d} day') TO "
                        f"(timestamptz '{START}' + interval '{d + 1} day')"
                    )
                )
        print(
            f"{rows:,} fixes ({args.members} members x {args.days} days, every 10 s); "
            "PostgreSQL on a shared 2-core machine: noisy"
        )
        results: dict[str, dict[str, float]] = {}
        for table in ("brin_fixes", "part_fixes"):
            r: dict[str, float] = {}
            with engine.begin() as conn:
                conn.execute(text(f"SET search_path TO {schema}"))
                t0 = time.perf_counter()
                conn.execute(text(generate(table, args.members, args.days)))
                r["load_s"] = time.perf_counter() - t0
            with engine.begin() as conn:
                conn.execute(text(f"SET search_path TO {schema}"))
                conn.execute(text(f"ANALYZE {table}"))
                size = conn.execute(
                    text(
                        "SELECT sum(pg_indexes_size(c.oid)) FROM pg_class c "
                        "JOIN pg_namespace n ON n.oid = c.relnamespace "
                        f"WHERE n.nspname = '{schema}' AND c.relkind = 'r' "
                        f"AND c.relname LIKE '{table}%'"
                    )
                ).scalar()
                r["index_mb"] = float(size or 0) / 2**20
                day2 = f"timestamptz '{START}' + interval '1 day'"
                r["replay_ms"] = timed(
                    conn,
                    f"SELECT t, lon, lat FROM {table} WHERE member_id = 7 "
                    f"AND t >= {day2} AND t < {day2} + interval '1 day' ORDER BY t",
                )
                r["day_ms"] = timed(
                    conn,
                    f"SELECT member_id, t, lon, lat FROM {table} "
                    f"WHERE t >= {day2} AND t < {day2} + interval '1 day'",
                    repeat=2,
                )
                r["last_hour_ms"] = timed(
                    conn,
                    f"SELECT DISTINCT ON (member_id) member_id, t FROM {table} "
                    f"WHERE t >= {day2} + interval '23 hour' AND t < {day2} + interval '1 day' "
                    "ORDER BY member_id, t DESC",
                )
                t0 = time.perf_counter()
                if table == "brin_fixes":
                    conn.execute(
                        text(
                            f"DELETE FROM {table} "
                            f"WHERE t < timestamptz '{START}' + interval '1 day'"
                        )
                    )
                else:
                    conn.execute(text("DROP TABLE part_fixes_0"))
                r["retention_ms"] = (time.perf_counter() - t0) * 1000
            results[table] = r
        keys = ("load_s", "index_mb", "replay_ms", "day_ms", "last_hour_ms", "retention_ms")
        print(f"{'layout':<32}" + "".join(f"{k:>14}" for k in keys))
        names = {"brin_fixes": "BRIN table (gridgov)", "part_fixes": "partitioned by day (peer)"}
        for table, r in results.items():
            print(f"{names[table]:<32}" + "".join(f"{r[k]:>14.1f}" for k in keys))
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        engine.dispose()


if __name__ == "__main__":
    main()
