"""The analysts' notebooks run from a clean checkout (nbclient + ipykernel) on a smaller
sample year, and every map they save opens in Chromium without a request to any host:
Leaflet and its plugins come from the copies gridgov ships."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from gis_core.analytics.maps import OfflineMap, heat_map_with_time
from tests.web.conftest import LOCAL_SCHEMES

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.I)
CSS_URL = re.compile(r"url\(\s*['\"]?(?:https?:)?//", re.I)


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    from gis_core.paths import SAMPLE_DIR
    from gis_core.sample_data.events.generator import generate_events

    work = tmp_path_factory.mktemp("notebooks")
    out = work / "out"
    sample = work / "events.parquet"  # generated once here, not in each notebook
    generate_events(SAMPLE_DIR, n=15000, year=2025, seed=20260701).to_parquet(sample)
    env = {"GRIDGOV_NB_EVENTS": "15000", "GRIDGOV_NB_OUT": str(out),
           "GRIDGOV_NB_EVENTS_FILE": str(sample),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
           "MPLBACKEND": "Agg"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    results = {}
    try:
        for path in NOTEBOOKS:
            shutil.copy(path, work / path.name)
            nb = nbformat.read(work / path.name, as_version=4)
            NotebookClient(nb, timeout=300, kernel_name="python3",
                           resources={"metadata": {"path": str(work)}}).execute()
            results[path.name] = nb
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return out, results


def test_the_promised_notebooks_exist():
    names = {p.name for p in NOTEBOOKS}
    assert {"01_quickstart.ipynb", "02_hotspots.ipynb", "03_emerging_hotspots.ipynb",
            "04_recurrent_problems.ipynb", "05_workload_vs_staff.ipynb"} <= names
    for path in NOTEBOOKS:  # committed without outputs: a clean clone runs them afresh
        nb = nbformat.read(path, as_version=4)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")


def test_notebooks_execute_without_errors_and_reference_no_external_url(executed):
    out, results = executed
    assert set(results) == {p.name for p in NOTEBOOKS}
    for name, nb in results.items():
        for cell in nb.cells:
            for output in cell.get("outputs", []):
                assert output.get("output_type") != "error", (name, output)
                html = output.get("data", {}).get("text/html", "")
                assert not EXTERNAL.search(html), name
    saved = sorted(out.glob("*.html"))
    assert len(saved) >= 7
    for path in saved:
        text = path.read_text("utf-8")
        assert not EXTERNAL.search(text), path.name
        assert not CSS_URL.search(text), path.name
        assert "cdn.jsdelivr" not in text and "cdnjs" not in text, path.name
    # the hot-spot notebook found hot spots on the sample year and printed its defaults
    hot = results["02_hotspots.ipynb"]
    printed = "".join(o.get("text", "") for c in hot.cells for o in c.get("outputs", []))
    assert "'permutations': 999" in printed and "'fdr': True" in printed


def test_saved_maps_render_offline_in_chromium(executed, chromium):
    out, _ = executed
    for path in sorted(out.glob("*.html")):
        page = chromium.new_page()
        requests: list[str] = []
        page.on("request", lambda r, acc=requests: acc.append(r.url))
        errors: list[str] = []
        page.on("pageerror", lambda e, acc=errors: acc.append(str(e)))
        page.goto(path.as_uri())
        page.wait_for_selector(".leaflet-container", timeout=15_000)
        page.wait_for_function(
            "() => document.querySelectorAll('.leaflet-interactive, canvas').length > 0",
            timeout=15_000)
        foreign = [u for u in requests if not u.startswith((*LOCAL_SCHEMES, "file:"))]
        assert foreign == [], (path.name, foreign)
        assert errors == [], (path.name, errors)
        page.close()


def test_time_slider_font_and_images_are_inlined(tmp_path):
    import pandas as pd

    ev = pd.DataFrame({"lon": [117.3, 117.31], "lat": [31.8, 31.81],
                       "reported_at": pd.to_datetime(["2025-01-05", "2025-02-05"]).tz_localize(
                           "Asia/Shanghai")})
    m = heat_map_with_time(ev)
    m.save(tmp_path / "t.html")
    text = (tmp_path / "t.html").read_text("utf-8")
    assert "data:text/css;base64" in text and "data:text/javascript;base64" in text
    assert not EXTERNAL.search(text)
    assert isinstance(m, OfflineMap)
