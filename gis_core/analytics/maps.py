"""Folium maps for analysts that open on an offline network.

folium's defaults load about ten scripts and styles from public CDNs (Leaflet, jQuery,
Bootstrap, Font Awesome, awesome-markers, the heat-map plugins ...). :class:`OfflineMap`
replaces every one of them, just before rendering, with a ``data:`` URI of the copy
shipped in ``gis_core/analytics/vendor/`` (see its README for versions and licences), so
a map shown in a notebook or saved with ``.save()`` is one self-contained file.
Leaflet's CSS images and the time slider's Glyphicons font are inlined the same way.

Assets that only style icon markers and Bootstrap popups (Bootstrap, Font Awesome,
awesome-markers) are not shipped and are dropped: gridgov's maps draw
polygons, circles and heat layers. Any other asset folium asks for and gridgov does not
ship raises :class:`MissingAsset`, so a new plugin cannot silently reach a CDN. There is
no base-map by default (``tiles=None``); pass a local tile server's URL template to
``tiles`` for one.
"""

from __future__ import annotations

import base64
import re
from functools import cache
from pathlib import Path
from typing import Any

import folium
import folium.plugins
import numpy as np
import pandas as pd

VENDOR = Path(__file__).with_name("vendor")

LOCAL = {
    "leaflet.js": "leaflet.js",
    "leaflet.css": "leaflet.css",
    "leaflet_heat.min.js": "leaflet_heat.min.js",
    "jquery-3.7.1.min.js": "jquery.min.js",
    "jquery.min.js": "jquery.min.js",
    "iso8601.min.js": "iso8601.js",
    "leaflet.timedimension.min.js": "leaflet.timedimension.min.js",
    "leaflet.timedimension.control.css": "leaflet.timedimension.control.min.css",
    "leaflet.timedimension.control.min.css": "leaflet.timedimension.control.min.css",
    "pa7_hm.min.js": "pa7_hm.min.js",
    "pa7_leaflet_hm.min.js": "pa7_leaflet_hm.min.js",
}
"""The file name at the end of folium's URL -> the shipped copy."""

DROPPED = (
    "bootstrap",
    "awesome-markers",
    "fontawesome",
    "all.min.css",
    "glyphicons",
    "awesome.rotate",
)
"""Parts of URLs of assets that are dropped, not shipped (icon markers, Bootstrap)."""

HOTSPOT_COLOURS = {
    -3: "#4575b5", -2: "#849eba", -1: "#c0ccbe", 0: "#f2f2f2",
    1: "#fab984", 2: "#ed7551", 3: "#d62f27",
}
"""Esri's hot-spot colours per confidence bin."""
BIN_LABELS = {
    -3: "冷点 99%", -2: "冷点 95%", -1: "冷点 90%", 0: "不显著",
    1: "热点 90%", 2: "热点 95%", 3: "热点 99%",
}


class MissingAsset(LookupError):
    """folium wants an asset gridgov does not ship (it would load from a CDN)."""


def _data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _inline_css_urls(css: str) -> str:
    """Leaflet's image urls and the Glyphicons font as data URIs; any other url dropped."""
    font = _data_uri((VENDOR / "glyphicons-halflings-regular.woff2").read_bytes(), "font/woff2")
    css = re.sub(
        r"@font-face\{font-family:'Glyphicons Halflings';[^}]*\}",
        "@font-face{font-family:'Glyphicons Halflings';"
        f"src:url({font}) format('woff2')}}",
        css,
    )

    def image(match: re.Match[str]) -> str:
        ref = match.group(1).strip("'\"")
        if ref.startswith("data:"):
            return match.group(0)
        path = VENDOR / ref
        if ref.startswith("images/") and path.exists():
            return f"url({_data_uri(path.read_bytes(), 'image/png')})"
        return "url()"

    return re.sub(r"url\(([^)]*)\)", image, css)


@cache
def local_uri(name: str) -> str:
    """The shipped asset ``name`` (see LOCAL's values) as a data URI."""
    path = VENDOR / name
    if name.endswith(".css"):
        return _data_uri(_inline_css_urls(path.read_text("utf-8")).encode("utf-8"), "text/css")
    return _data_uri(path.read_bytes(), "text/javascript")


def _localise(links: list[tuple[str, str]]) -> list[tuple[str, str]]:
    out = []
    for name, url in links:
        if url.startswith("data:"):
            out.append((name, url))
            continue
        base = url.rsplit("/", 1)[-1].split("?", 1)[0]
        if base in LOCAL:
            out.append((name, local_uri(LOCAL[base])))
        elif any(part in url.lower() for part in DROPPED):
            continue
        else:
            raise MissingAsset(f"{name}: {url} is not shipped with gridgov")
    return out


def localise_tree(element: Any) -> None:
    """Point every asset of ``element`` and its descendants at the shipped copies."""
    for attr in ("default_js", "default_css"):
        links = getattr(element, attr, None)
        if links:
            setattr(element, attr, _localise(list(links)))
    for child in list(getattr(element, "_children", {}).values()):
        localise_tree(child)


class OfflineMap(folium.Map):
    """A folium Map whose assets all come from the shipped copies (no base-map unless
    ``tiles`` is given, e.g. a local tile server's URL template)."""

    def __init__(self, *args: Any, tiles: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("control_scale", True)
        super().__init__(*args, tiles=tiles, **kwargs)

    def render(self, **kwargs: Any) -> None:
        localise_tree(self)
        super().render(**kwargs)


def _centre(gdf: Any) -> list[float]:
    minx, miny, maxx, maxy = gdf.total_bounds
    return [(miny + maxy) / 2, (minx + maxx) / 2]


def hotspot_map(table: Any, zoom_start: int = 12) -> OfflineMap:
    """Gi* bins (a HotspotResult's ``table``) coloured as Esri does, with tooltips."""
    m = OfflineMap(location=_centre(table), zoom_start=zoom_start)
    data = table[["unit", "count", "z", "p", "bin", "geometry"]].copy()
    data["z"] = data["z"].round(2)
    data["p"] = data["p"].map(lambda v: f"{v:.2g}")
    data["label"] = data["bin"].map(BIN_LABELS)
    folium.GeoJson(
        data.to_json(),
        style_function=lambda f: {
            "fillColor": HOTSPOT_COLOURS[int(f["properties"]["bin"])],
            "color": "#888", "weight": 0.5, "fillOpacity": 0.75,
        },
        tooltip=folium.GeoJsonTooltip(["unit", "count", "z", "p", "label"],
                                      aliases=["单元", "事件数", "z", "p", "置信度"]),
        name="Gi* 热点",
    ).add_to(m)
    return m


def choropleth_map(table: Any, column: str, alias: str, zoom_start: int = 12) -> OfflineMap:
    """Units shaded by ``column`` (quantile classes, yellow to red), with tooltips."""
    m = OfflineMap(location=_centre(table), zoom_start=zoom_start)
    data = table[["unit", column, "geometry"]].copy()
    values = data[column].astype(float)
    ramp = ["#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026"]
    ranks = values.rank(pct=True, method="average").fillna(0).to_numpy()
    data["colour"] = [ramp[min(int(r * len(ramp)), len(ramp) - 1)] for r in ranks]
    data[column] = values.round(2)
    folium.GeoJson(
        data.to_json(),
        style_function=lambda f: {"fillColor": f["properties"]["colour"], "color": "#777",
                                  "weight": 0.4, "fillOpacity": 0.7},
        tooltip=folium.GeoJsonTooltip(["unit", column], aliases=["单元", alias]),
        name=alias,
    ).add_to(m)
    return m


def heat_map(events: pd.DataFrame, radius: int = 12, zoom_start: int = 12) -> OfflineMap:
    """folium's HeatMap of event locations."""
    pts = events[["lat", "lon"]].dropna().to_numpy()
    m = OfflineMap(location=[float(np.median(pts[:, 0])), float(np.median(pts[:, 1]))],
                   zoom_start=zoom_start)
    folium.plugins.HeatMap(pts.tolist(), radius=radius, name="热力图").add_to(m)
    return m


def heat_map_with_time(
    events: pd.DataFrame, freq: str = "M", max_points: int = 4000, seed: int = 0,
    zoom_start: int = 12,
) -> OfflineMap:
    """HeatMapWithTime, one frame per period (a seeded sample of at most ``max_points``
    events per frame keeps the file small)."""
    ev = events.dropna(subset=["lon", "lat"])
    periods = ev["reported_at"].dt.tz_localize(None).dt.to_period(freq)
    frames, index = [], []
    rng = np.random.default_rng(seed)
    for period, part in ev.groupby(periods):
        pts = part[["lat", "lon"]].to_numpy()
        if len(pts) > max_points:
            pts = pts[rng.choice(len(pts), max_points, replace=False)]
        frames.append(pts.round(6).tolist())
        index.append(str(period))
    m = OfflineMap(location=[float(ev["lat"].median()), float(ev["lon"].median())],
                   zoom_start=zoom_start)
    folium.plugins.HeatMapWithTime(frames, index=index, radius=10, auto_play=False,
                                   name="逐月热力").add_to(m)
    return m


__all__ = [
    "HOTSPOT_COLOURS",
    "MissingAsset",
    "OfflineMap",
    "choropleth_map",
    "heat_map",
    "heat_map_with_time",
    "hotspot_map",
    "local_uri",
    "localise_tree",
]
