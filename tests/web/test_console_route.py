"""The routes serving the console (no browser): page, configuration, assets, CSP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.routers.console import content_security_policy
from api.settings import ApiSettings
from gis_core.storage import Store


@pytest.fixture(scope="module")
def empty_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('console-db') / 'gridgov.sqlite'}"
    with Store(url) as store:
        store.upgrade()
    return url


def _client(url: str, **settings: str) -> Iterator[TestClient]:
    app = create_app(ApiSettings(_env_file=None, database_url=url, **settings))
    with TestClient(app) as client:
        yield client


@pytest.fixture(scope="module")
def client(empty_db: str) -> Iterator[TestClient]:
    yield from _client(empty_db)


def test_page_and_assets(client: TestClient) -> None:
    r = client.get("/console", follow_redirects=False)
    assert r.status_code == 307
    r = client.get("/console/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert 'lang="zh-CN"' in r.text
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    # Every script and style the page names is served by us, from the build.
    for ref in ("assets/console.js", "assets/console.css", "assets/vendor/maplibre-gl.js"):
        assert ref in r.text
        asset = client.get(f"/console/{ref}")
        assert asset.status_code == 200 and len(asset.content) > 1000, ref
    assert (
        client.get("/console/assets/console.js")
        .headers["content-type"]
        .startswith("text/javascript")
    )
    assert client.head("/console/").status_code == 200


@pytest.mark.parametrize(
    "path", ["nope.js", "../index.html", "..%2Findex.html", "vendor/../../index.html"]
)
def test_assets_stay_inside_the_build(client: TestClient, path: str) -> None:
    assert client.get(f"/console/assets/{path}").status_code == 404


def test_no_external_references_in_the_build() -> None:
    """The page and our bundle name no other host (MapLibre's own code only has links)."""
    dist = Path(__file__).resolve().parents[2] / "web" / "dist"
    for name in ("index.html", "assets/console.js", "assets/console.css"):
        text = (dist / name).read_text(encoding="utf-8")
        assert "http://" not in text and "https://" not in text, name
    assert "@font-face" not in (dist / "assets" / "vendor" / "maplibre-gl.css").read_text()


def test_config_defaults(client: TestClient) -> None:
    cfg = client.get("/console/config.json").json()
    assert cfg["basemap"] == {"url": None, "crs": "wgs84"}
    assert cfg["api_base"] == ""
    labels = cfg["labels"]
    assert labels["statuses"]["reported"] == "待受理"
    assert labels["actions"]["dispatch"] == "派遣"
    assert labels["sources"]["12345"].startswith("12345")
    assert labels["roles"]["dispatcher"]


def test_config_serves_the_case_vocabulary(client: TestClient) -> None:
    """The console's statuses, open/closed sets, reasons and code lengths: gis_core's."""
    from gis_core.cases.vocab import OPEN, REASON_REQUIRED, Action, Role, Status
    from gis_core.standards.codes import ADMIN_CODE_LENGTHS

    vocab = client.get("/console/config.json").json()["vocab"]
    statuses = [s["value"] for s in vocab["statuses"]]
    assert sorted(statuses) == sorted(Status) and statuses[0] == Status.REPORTED
    assert {s["value"]: s["label"] for s in vocab["statuses"]} == {s.value: s.label for s in Status}
    assert set(vocab["open"]) == set(OPEN)
    assert set(vocab["closed"]) == set(Status) - OPEN
    # Open statuses come first in the display order.
    assert statuses[: len(OPEN)] == vocab["open"]
    assert [a["value"] for a in vocab["actions"]] == list(Action)
    assert set(vocab["reason_required"]) == set(REASON_REQUIRED)
    assert {a["value"] for a in vocab["actions"] if a["reason_required"]} == set(REASON_REQUIRED)
    assert [r["value"] for r in vocab["roles"]] == list(Role)
    assert [lv["value"] for lv in vocab["levels"]] == ["community", "street", "district"]
    assert vocab["code_lengths"] == ADMIN_CODE_LENGTHS


def test_console_source_keeps_no_copy_of_the_vocabulary() -> None:
    """web/src takes statuses, labels and code lengths from the config, not constants."""
    src = Path(__file__).resolve().parents[2] / "web" / "src"
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(src.glob("*.js")))
    for copy in ("待受理", "已评价", "不予立案", "派遣员", '"evaluated"', '"merged"'):
        assert copy not in text, copy
    assert "STATUS_ORDER" not in text and "DEFAULT_LABELS" not in text


def test_config_with_a_gcj02_basemap(empty_db: str) -> None:
    url = "https://tiles.example.internal/amap/{z}/{x}/{y}.png"
    for client in _client(empty_db, basemap_url=url, basemap_crs="GCJ-02"):
        cfg = client.get("/console/config.json").json()
        assert cfg["basemap"] == {"url": url, "crs": "gcj02"}
        csp = client.get("/console/").headers["content-security-policy"]
        assert "img-src 'self' data: blob: https://tiles.example.internal" in csp
        assert "connect-src 'self' https://tiles.example.internal" in csp


def test_csp_ignores_a_malformed_basemap() -> None:
    assert "connect-src 'self';" in content_security_policy("not a url")
    assert "connect-src 'self';" in content_security_policy(None)
