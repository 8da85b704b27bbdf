"""The offline basemap in a real browser: with no basemap URL configured the console
draws the service's own roads, rivers and Chinese place names, and asks no other host.

The console server of ``tests/web/conftest.py`` has no ``GRIDGOV_BASEMAP_URL``; its
``page`` fixture fails a test whose page requested anything outside 127.0.0.1.
"""

from __future__ import annotations

import io
import json
import re

import numpy as np
import pytest
from shapely.geometry import shape

from gis_core.paths import SAMPLE_DIR
from tests.web.conftest import STREET_A, ConsolePage

CJK = re.compile(r"^[\u4e00-\u9fff]+$")
BASEMAP_STYLE_LAYERS = [
    "rivers-fill",
    "roads-line",
    "place_names-street",
    "place_names-community",
]


def _river_view() -> tuple[float, float]:
    """A point on the first sample river: the view then holds a river, roads and labels."""
    data = json.loads((SAMPLE_DIR / "rivers.geojson").read_text(encoding="utf-8"))
    p = shape(data["features"][0]["geometry"]).representative_point()
    return p.x, p.y


def _pixels(console: ConsolePage) -> np.ndarray:
    from PIL import Image

    png = console.page.locator("#map").screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)


def _set_visible(console: ConsolePage, layers: list[str], on: bool) -> None:
    console.js(
        """([ids, on]) => { const m = window.gridgovConsole.state.map.map;
          const value = on ? 'visible' : 'none';
          for (const id of ids) m.setLayoutProperty(id, 'visibility', value); }""",
        [layers, on],
    )
    console.wait_map_idle()
    console.page.wait_for_timeout(500)


def test_no_basemap_url_draws_roads_rivers_and_chinese_labels(console: ConsolePage) -> None:
    console.login(f"dispatcher-{STREET_A}")
    lon, lat = _river_view()
    console.jump([lon, lat], 13.5)
    console.wait_map_idle()
    console.page.wait_for_function(  # labels are placed a frame or two after the tiles
        """() => window.gridgovConsole.state.map.map.queryRenderedFeatures(
             {layers: ['place_names-street', 'place_names-community']}).length > 0""",
        timeout=15_000,
    )
    drawn = console.js(
        """(ids) => { const m = window.gridgovConsole.state.map.map;
          const out = {};
          for (const id of ids) out[id] = m.queryRenderedFeatures({layers: [id]})
            .map(f => ({name: f.properties.name ?? null, kind: f.properties.kind ?? null}));
          out.glyphs = m.getStyle().glyphs;
          return out; }""",
        BASEMAP_STYLE_LAYERS,
    )
    assert drawn["rivers-fill"], "no river drawn"
    assert {r["name"] for r in drawn["rivers-fill"]} <= _sample_names("rivers")
    roads = drawn["roads-line"]
    assert len(roads) >= 3 and {"main", "minor"} <= {r["kind"] for r in roads}
    labels = drawn["place_names-street"] + drawn["place_names-community"]
    assert labels, "no place-name label drawn"
    names = {lbl["name"] for lbl in labels}
    assert all(CJK.match(n) for n in names), names
    assert names <= _sample_names("place_names")
    # Glyphs come from the service itself (and CJK text from the browser's fonts).
    assert drawn["glyphs"].startswith(console.server.base + "/tiles/glyphs/")
    asked = [u for u in console.requests if "/tiles/" in u]
    for layer in ("rivers", "roads", "place_names"):
        assert any(f"/tiles/{layer}/" in u for u in asked), f"no {layer} tile requested"

    # Pixels: the basemap, and its labels alone, change what the map shows.
    with_all = _pixels(console)
    _set_visible(console, ["place_names-street", "place_names-community"], False)
    no_labels = _pixels(console)
    _set_visible(console, ["rivers-fill", "rivers-line", "roads-line", "roads-label"], False)
    bare = _pixels(console)
    _set_visible(console, [*BASEMAP_STYLE_LAYERS, "rivers-line", "roads-label"], True)
    label_px = int((np.abs(with_all - no_labels).sum(axis=2) > 60).sum())
    basemap_px = int((np.abs(no_labels - bare).sum(axis=2) > 30).sum())
    assert label_px > 500, f"labels drew only {label_px} pixels"
    assert basemap_px > 5_000, f"roads and rivers drew only {basemap_px} pixels"
    # Dark text pixels exist where labels are (glyphs were rendered, not empty boxes).
    dark = (with_all.sum(axis=2) < 250) & (np.abs(with_all - no_labels).sum(axis=2) > 60)
    assert int(dark.sum()) > 100


def test_the_basemap_toggle_hides_the_offline_layers(console: ConsolePage) -> None:
    console.login(f"dispatcher-{STREET_A}")
    console.wait_map_idle()
    toggle = console.page.locator(".layer-toggles input[data-layer='basemap']")
    assert toggle.is_checked()
    toggle.uncheck()
    hidden = console.js(
        """(ids) => { const m = window.gridgovConsole.state.map.map;
          return ids.map(id => m.getLayoutProperty(id, 'visibility')); }""",
        BASEMAP_STYLE_LAYERS,
    )
    assert hidden == ["none"] * len(BASEMAP_STYLE_LAYERS)


def _sample_names(layer: str) -> set[str]:
    data = json.loads((SAMPLE_DIR / f"{layer}.geojson").read_text(encoding="utf-8"))
    return {f["properties"]["name"] for f in data["features"]}


@pytest.fixture(autouse=True)
def _pillow() -> None:
    pytest.importorskip("PIL")
