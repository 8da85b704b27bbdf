"""GDAL's command-line tools as a GIS user runs them against gridgov (uvicorn subprocess
with its access log): ``ogr2ogr -where`` on an attribute and on a date reaches the server
as ``filter=`` (so fewer features travel), and ``ogrinfo`` lists the public collections
without an error."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlsplit

import pytest

from gis_core.storage import Store
from tests.api.conftest import url_text
from tests.live_server import serve

pytestmark = pytest.mark.skipif(
    shutil.which("ogr2ogr") is None and not os.environ.get("GRIDGOV_REQUIRE_BROWSER"),
    reason="GDAL command-line tools missing (apt-get install gdal-bin; scripts/test.sh does)",
)
REQUEST = re.compile(r'"GET (?P<path>\S+) HTTP/1\.1" (?P<status>\d{3})')


@pytest.fixture(scope="module")
def logged_server(
    seeded_db_url: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    log = tmp_path_factory.mktemp("gdal-cli") / "access.log"
    environ = {**os.environ, "GRIDGOV_DATABASE_URL": url_text(seeded_db_url)}
    with serve(environ, log, log_level="info") as base:
        yield base, log


def requests_since(log: Path, start: int, collection: str) -> list[dict[str, list[str]]]:
    """Query parameters of every items request for ``collection`` logged after ``start``."""
    lines = log.read_text(errors="replace")[start:]
    out = []
    for m in REQUEST.finditer(lines):
        parts = urlsplit(m["path"])
        if parts.path == f"/collections/{collection}/items":
            assert m["status"] == "200", m.group(0)
            out.append(parse_qs(parts.query))
    return out


def ogr2ogr(tmp: Path, source: str, layer: str, where: str) -> list[dict[str, Any]]:
    out = tmp / f"{layer}.geojson"
    subprocess.run(
        [
            "ogr2ogr",
            "-f",
            "GeoJSON",
            str(out),
            source,
            layer,
            "-where",
            where,
            "-oo",
            "PAGE_SIZE=1000",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return json.loads(out.read_text())["features"]


def test_ogr2ogr_where_on_an_attribute_and_a_date(
    logged_server: tuple[str, Path], seeded_store: Store, tmp_path: Path
) -> None:
    base, log = logged_server
    buildings = seeded_store.read_buildings()
    start = len(log.read_text(errors="replace"))
    got = ogr2ogr(tmp_path, f"OAPIF:{base}/collections/buildings", "buildings", "floors > 25")
    want = set(buildings.loc[buildings.floors > 25, "building_id"])
    assert {f["properties"]["building_id"] for f in got} == want
    sent = requests_since(log, start, "buildings")
    filtered = [q for q in sent if "filter" in q]  # GDAL also reads one page for the schema
    assert len(filtered) == 1 and len(sent) == 2
    assert unquote_plus(filtered[0]["filter"][0]).replace("(", "").replace(")", "") == "floors > 25"
    # 689 of 5,564 buildings: one filtered page of 1,000, not all six pages
    assert len(sent) < len(buildings) / 1000

    components = seeded_store.read_components()
    start = len(log.read_text(errors="replace"))
    got = ogr2ogr(
        tmp_path,
        f"OAPIF:{base}/collections/components",
        "components",
        "initial_date >= '2024-01-01'",
    )
    dates = components["initial_date"].astype(str)
    assert len(got) == int((dates >= "2024-01-01").sum())
    sent = requests_since(log, start, "components")
    filtered = [q for q in sent if "filter" in q]
    assert filtered and all("initial_date" in q["filter"][0] for q in filtered)
    assert len(sent) - len(filtered) == 1  # the schema page
    assert len(sent) < len(components) / 1000 / 2  # 2,971 of 10,296: 3 pages + 1, not 11


def test_ogrinfo_lists_public_collections_without_errors(logged_server: tuple[str, Path]) -> None:
    base, _ = logged_server
    run = subprocess.run(
        ["ogrinfo", "-ro", "-q", f"OAPIF:{base}"], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert "ERROR" not in run.stderr and "401" not in run.stderr
    listed = re.findall(r"^\d+: (\w+)", run.stdout, flags=re.M)
    admin = ["districts", "streets", "communities", "grids", "buildings", "components"]
    basemap = ["rivers", "roads", "place_names"]  # the offline basemap's layers
    assert listed == admin + basemap  # and never "events" for an anonymous client
