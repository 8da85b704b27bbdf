"""Two `gridgov serve` nodes on one PostGIS database behind a round-robin proxy behave as
one (issue 15): a login on node A is good on node B, an API key's rate and the login
guard are counted across both, an event accepted on A appears on B's live stream, and a
generation switch is seen by both (their tile caches and lookups).

Real processes on free ports: the nodes (`python -m gis_core.cli serve`, one worker each,
``GRIDGOV_SHARED_STATE=database``) and ``scripts/rr_proxy.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import URL

from gis_core.auth import Accounts, Rate
from gis_core.boundaries.sources import DirectorySource
from gis_core.paths import SAMPLE_DIR
from gis_core.sample_data.seeding import LEVEL_FILES, seed_store
from gis_core.storage import Store
from tests.db_fixtures import postgis_schema

ROOT = Path(__file__).resolve().parents[2]
SECRET = "scale-out-test-secret-" + "s" * 32
PASSWORD = "scale-out-password-1"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    a: str
    b: str
    proxy: str
    key: str
    url: URL
    point: tuple[float, float]


def _wait_ready(base: str, proc: subprocess.Popen[bytes], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{base}: the server exited with {proc.returncode}")
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{base} not ready after {seconds} s")


@pytest.fixture(scope="module")
def cluster(postgis_url: URL) -> Iterator[Cluster]:
    with postgis_schema(postgis_url, "scale") as url:
        store = Store(url)
        seed_store(store, components=False)
        accounts = Accounts(store)
        accounts.add_user("disp-a", PASSWORD, "dispatcher", "340111")
        _, key = accounts.create_key("limited", "locate", Rate(5, 60))
        grids = store.read_admin_layer("grid")
        p = grids.geometry.iloc[0].representative_point()
        store.dispose()
        env = os.environ | {
            "GRIDGOV_DATABASE_URL": url.render_as_string(hide_password=False),
            "GRIDGOV_SECRET_KEY": SECRET,  # every node signs and checks with one secret
            "GRIDGOV_SHARED_STATE": "database",
            "GRIDGOV_LOGIN_RATE": "4/min",
            "GRIDGOV_PLANNING_WATCH_SECONDS": "0.3",
            "GRIDGOV_STREAM_POLL_SECONDS": "0.2",
            "PYTHONPATH": str(ROOT),
        }
        procs: list[subprocess.Popen[bytes]] = []
        try:
            nodes = []
            for _ in range(2):
                port = free_port()
                cmd = [sys.executable, "-m", "gis_core.cli", "serve", "--port", str(port)]
                cmd += ["--log-level", "warning"]
                procs.append(subprocess.Popen(cmd, env=env, cwd=ROOT))
                nodes.append(f"http://127.0.0.1:{port}")
            listen = free_port()
            proxy_cmd = [sys.executable, str(ROOT / "scripts" / "rr_proxy.py")]
            proxy_cmd += ["--listen", f"127.0.0.1:{listen}"]
            for node in nodes:
                proxy_cmd += ["--backend", node.removeprefix("http://")]
            procs.append(subprocess.Popen(proxy_cmd, cwd=ROOT))
            for node, proc in zip(nodes, procs, strict=False):
                _wait_ready(node, proc)
            proxy = f"http://127.0.0.1:{listen}"
            _wait_ready(proxy, procs[-1], 30)
            yield Cluster(nodes[0], nodes[1], proxy, key, url, (p.x, p.y))
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()


def _fresh(method: str, url: str, **kwargs: object) -> httpx.Response:
    """One request on its own connection (through the proxy: the next node in turn)."""
    with httpx.Client(timeout=30) as client:
        return client.request(method, url, **kwargs)  # type: ignore[arg-type]


def _login(base: str, password: str = PASSWORD) -> httpx.Response:
    return _fresh(
        "POST", f"{base}/v1/auth/token", data={"username": "disp-a", "password": password}
    )


def test_a_login_on_one_node_is_good_on_the_other(cluster: Cluster) -> None:
    r = _login(cluster.a)
    assert r.status_code == 200, r.text
    bearer = {"Authorization": f"Bearer {r.json()['access_token']}"}
    for base in (cluster.b, cluster.proxy, cluster.proxy):
        me = _fresh("GET", f"{base}/v1/auth/me", headers=bearer)
        assert me.status_code == 200 and me.json()["name"] == "disp-a"


def test_an_api_key_rate_is_counted_across_nodes(cluster: Cluster) -> None:
    headers = {"X-API-Key": cluster.key}
    lon, lat = cluster.point
    query = f"/v1/locate?lon={lon}&lat={lat}"
    codes = [
        _fresh("GET", f"{base}{query}", headers=headers).status_code
        for base in (cluster.a, cluster.b, cluster.a, cluster.b, cluster.a)
    ]
    assert codes == [200] * 5  # 5/min: the whole allowance, spent on two nodes
    for base in (cluster.b, cluster.a, cluster.proxy, cluster.proxy):
        r = _fresh("GET", f"{base}{query}", headers=headers)
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1


def test_an_event_accepted_on_one_node_is_streamed_by_the_other(cluster: Cluster) -> None:
    token = _login(cluster.a).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    lon, lat = cluster.point
    report = {"source": "12345", "category_code": "09006", "lon": lon, "lat": lat}
    with (
        httpx.Client(timeout=30) as b_client,
        b_client.stream(
            "GET", f"{cluster.b}/v1/events/stream?max_seconds=30", headers=bearer
        ) as stream,
    ):
        assert stream.status_code == 200
        lines = stream.iter_lines()
        for line in lines:  # the opening message (the cursor): B's feed is positioned
            if line.startswith("id:"):
                break
        created = _fresh("POST", f"{cluster.a}/v1/events", json=report, headers=bearer)
        assert created.status_code == 201, created.text
        wanted = created.json()["id"]
        kind = None
        for line in lines:
            if line.startswith("event:"):
                kind = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and line[5:].strip():
                event = json.loads(line[5:])
                if event.get("id") == wanted:
                    assert kind == "created"
                    break
        else:
            pytest.fail("node B's stream ended without the event accepted on node A")


def test_the_login_guard_counts_attempts_on_every_node(cluster: Cluster) -> None:
    """4 attempts a minute per address (GRIDGOV_LOGIN_RATE), whichever node they reach;
    earlier tests' logins from this address count too."""
    seen = []
    for base in (cluster.a, cluster.b, cluster.a, cluster.b, cluster.a, cluster.b):
        seen.append(_login(base, "wrong-password").status_code)
    assert 429 in seen
    first = seen.index(429)
    assert set(seen[:first]) <= {400} and set(seen[first:]) == {429}
    assert _login(cluster.proxy).status_code == 429  # also through the proxy


def test_a_generation_switch_is_seen_by_both_nodes(cluster: Cluster) -> None:
    lon, lat = cluster.point
    tile = _tile_of(lon, lat, 14)
    before = {base: _fresh("GET", base + tile) for base in (cluster.a, cluster.b)}
    assert all(r.status_code == 200 for r in before.values())
    etags = {r.headers["ETag"] for r in before.values()}
    assert len(etags) == 1  # the same tile, the same content hash, on both nodes
    again = _fresh("GET", cluster.a + tile)  # now from A's cache
    assert again.headers["ETag"] in etags
    # A planner switches generation (any node, or the CLI): the grids are renamed.
    store = Store(cluster.url)
    try:
        files = DirectorySource(SAMPLE_DIR)
        layers = {level: files.layer(name) for level, name in LEVEL_FILES.items()}
        layers["grid"]["name"] = layers["grid"]["name"] + " (新)"
        gen = store.create_generation("2026-scale-out", activate=False)
        store.load_admin_units(gen, layers)
        store.activate_generation(gen)
    finally:
        store.dispose()
    deadline = time.monotonic() + 40
    fresh: dict[str, str] = {}
    while time.monotonic() < deadline and len(fresh) < 2:
        for base in (cluster.a, cluster.b):
            r = _fresh("GET", base + tile)
            if r.status_code == 200 and r.headers["ETag"] not in etags:
                fresh[base] = r.headers["ETag"]
        time.sleep(0.3)
    assert len(fresh) == 2, f"only {sorted(fresh)} drew the new generation's tile"
    assert len(set(fresh.values())) == 1
    lon, lat = cluster.point
    for base in (cluster.a, cluster.b, cluster.proxy, cluster.proxy):  # lookups switched too
        r = _fresh("GET", f"{base}/v1/locate?lon={lon}&lat={lat}")
        assert r.status_code == 200 and r.json()["generation"] == "2026-scale-out"


def _tile_of(lon: float, lat: float, z: int) -> str:
    import math

    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return f"/tiles/grids/{z}/{x}/{y}.mvt"
