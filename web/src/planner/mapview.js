// The planner's map: the active grids (grey outlines) under the draft (blue), validation
// items (red: blocking, amber: warnings), the selected grids, and a line being drawn.
// Everything is GeoJSON from /v1/generations: a draft is edited, so it is not tiled.

/* global maplibregl */

const EMPTY = { type: "FeatureCollection", features: [] };

function bboxOf(fc) {
  let b = [Infinity, Infinity, -Infinity, -Infinity];
  const walk = (c) => {
    if (typeof c[0] === "number") {
      b = [Math.min(b[0], c[0]), Math.min(b[1], c[1]), Math.max(b[2], c[0]), Math.max(b[3], c[1])];
    } else c.forEach(walk);
  };
  for (const f of fc.features || []) if (f.geometry) walk(f.geometry.coordinates);
  return Number.isFinite(b[0]) ? b : null;
}

export class PlannerMap {
  constructor(container) {
    this.selected = [];
    this.sketch = [];
    this.mode = "select";
    this.onSelect = () => {};
    this.onSketch = () => {};
    this.fitted = false;
    this.map = new maplibregl.Map({
      container,
      style: {
        version: 8,
        sources: {
          active: { type: "geojson", data: EMPTY },
          draft: { type: "geojson", data: EMPTY },
          items: { type: "geojson", data: EMPTY },
          sketch: { type: "geojson", data: EMPTY },
        },
        layers: [
          { id: "bg", type: "background", paint: { "background-color": "#f4f6f8" } },
          { id: "draft-fill", type: "fill", source: "draft",
            paint: { "fill-color": "#3b82f6", "fill-opacity": 0.12 } },
          { id: "draft-changed", type: "fill", source: "draft", filter: ["in", ["get", "code"], ["literal", []]],
            paint: { "fill-color": "#a21caf", "fill-opacity": 0.3 } },
          { id: "draft-selected", type: "fill", source: "draft", filter: ["in", ["get", "code"], ["literal", []]],
            paint: { "fill-color": "#f59e0b", "fill-opacity": 0.45 } },
          { id: "active-line", type: "line", source: "active",
            paint: { "line-color": "#52606d", "line-width": 1, "line-dasharray": [2, 2] } },
          { id: "draft-line", type: "line", source: "draft",
            paint: { "line-color": "#1d4ed8", "line-width": 1.5 } },
          { id: "items-fill", type: "fill", source: "items", filter: ["==", ["geometry-type"], "Polygon"],
            paint: { "fill-color": ["match", ["get", "severity"], "blocking", "#dc2626", "#f59e0b"],
              "fill-opacity": 0.45 } },
          { id: "items-line", type: "line", source: "items",
            paint: { "line-color": ["match", ["get", "severity"], "blocking", "#b91c1c", "#b45309"],
              "line-width": 2 } },
          { id: "sketch-line", type: "line", source: "sketch",
            paint: { "line-color": "#c2410c", "line-width": 3 } },
          { id: "sketch-points", type: "circle", source: "sketch",
            paint: { "circle-radius": 4, "circle-color": "#c2410c" } },
        ],
      },
      center: [117.3, 31.8],
      zoom: 11,
      doubleClickZoom: false,
      attributionControl: false,
    });
    this.map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-left");
    this.ready = new Promise((resolve) => this.map.on("load", resolve));
    this.map.on("click", (e) => this.click(e));
    window.plannerMap = this.map; // for the browser tests and the curious
  }

  set(source, data) {
    this.map.getSource(source).setData(data || EMPTY);
  }

  showGrids(active, draft) {
    this.set("active", active);
    this.set("draft", draft);
    this.draftCodes = new Set((draft.features || []).map((f) => f.properties.code));
    const kept = this.selected.filter((c) => this.draftCodes.has(c));
    if (kept.length !== this.selected.length) {
      this.selected = kept;
      this.onSelect(kept); // e.g. the level changed: the selection shown follows
    }
    this.paintSelection();
    if (!this.fitted) {
      const b = bboxOf(draft.features.length ? draft : active);
      if (b) this.map.fitBounds(b, { padding: 30, duration: 0 });
      this.fitted = true;
    }
  }

  showItems(items) {
    const features = items
      .filter((i) => i.geometry)
      .map((i) => ({ type: "Feature", geometry: i.geometry,
        properties: { severity: i.severity, code: i.code } }));
    this.set("items", { type: "FeatureCollection", features });
  }

  showChanged(codes) {
    this.map.setFilter("draft-changed", ["in", ["get", "code"], ["literal", codes]]);
  }

  flyTo(item) {
    if (item.location) this.map.flyTo({ center: item.location, zoom: Math.max(this.map.getZoom(), 16) });
  }

  setMode(mode) {
    this.mode = mode;
    this.sketch = [];
    this.paintSketch();
    this.map.getCanvas().style.cursor = mode === "select" ? "" : "crosshair";
  }

  click(e) {
    if (this.mode !== "select") { // drawing: split or edge line, or a new outline
      this.sketch.push([e.lngLat.lng, e.lngLat.lat]);
      this.paintSketch();
      this.onSketch(this.sketch);
      return;
    }
    const hit = this.map.queryRenderedFeatures(e.point, { layers: ["draft-fill"] })[0];
    const code = hit && hit.properties.code;
    const add = e.originalEvent.ctrlKey || e.originalEvent.metaKey || e.originalEvent.shiftKey;
    if (!code) this.selected = add ? this.selected : [];
    else if (add) {
      this.selected = this.selected.includes(code)
        ? this.selected.filter((c) => c !== code) : [...this.selected, code];
    } else this.selected = [code];
    this.paintSelection();
    this.onSelect(this.selected);
  }

  paintSelection() {
    this.map.setFilter("draft-selected", ["in", ["get", "code"], ["literal", this.selected]]);
  }

  paintSketch() {
    const pts = this.sketch.map((c) => ({ type: "Feature", geometry: { type: "Point", coordinates: c } }));
    const ring = this.mode === "reshape" && this.sketch.length > 2;
    const coords = ring ? [...this.sketch, this.sketch[0]] : this.sketch;
    const line = this.sketch.length > 1
      ? [{ type: "Feature", geometry: { type: "LineString", coordinates: coords } }] : [];
    this.set("sketch", { type: "FeatureCollection", features: [...pts, ...line] });
  }
}
