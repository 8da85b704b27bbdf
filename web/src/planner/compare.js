// The active set beside the draft: a second, read-only map of the active grids kept in
// step with the planner's map (pan, zoom, rotate either one and the other follows), and
// the grids the draft changes highlighted on both sides (removed or reshaped on the
// active side, added or reshaped on the draft side).

/* global maplibregl */

const EMPTY = { type: "FeatureCollection", features: [] };
const NONE = ["in", ["get", "code"], ["literal", []]];

export class CompareMap {
  constructor(container) {
    this.map = new maplibregl.Map({
      container,
      style: {
        version: 8,
        sources: { active: { type: "geojson", data: EMPTY }, items: { type: "geojson", data: EMPTY } },
        layers: [
          { id: "bg", type: "background", paint: { "background-color": "#f4f6f8" } },
          { id: "active-fill", type: "fill", source: "active",
            paint: { "fill-color": "#64748b", "fill-opacity": 0.1 } },
          { id: "active-changed", type: "fill", source: "active", filter: NONE,
            paint: { "fill-color": "#a21caf", "fill-opacity": 0.35 } },
          { id: "active-line", type: "line", source: "active",
            paint: { "line-color": "#334155", "line-width": 1.2 } },
          { id: "items-line", type: "line", source: "items",
            paint: { "line-color": ["match", ["get", "severity"], "blocking", "#b91c1c", "#b45309"],
              "line-width": 2 } },
        ],
      },
      center: [117.3, 31.8],
      zoom: 11,
      interactive: true,
      attributionControl: false,
    });
    this.ready = new Promise((resolve) => this.map.on("load", resolve));
    window.compareMap = this.map; // for the browser tests
  }

  show(active) {
    this.map.getSource("active").setData(active || EMPTY);
  }

  showItems(items) {
    const features = items.filter((i) => i.geometry)
      .map((i) => ({ type: "Feature", geometry: i.geometry, properties: { severity: i.severity } }));
    this.map.getSource("items").setData({ type: "FeatureCollection", features });
  }

  showChanged(codes) {
    this.map.setFilter("active-changed", ["in", ["get", "code"], ["literal", codes]]);
  }

  /** Keep this map and ``other`` (a maplibre map) on one view, whichever moves. */
  syncWith(other) {
    let moving = null;
    const follow = (from, to) => () => {
      if (moving && moving !== from) return;
      moving = from;
      to.jumpTo({ center: from.getCenter(), zoom: from.getZoom(), bearing: from.getBearing(),
        pitch: from.getPitch() });
      moving = null;
    };
    other.on("move", follow(other, this.map));
    this.map.on("move", follow(this.map, other));
    this.map.jumpTo({ center: other.getCenter(), zoom: other.getZoom() });
  }
}

/** The codes the impact table marks changed, per side of the comparison. */
export function changedCodes(impact) {
  const rows = (impact && impact.changed_grids) || [];
  return {
    active: rows.filter((r) => r.status !== "added").map((r) => r.code),
    draft: rows.filter((r) => r.status !== "removed").map((r) => r.code),
  };
}
