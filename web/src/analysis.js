// Analysts' layers on the dispatcher console's map: 热力图 (kernel density PNG tiles),
// 热点分析 (Getis-Ord Gi* hot and cold spots per grid, GeoJSON) and 事件统计 (events per
// grid, vector tiles), each toggled from the map's layer control, all over one time
// window (近 N 天 / 周) chosen with a slider.
//
// Only callers holding the `analytics:read` scope (analysts, supervisors) get them: for
// anyone else nothing is added and nothing is requested. The server applies the caller's
// jurisdiction to every statistic, as it does for the list.

/* global maplibregl */

const DAY_MS = 86400e3;
export const WINDOW_UNITS = { day: ["天", DAY_MS], week: ["周", 7 * DAY_MS] };
const LAYERS = [
  ["heat", "热力图"],
  ["hotspots", "热点分析"],
  ["counts", "事件统计"],
];
/** Esri's confidence bins (-3..+3) -> colour (hot reds, cold blues). */
const BIN_COLOURS = ["match", ["get", "bin"], 3, "#b2182b", 2, "#ef8a62", 1, "#fddbc7",
  -1, "#d1e5f0", -2, "#67a9cf", -3, "#2166ac", "rgba(0,0,0,0)"];
const HOTSPOT_PERMUTATIONS = 199; // enough for the map's bins; the API's default is 999

export function canAnalyse(me) {
  return Boolean(me && (me.scopes || []).includes("analytics:read"));
}

/** The window's start, N days or weeks before `now`, as the API's `from` (UTC, seconds). */
export function windowStart(n, unit, now = new Date()) {
  const from = new Date(now.getTime() - n * WINDOW_UNITS[unit][1]);
  return from.toISOString().slice(0, 19) + "Z";
}

export class AnalysisLayers {
  constructor(cmap, api) {
    this.cmap = cmap;
    this.map = cmap.map;
    this.api = api;
    this.n = 30;
    this.unit = "day";
    this.on = { heat: false, hotspots: false, counts: false };
    this.timer = null;
    this.hotspotsAsked = 0;
    this.from = windowStart(this.n, this.unit);
  }

  query() {
    return `from=${encodeURIComponent(this.from)}`;
  }

  heatUrl() {
    return `${location.origin}/v1/analytics/density/{z}/{x}/{y}.png?${this.query()}`;
  }

  countsUrl() {
    return `${location.origin}/v1/analytics/tiles/grid/{z}/{x}/{y}.mvt?${this.query()}`;
  }

  /** Sources and (hidden) layers under the events, toggles and the slider. */
  install() {
    const map = this.map;
    const below = map.getLayer("events-overdue") ? "events-overdue" : undefined;
    map.addSource("analysis-heat", { type: "raster", tiles: [this.heatUrl()], tileSize: 256,
      minzoom: 8, maxzoom: 18 });
    map.addLayer({ id: "analysis-heat", type: "raster", source: "analysis-heat",
      layout: { visibility: "none" }, paint: { "raster-opacity": 0.8 } }, below);
    map.addSource("analysis-counts", { type: "vector", tiles: [this.countsUrl()], minzoom: 8,
      maxzoom: 18 });
    map.addLayer({ id: "analysis-counts", type: "fill", source: "analysis-counts",
      "source-layer": "aggregate", layout: { visibility: "none" },
      paint: { "fill-opacity": 0.6, "fill-outline-color": "#5d4037",
        "fill-color": ["interpolate", ["linear"], ["get", "count"], 1, "#fff3e0", 5,
          "#ffb74d", 20, "#f57c00", 60, "#bf360c"] } }, below);
    map.addSource("analysis-hotspots", { type: "geojson",
      data: { type: "FeatureCollection", features: [] } });
    map.addLayer({ id: "analysis-hotspots", type: "fill", source: "analysis-hotspots",
      layout: { visibility: "none" }, filter: ["!=", ["get", "bin"], 0],
      paint: { "fill-color": BIN_COLOURS, "fill-opacity": 0.65 } }, below);
    // vector overlays follow the GCJ-02 basemap shift like the other overlays
    this.cmap.overlayLayers.push({ id: "analysis-counts", type: "fill" },
      { id: "analysis-hotspots", type: "fill" });
    this.cmap.applyShift();
    this.addToggles();
    map.addControl(this.windowControl(), "top-left");
  }

  addToggles() {
    const box = this.cmap.container.querySelector(".layer-toggles");
    if (!box) return;
    box.append(Object.assign(document.createElement("hr"), { className: "analysis-sep" }));
    for (const [id, label] of LAYERS) {
      const input = document.createElement("input");
      input.type = "checkbox";
      input.checked = false;
      input.dataset.layer = id;
      input.addEventListener("change", () => this.toggle(id, input.checked));
      const lab = document.createElement("label");
      lab.className = "analysis-toggle";
      lab.append(input, label);
      box.append(lab);
    }
  }

  windowControl() {
    const self = this;
    return {
      onAdd() {
        const box = document.createElement("div");
        box.className = "maplibregl-ctrl maplibregl-ctrl-group analysis-window";
        box.hidden = true;
        box.innerHTML = `<label>时间窗：近 <output id="analysis-n">${self.n}</output>
          <select id="analysis-unit" aria-label="时间单位">
            <option value="day">天</option><option value="week">周</option></select></label>
          <input id="analysis-slider" type="range" min="1" max="90" value="${self.n}"
            aria-label="时间窗长度">
          <div class="analysis-legend" id="analysis-legend" hidden>
            <i style="background:#b2182b"></i>热点99% <i style="background:#ef8a62"></i>95%
            <i style="background:#fddbc7"></i>90% <i style="background:#2166ac"></i>冷点99%
            <i style="background:#67a9cf"></i>95% <i style="background:#d1e5f0"></i>90%</div>
          <small id="analysis-status"></small>`;
        const slider = box.querySelector("#analysis-slider");
        const unit = box.querySelector("#analysis-unit");
        slider.addEventListener("input", () => {
          self.n = Number(slider.value);
          box.querySelector("#analysis-n").textContent = String(self.n);
          self.schedule();
        });
        unit.addEventListener("change", () => {
          self.unit = unit.value;
          slider.max = self.unit === "week" ? "52" : "90";
          if (self.n > Number(slider.max)) slider.value = slider.max;
          self.n = Number(slider.value);
          box.querySelector("#analysis-n").textContent = String(self.n);
          self.schedule();
        });
        self.box = box;
        return box;
      },
      onRemove() {},
    };
  }

  toggle(id, on) {
    this.on[id] = on;
    this.map.setLayoutProperty(`analysis-${id}`, "visibility", on ? "visible" : "none");
    if (this.box) {
      this.box.hidden = !Object.values(this.on).some(Boolean);
      this.box.querySelector("#analysis-legend").hidden = !this.on.hotspots;
    }
    if (id === "hotspots" && on) this.loadHotspots();
  }

  /** Apply a slider change after the user paused (tiles are not asked for every step). */
  schedule() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refresh(), 300);
  }

  refresh() {
    this.from = windowStart(this.n, this.unit);
    if (this.box) this.box.dataset.from = this.from;
    this.map.getSource("analysis-heat").setTiles([this.heatUrl()]);
    this.map.getSource("analysis-counts").setTiles([this.countsUrl()]);
    if (this.on.hotspots) this.loadHotspots();
  }

  async loadHotspots() {
    const asked = ++this.hotspotsAsked;
    const status = this.box && this.box.querySelector("#analysis-status");
    if (status) status.textContent = "热点计算中…";
    try {
      const fc = await this.api.get("/v1/analytics/hotspots",
        { from: this.from, permutations: HOTSPOT_PERMUTATIONS });
      if (asked !== this.hotspotsAsked) return; // a newer window was asked for meanwhile
      this.map.getSource("analysis-hotspots").setData({ type: "FeatureCollection",
        features: fc.features.map((f) => this.toMap(f)) });
      const s = fc.params.summary || {};
      const hot = (s["3"] || 0) + (s["2"] || 0) + (s["1"] || 0);
      const cold = (s["-3"] || 0) + (s["-2"] || 0) + (s["-1"] || 0);
      if (status) {
        status.textContent = `${fc.params.events} 件事件：热点 ${hot} 个网格，冷点 ${cold} 个`;
      }
    } catch (err) {
      if (status) status.textContent = `热点分析失败：${err.message}`;
    }
  }

  /** GeoJSON features stay in WGS84: the layer is translated with the other overlays. */
  toMap(f) {
    return { type: "Feature", geometry: f.geometry,
      properties: { unit: f.properties.unit, bin: f.properties.bin, z: f.properties.z,
        count: f.properties.count } };
  }
}

/** Add the analysis layers to the console map when the caller may read statistics. */
export function initAnalysis(cmap, api, me) {
  if (!canAnalyse(me) || !cmap || !cmap.map || typeof maplibregl === "undefined") return null;
  const layers = new AnalysisLayers(cmap, api);
  layers.install();
  return layers;
}
