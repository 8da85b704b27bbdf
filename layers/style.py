"""How a layer looks, once, as data: MapLibre style layers and plain Leaflet path options.

A style is a fill/stroke/circle description whose colours and opacities may depend on a
feature property (:class:`ByProperty`, e.g. an event's light); it renders to MapLibre
style-spec layers (``match`` expressions) and to a Leaflet-friendly dict, so a web client
need not repeat the colours.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Paint = Any  # a constant (str/float) or a ByProperty
FONT_STACK = "gridgov-sans"
"""The one font stack text layers name; ``/tiles/glyphs`` serves it (CJK drawn locally)."""


@dataclass(frozen=True)
class ByProperty:
    """A value chosen by a property: ``values[feature[property]]`` or ``default``."""

    property: str
    values: Mapping[str, Any]
    default: Any

    def expression(self) -> list[Any]:
        """A MapLibre ``match`` expression (null and unknown values give ``default``)."""
        pairs: list[Any] = []
        for key, value in self.values.items():
            pairs += [key, value]
        return ["match", ["coalesce", ["get", self.property], ""], *pairs, self.default]

    def as_dict(self) -> dict[str, Any]:
        return {"property": self.property, "values": dict(self.values), "default": self.default}


def _paint(value: Paint) -> Any:
    return value.expression() if isinstance(value, ByProperty) else value


def _plain(value: Paint) -> Any:
    return value.as_dict() if isinstance(value, ByProperty) else value


@dataclass(frozen=True)
class Style:
    """Polygons get a fill and an outline; points a circle with a stroke."""

    kind: Literal["polygon", "point", "line", "label"]
    fill: Paint
    fill_opacity: Paint = 1.0
    stroke: Paint = "#ffffff"
    stroke_width: float = 1.0
    radius: float = 4.0
    legend: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """property -> {value: zh-CN label} for the values a ByProperty distinguishes."""
    line_width: Paint = 1.0
    """Lines: the width (a ByProperty widens main roads)."""
    text_size: float | None = None
    """Draw the ``name`` property as text this size (px); None: no text."""
    text_color: str = "#37474f"
    text_classes: Mapping[str, tuple[int, float]] = field(default_factory=dict)
    """Labels: ``kind`` value -> (from zoom, text size); one text layer per class."""

    @property
    def has_text(self) -> bool:
        """Whether the style draws text (a style document then needs glyphs)."""
        return self.text_size is not None or bool(self.text_classes)

    def _text(self, layer_id: str, common: dict[str, Any], size: float, **more: Any) -> dict:
        line = self.kind == "line"
        layout: dict[str, Any] = {
            "text-field": ["coalesce", ["get", "name"], ""],
            "text-font": [FONT_STACK],
            "text-size": size,
            "text-max-width": 8,
            "symbol-placement": "line" if line else "point",
        }
        if line:
            layout["symbol-spacing"] = 400
        return {
            "id": layer_id,
            "type": "symbol",
            **common,
            **more,
            "layout": layout,
            "paint": {
                "text-color": self.text_color,
                "text-halo-color": "#ffffff",
                "text-halo-width": 1.5,
            },
        }

    def maplibre_layers(self, layer_id: str, source: str) -> list[dict[str, Any]]:
        """Style-spec layers drawing ``layer_id`` from the vector ``source``."""
        common = {"source": source, "source-layer": layer_id}
        if self.kind == "label":
            return [
                self._text(
                    f"{layer_id}-{value}",
                    common,
                    size,
                    minzoom=zoom,
                    filter=["==", ["get", "kind"], value],
                )
                for value, (zoom, size) in self.text_classes.items()
            ]
        if self.kind == "line":
            out = [
                {
                    "id": f"{layer_id}-line",
                    "type": "line",
                    **common,
                    "layout": {"line-cap": "round", "line-join": "round"},
                    "paint": {
                        "line-color": _paint(self.stroke),
                        "line-width": _paint(self.line_width),
                    },
                }
            ]
            if self.text_size is not None:
                out.append(
                    self._text(f"{layer_id}-label", common, self.text_size, filter=["has", "name"])
                )
            return out
        if self.kind == "point":
            return [
                {
                    "id": layer_id,
                    "type": "circle",
                    **common,
                    "paint": {
                        "circle-color": _paint(self.fill),
                        "circle-opacity": _paint(self.fill_opacity),
                        "circle-radius": self.radius,
                        "circle-stroke-color": _paint(self.stroke),
                        "circle-stroke-width": self.stroke_width,
                    },
                }
            ]
        polygon = [
            {
                "id": f"{layer_id}-fill",
                "type": "fill",
                **common,
                "paint": {
                    "fill-color": _paint(self.fill),
                    "fill-opacity": _paint(self.fill_opacity),
                },
            },
            {
                "id": f"{layer_id}-line",
                "type": "line",
                **common,
                "paint": {"line-color": _paint(self.stroke), "line-width": self.stroke_width},
            },
        ]
        if self.text_size is not None:
            polygon.append(
                self._text(f"{layer_id}-label", common, self.text_size, filter=["has", "name"])
            )
        return polygon

    def leaflet(self) -> dict[str, Any]:
        """Leaflet path options; a property-driven value is {property, values, default}."""
        out = {
            "color": _plain(self.stroke),
            "weight": _plain(self.line_width) if self.kind == "line" else self.stroke_width,
            "fillColor": _plain(self.fill),
            "fillOpacity": _plain(self.fill_opacity),
        }
        if self.kind == "point":
            out["radius"] = self.radius
        return out

    def as_dict(self) -> dict[str, Any]:
        """The style as plain JSON (what TileJSON ``vector_layers`` carry)."""
        return {
            "kind": self.kind,
            "leaflet": self.leaflet(),
            "legend": {k: dict(v) for k, v in self.legend.items()},
        }
