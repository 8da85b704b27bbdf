"""Shared by the HTTP benchmarks: start `gridgov serve`, drive it with wrk, interleave.

Every figure is a median of interleaved rounds (path A, path B, path A, ...), so a burst
of load from the other sessions on this shared machine hits both sides alike.
"""

from __future__ import annotations

import math
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from statistics import median
from uuid import uuid4

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, tries: int = 300) -> None:
    """Poll GET ``url`` until it answers 200 (at most ``tries`` times, 0.2 s apart)."""
    for _ in range(tries):
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)


@contextmanager
def running(cmd: list[str], env: dict[str, str], base: str, ready: str) -> Iterator[str]:
    """Start ``cmd``; yield ``base`` once GET ``base + ready`` answers 200; stop it after."""
    server = subprocess.Popen(cmd, env=env)
    try:
        wait_ready(f"{base}{ready}")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


@contextmanager
def served(url: str, workers: int = 2, env: dict[str, str] | None = None) -> Iterator[str]:
    """`gridgov serve --workers N` on ``url``; yields the base URL; stopped afterwards."""
    port = free_port()
    environ = os.environ | {"GRIDGOV_DATABASE_URL": url} | (env or {})
    cmd = [sys.executable, "-m", "gis_core.cli", "serve", "--port", str(port)]
    cmd += ["--workers", str(workers), "--log-level", "warning"]
    with running(cmd, environ, f"http://127.0.0.1:{port}", "/readyz") as base:
        yield base


def wrk(
    url: str,
    duration: int,
    connections: int,
    script: Path | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, float]:
    """One wrk run: req/s, p50/p99 ms, non-2xx and timed-out requests (wrk leaves those
    out of its percentiles, so they are reported beside them)."""
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "10s"]
    for k, v in (headers or {}).items():
        cmd += ["-H", f"{k}: {v}"]
    if script is not None:
        cmd += ["-s", str(script)]
    text = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout

    def ms(label: str) -> float:
        m = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", text)
        if m is None:
            return math.nan
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    timeouts = re.search(r"timeout (\d+)", text)
    return {
        "req/s": rps,
        "p50 ms": ms("50"),
        "p99 ms": ms("99"),
        "non-2xx": int(non2xx.group(1)) if non2xx else 0,
        "timeouts (10 s)": int(timeouts.group(1)) if timeouts else 0,
    }


def interleaved(
    runs: dict[str, Callable[[], dict[str, float]]], rounds: int, settle_s: float = 2.0
) -> dict[str, dict[str, float]]:
    """Each run ``rounds`` times, alternating; per run the median of every figure.

    ``settle_s`` between runs: a server still answering the requests the previous run's
    client left queued (a slow run ends with a backlog) would charge them to the next."""
    seen: dict[str, list[dict[str, float]]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            time.sleep(settle_s)
            seen[name].append(run())
    return {
        name: {k: median(r[k] for r in results) for k in results[0]}
        for name, results in seen.items()
    }


def load_note() -> str:
    """The machine's load average when the figures were taken (they are noisy)."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min) / {five:.1f} (5 min) on {os.cpu_count()} cores"


PG_ADMIN = os.environ.get(
    "GRIDGOV_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
"""The server's maintenance database: temporary databases are created and dropped from it."""


@contextmanager
def temp_postgis(prefix: str = "gridgov_bench", admin_url: str | None = None) -> Iterator[str]:
    """A fresh, uniquely named PostgreSQL database with PostGIS; yields its URL, drops it
    after (``WITH (FORCE)``: servers still connected to it do not keep it alive).

    Unique names let several benchmarks (and the test suite) share one server at once.
    """
    from sqlalchemy import create_engine

    from gis_core.storage.engine import resolve_url

    base = resolve_url(admin_url or PG_ADMIN)
    name = f"{prefix}_{uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            url = base.set(database=name)
            engine = create_engine(url)
            try:
                with engine.begin() as conn:
                    conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
            finally:
                engine.dispose()
            yield url.render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()
