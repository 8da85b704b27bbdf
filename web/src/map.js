// The map: MapLibre GL JS with the service's vector tiles (districts ... events), a
// raster basemap when one is configured or else the offline one (the service's roads,
// rivers and place names), the selected event's grid, and events that arrived by SSE.
//
// GCJ-02 basemaps: exact for points (event markers, live events, clicks, drags: see
// crs.js); vector tile overlays cannot be shifted feature by feature, so every overlay
// layer is translated by the GCJ-02 offset at the view centre (recomputed after each
// move; the offset changes by a few metres across a district, far less than a grid).

/* global maplibregl */

import { tileTime } from "./util.js";
import { vocab } from "./vocab.js";

export const LIGHT_COLOURS = { green: "#2e7d32", yellow: "#f9a825", red: "#c62828" };
export const NO_LIGHT = "#9e9e9e";
// Styles keyed by status; which statuses exist and which are open or closed comes from
// the server (vocab.js). A status without an outline colour gets the default grey.
const STATUS_STROKE = {
  reported: "#1565c0",
  filed: "#00838f",
  dispatched: "#212121",
  handled: "#6a1b9a",
  verified: "#6a1b9a",
  parked: "#795548",
};

/** Statuses not yet dispatched: a thicker outline. */
const WIDE_STROKE = ["reported", "filed"];

const AREA_LAYERS = ["districts", "streets", "communities", "grids", "buildings", "components"];
// The offline basemap (roads, rivers, street and community names), drawn from the
// service's own vector tiles when no raster basemap URL is configured.
const BASEMAP_LAYERS = ["rivers", "roads", "place_names"];
// CJK label text is drawn with the browser's fonts (no glyphs fetched for it).
const LOCAL_CJK_FONTS = "'Noto Sans CJK SC', 'Source Han Sans SC', 'WenQuanYi Micro Hei', "
  + "'Microsoft YaHei', 'PingFang SC', sans-serif";
const TOGGLES = [
  ["basemap", "底图"],
  ["streets", "街道"],
  ["communities", "社区"],
  ["grids", "网格"],
  ["buildings", "建筑物"],
  ["components", "部件"],
  ["events", "事件"],
];

const get = (name) => ["coalesce", ["get", name], ""];

/** Default look of the offline basemap when the server's style cannot be read. */
function fallbackBasemapLayers() {
  const src = (id) => ({ source: id, "source-layer": id });
  const text = (size) => ({ "text-field": get("name"), "text-font": ["gridgov-sans"],
    "text-size": size });
  const halo = { "text-color": "#37474f", "text-halo-color": "#fff", "text-halo-width": 1.5 };
  return [
    { id: "rivers-fill", type: "fill", ...src("rivers"), paint: { "fill-color": "#a5d1e8" } },
    { id: "roads-line", type: "line", ...src("roads"),
      paint: { "line-color": "#f3b562", "line-width": ["match", get("kind"), "main", 6,
        "secondary", 4, 2.5] } },
    { id: "place_names-street", type: "symbol", ...src("place_names"), minzoom: 9,
      filter: ["==", get("kind"), "street"], layout: text(15), paint: halo },
    { id: "place_names-community", type: "symbol", ...src("place_names"), minzoom: 12,
      filter: ["==", get("kind"), "community"], layout: text(12), paint: halo },
  ];
}

/** Default look of the area layers when the server's style cannot be read. */
function fallbackAreaLayers() {
  const poly = (id, fill, opacity, line, width) => [
    { id: `${id}-fill`, type: "fill", source: id, "source-layer": id,
      paint: { "fill-color": fill, "fill-opacity": opacity } },
    { id: `${id}-line`, type: "line", source: id, "source-layer": id,
      paint: { "line-color": line, "line-width": width } },
  ];
  return [
    ...poly("districts", "#7e57c2", 0, "#4a148c", 3),
    ...poly("streets", "#ce93d8", 0.08, "#6a1b9a", 2),
    ...poly("communities", "#90caf9", 0.1, "#1565c0", 1.5),
    ...poly("grids", "#80cbc4", 0.15, "#00897b", 1),
    ...poly("buildings", "#bcaaa4", 0.7, "#6d4c41", 0.5),
    { id: "components", type: "circle", source: "components", "source-layer": "components",
      paint: { "circle-color": "#546e7a", "circle-radius": 3, "circle-stroke-color": "#fff",
        "circle-stroke-width": 0.5 } },
  ];
}

function eventPaint() {
  const light = ["match", get("light"), "green", LIGHT_COLOURS.green, "yellow",
    LIGHT_COLOURS.yellow, "red", LIGHT_COLOURS.red, NO_LIGHT];
  const closed = ["in", get("status"), ["literal", vocab.closed]];
  const urgent = ["==", get("priority"), "urgent"];
  const stroke = ["match", get("status"), ...Object.entries(STATUS_STROKE).flat(), "#bdbdbd"];
  const fresh = ["in", get("status"), ["literal", WIDE_STROKE]];
  // Zoomed out (a whole district, tens of thousands of events) dots are small and have no
  // outline; the status outline appears from zoom 12.
  return {
    "circle-color": ["case", closed, "#cfd8dc", light],
    "circle-opacity": ["case", closed, 0.55, 0.95],
    "circle-radius": ["interpolate", ["linear"], ["zoom"],
      10, ["case", closed, 1, urgent, 2.5, 1.6],
      12, ["case", closed, 1.6, urgent, 3.5, 2.6],
      14, ["case", closed, 3, urgent, 6, 4.5],
      17, ["case", closed, 5, urgent, 10, 8]],
    "circle-stroke-color": stroke,
    "circle-stroke-width": ["interpolate", ["linear"], ["zoom"],
      11.5, 0, 13, ["case", fresh, 2, 1.2]],
  };
}

/** Drawing order: red lights and urgent events on top, closed ones at the bottom. */
function eventSortKey() {
  return ["case", ["==", get("light"), "red"], 4, ["==", get("priority"), "urgent"], 3,
    ["==", get("light"), "yellow"], 2, ["in", get("status"), ["literal", vocab.closed]], -1, 0];
}

function haloPaint() {
  return {
    "circle-color": "#e53935",
    "circle-opacity": 0.35,
    "circle-blur": 0.4,
    "circle-radius": ["interpolate", ["linear"], ["zoom"], 10, 3, 13, 8, 17, 16],
  };
}

/** World pixels (512 px at zoom 0, as MapLibre) of a lon/lat. */
function worldPx(lon, lat) {
  const s = Math.sin((lat * Math.PI) / 180);
  return [((lon + 180) / 360) * 512,
    (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * 512];
}

export class ConsoleMap {
  constructor(container, { api, config, frame, handlers }) {
    this.container = container;
    this.api = api;
    this.config = config;
    this.frame = frame;
    this.handlers = handlers;
    this.live = new Map(); // id -> GeoJSON feature of events received live
    this.filter = null;
    this.eventsQuery = "";
    this.marker = null;
    this.markerEvent = null;
    this.overlayLayers = [];
    this.visible = Object.fromEntries(TOGGLES.map(([id]) => [id, true]));
    this.reloadTimer = null;
    this.lastReload = 0;
  }

  async init({ eventsQuery = "", bounds = null, jurisdiction = null }) {
    this.eventsQuery = eventsQuery;
    // Below district level the user sees only events in their grids (as the server rule).
    this.jurisdiction = jurisdiction && jurisdiction.length > vocab.codeLengths.district
      ? jurisdiction : null;
    const origin = location.origin;
    let server = null;
    try {
      server = await this.api.get("/tiles/style.json");
    } catch {
      server = null; // tiles not served: the map still shows events and the basemap
    }
    let eventsMeta = { minzoom: 10, maxzoom: 20 };
    try {
      const tj = await this.api.get("/tiles/events.json");
      eventsMeta = { minzoom: tj.minzoom, maxzoom: tj.maxzoom, bounds: tj.bounds };
    } catch {
      /* defaults */
    }
    this.eventsMeta = eventsMeta;
    const sources = {};
    const layers = [
      { id: "background", type: "background", paint: { "background-color": "#f4f2ec" } },
    ];
    const bm = this.config.basemap || {};
    let glyphs;
    const labels = []; // basemap text, drawn above the areas and below the events
    const basemapLayers = []; // rivers under the area fills, roads above them
    if (bm.url) {
      sources.basemap = { type: "raster", tiles: [bm.url], tileSize: 256, maxzoom: 18,
        attribution: bm.attribution || "" };
      layers.push({ id: "basemap", type: "raster", source: "basemap",
        paint: { "raster-opacity": 0.85 } });
    } else {
      const fromServer = Boolean(server && server.sources && server.sources.roads);
      for (const id of BASEMAP_LAYERS) {
        sources[id] = fromServer && server.sources[id] ? server.sources[id]
          : { type: "vector", url: `${origin}/tiles/${id}.json` };
      }
      const drawn = fromServer
        ? server.layers.filter((l) => BASEMAP_LAYERS.includes(l.source))
        : fallbackBasemapLayers();
      basemapLayers.push(...drawn.filter((l) => l.type !== "symbol"));
      labels.push(...drawn.filter((l) => l.type === "symbol"));
      glyphs = (server && server.glyphs) || `${origin}/tiles/glyphs/{fontstack}/{range}.pbf`;
    }
    const areaLayers = [];
    if (server && server.sources) {
      for (const id of AREA_LAYERS) {
        if (server.sources[id]) sources[id] = server.sources[id];
      }
      areaLayers.push(...(server.layers || []).filter((l) => AREA_LAYERS.includes(l.source)));
    } else {
      for (const id of AREA_LAYERS) {
        sources[id] = { type: "vector", url: `${origin}/tiles/${id}.json` };
      }
      areaLayers.push(...fallbackAreaLayers());
    }
    // Roads run along area edges: drawn over the tinted fills, under the edge lines.
    const isFill = (l) => l.type === "fill";
    layers.push(...basemapLayers.filter(isFill), ...areaLayers.filter(isFill),
      ...basemapLayers.filter((l) => !isFill(l)), ...areaLayers.filter((l) => !isFill(l)),
      ...labels);
    const have = (id) => Boolean(sources[id]);
    if (have("grids")) {
      layers.push(
        { id: "grid-locate", type: "line", source: "grids", "source-layer": "grids",
          filter: ["==", get("code"), "\u0000"],
          paint: { "line-color": "#1e88e5", "line-width": 3, "line-dasharray": [2, 1] } },
        { id: "grid-selected-fill", type: "fill", source: "grids", "source-layer": "grids",
          filter: ["==", get("code"), "\u0000"],
          paint: { "fill-color": "#ff9800", "fill-opacity": 0.25 } },
        { id: "grid-selected", type: "line", source: "grids", "source-layer": "grids",
          filter: ["==", get("code"), "\u0000"],
          paint: { "line-color": "#ef6c00", "line-width": 3.5 } },
      );
    }
    for (const level of ["districts", "streets", "communities"]) {
      if (!have(level)) continue;
      layers.push({ id: `jurisdiction-${level}`, type: "line", source: level,
        "source-layer": level, filter: ["==", get("code"), "\u0000"],
        paint: { "line-color": "#d84315", "line-width": 3, "line-opacity": 0.8 } });
    }
    if (have("components")) {
      layers.push({ id: "components-near", type: "circle", source: "components",
        "source-layer": "components", minzoom: 13, filter: ["in", get("component_id"),
          ["literal", []]],
        paint: { "circle-color": "#ff6f00", "circle-radius": 6, "circle-stroke-color": "#fff",
          "circle-stroke-width": 2 } });
    }
    sources.events = {
      type: "vector",
      tiles: [this.eventsTileUrl()],
      minzoom: eventsMeta.minzoom,
      maxzoom: eventsMeta.maxzoom,
    };
    layers.push(
      { id: "events-overdue", type: "circle", source: "events", "source-layer": "events",
        filter: this.overdueFilter(null), paint: haloPaint() },
      { id: "events", type: "circle", source: "events", "source-layer": "events",
        layout: { "circle-sort-key": eventSortKey() }, paint: eventPaint() },
    );
    sources.live = { type: "geojson", data: { type: "FeatureCollection", features: [] } };
    layers.push(
      { id: "live-overdue", type: "circle", source: "live", filter: this.overdueFilter(null),
        paint: haloPaint() },
      { id: "live-events", type: "circle", source: "live",
        layout: { "circle-sort-key": eventSortKey() }, paint: eventPaint() },
    );
    this.overlayLayers = layers
      .filter((l) => l.source && !this.isBasemap(l.source) && l.source !== "live")
      .map((l) => ({ id: l.id, type: l.type }));

    const start = bounds || eventsMeta.bounds;
    this.map = new maplibregl.Map({
      container: this.container,
      style: { version: 8, sources, layers, ...(glyphs ? { glyphs } : {}) },
      localIdeographFontFamily: LOCAL_CJK_FONTS,
      bounds: start ? this.mapBounds(start) : undefined,
      center: start ? undefined : this.frame.toMap(117.3, 31.8),
      zoom: start ? undefined : 12,
      fitBoundsOptions: { padding: 20 },
      minZoom: 8,
      maxZoom: 19,
      dragRotate: false,
      pitchWithRotate: false,
      touchPitch: false,
      attributionControl: { compact: true },
      transformRequest: (url) => {
        // Our own tiles get the user's token (the server may check it); nothing else does.
        if (url.startsWith(origin) && this.api.token) {
          return { url, headers: { Authorization: `Bearer ${this.api.token}` } };
        }
        return { url };
      },
    });
    this.map.touchZoomRotate.disableRotation();
    this.map.keyboard.disableRotation();
    this.map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
    this.map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-right");
    this.map.addControl(this.legendControl(), "bottom-left");
    this.map.addControl(this.toggleControl(), "top-left");
    await new Promise((resolve) => this.map.once("load", resolve));
    this.bindEvents();
    this.applyShift();
    this.nowTimer = setInterval(() => this.refreshNow(), 60e3);
    return this;
  }

  // -- coordinates -----------------------------------------------------------------------

  /** [minx, miny, maxx, maxy] in WGS84 -> map-frame bounds. */
  mapBounds(bbox) {
    const [a, b] = [this.frame.toMap(bbox[0], bbox[1]), this.frame.toMap(bbox[2], bbox[3])];
    return [a, b];
  }

  /** Translate every vector overlay by the GCJ-02 offset at the view centre (see top). */
  applyShift() {
    if (!this.frame.shifted) return;
    const c = this.map.getCenter();
    const [wlon, wlat] = this.frame.toWgs(c.lng, c.lat);
    const [gx, gy] = worldPx(c.lng, c.lat);
    const [wx, wy] = worldPx(wlon, wlat);
    const d0 = [gx - wx, gy - wy]; // pixels at zoom 0
    const scale = 2 ** 24;
    const value = ["interpolate", ["exponential", 2], ["zoom"], 0, ["literal", d0], 24,
      ["literal", [d0[0] * scale, d0[1] * scale]]];
    for (const { id, type } of this.overlayLayers) {
      const prop = { fill: "fill-translate", line: "line-translate", circle: "circle-translate" }[
        type];
      if (prop && this.map.getLayer(id)) this.map.setPaintProperty(id, prop, value);
    }
    this.shiftPx0 = d0;
  }

  // -- events on the map -----------------------------------------------------------------

  eventsTileUrl() {
    const q = this.eventsQuery ? `?${this.eventsQuery}` : "";
    return `${location.origin}/tiles/events/{z}/{x}/{y}.mvt${q}`;
  }

  /** Reload the events tiles (after live changes), at most every few seconds. */
  reloadEvents(delay = 3000) {
    if (this.reloadTimer) return;
    const wait = Math.max(0, this.lastReload + delay - Date.now());
    this.reloadTimer = setTimeout(() => {
      this.reloadTimer = null;
      this.lastReload = Date.now();
      const src = this.map.getSource("events");
      if (src && src.setTiles) src.setTiles([this.eventsTileUrl()]);
    }, wait);
  }

  /** A MapLibre filter for the list's filters (the same rules, on tile properties). */
  setEventFilter(f) {
    const parts = ["all"];
    const prefix = (prop, value) =>
      ["==", ["slice", get(prop), 0, value.length], value];
    if (this.jurisdiction) parts.push(prefix("grid_code", this.jurisdiction));
    if (f.status) parts.push(["==", get("status"), f.status]);
    if (f.category_code) parts.push(prefix("category_code", f.category_code));
    if (f.source) parts.push(["==", get("source"), f.source]);
    if (f.priority) parts.push(["==", get("priority"), f.priority]);
    if (f.area) parts.push(prefix("grid_code", f.area));
    const from = tileTime(f.from);
    const to = tileTime(f.to);
    if (from) parts.push([">=", get("reported_at"), from]);
    if (to) parts.push(["<", get("reported_at"), to]);
    this.filter = parts.length > 1 ? parts : null;
    this.overdueOnly = Boolean(f.overdue);
    this.refreshNow();
  }

  overdueFilter(base) {
    const now = new Date().toISOString().slice(0, 19) + "Z";
    const overdue = ["all", ["<", ["coalesce", ["get", "deadline_at"], "9999"], now],
      ["in", get("status"), ["literal", vocab.open]]];
    return base ? ["all", base, overdue] : overdue;
  }

  /** Re-apply filters that depend on the clock (overdue). */
  refreshNow() {
    if (!this.map || !this.map.getLayer("events")) return;
    const main = this.overdueOnly ? this.overdueFilter(this.filter) : this.filter;
    // Zoomed out, event tiles carry counts per cell (`cluster`), already cut to the
    // jurisdiction by the server; the list's property filters apply to single events only.
    const cluster = ["has", "cluster"];
    const clusterOverdue = ["all", cluster, [">", ["get", "overdue"], 0]];
    this.map.setFilter("events", main ? ["any", cluster, main] : null);
    this.map.setFilter("live-events", main);
    this.map.setFilter("events-overdue", ["any", clusterOverdue, this.overdueFilter(this.filter)]);
    this.map.setFilter("live-overdue", this.overdueFilter(this.filter));
  }

  /** Show an event that arrived live (created or updated) at once, before tiles reload. */
  upsertLive(ev) {
    if (ev.lon == null || ev.lat == null) return;
    const [x, y] = this.frame.toMap(ev.lon, ev.lat);
    this.live.delete(ev.id);
    this.live.set(ev.id, {
      type: "Feature",
      id: ev.id,
      geometry: { type: "Point", coordinates: [x, y] },
      properties: {
        id: ev.id, status: ev.status, light: ev.light ?? null, priority: ev.priority,
        category_code: ev.category_code, source: ev.source, grid_code: ev.grid_code,
        street_code: ev.street_code, reported_at: tileTime(ev.reported_at),
        deadline_at: tileTime(ev.deadline_at),
      },
    });
    while (this.live.size > 1000) this.live.delete(this.live.keys().next().value);
    this.map.getSource("live").setData({ type: "FeatureCollection",
      features: [...this.live.values()] });
    this.reloadEvents();
  }

  // -- selection -------------------------------------------------------------------------

  setCode(layer, code) {
    if (this.map.getLayer(layer)) {
      this.map.setFilter(layer, ["==", get("code"), code || "\u0000"]);
    }
  }

  showJurisdiction(level, code) {
    const layer = { district: "districts", street: "streets", community: "communities" }[level];
    if (layer) this.setCode(`jurisdiction-${layer}`, code);
  }

  /** Highlight the event's grid and components, put a draggable marker on its point. */
  select(ev, { fly = true } = {}) {
    this.setCode("grid-selected", ev ? ev.grid_code : null);
    this.setCode("grid-selected-fill", ev ? ev.grid_code : null);
    this.setNearby(ev ? (ev.nearby_components || []).map((c) => String(c.component_id ?? c.id))
      : []);
    if (this.marker) {
      this.marker.remove();
      this.marker = null;
    }
    this.markerEvent = ev;
    if (!ev || ev.lon == null) return;
    const at = this.frame.toMap(ev.lon, ev.lat);
    const el = document.createElement("div");
    el.className = "sel-marker";
    el.title = "拖动可更正事件位置";
    this.marker = new maplibregl.Marker({ element: el, draggable: true }).setLngLat(at)
      .addTo(this.map);
    this.marker.on("dragend", () => {
      const p = this.marker.getLngLat();
      const [lon, lat] = this.frame.toWgs(p.lng, p.lat);
      this.handlers.onDragged(this.markerEvent, lon, lat);
    });
    if (fly) {
      const zoom = Math.max(this.map.getZoom(), 15);
      this.map.easeTo({ center: at, zoom, duration: 500 });
    }
  }

  resetMarker() {
    if (this.marker && this.markerEvent) {
      this.marker.setLngLat(this.frame.toMap(this.markerEvent.lon, this.markerEvent.lat));
    }
  }

  setNearby(ids) {
    if (this.map.getLayer("components-near")) {
      this.map.setFilter("components-near", ["in", get("component_id"), ["literal", ids]]);
    }
  }

  /** Where a WGS84 point is on the screen (tests and the screenshot use it). */
  screenPoint(lon, lat) {
    const p = this.map.project(this.frame.toMap(lon, lat));
    return { x: p.x, y: p.y };
  }

  popup(lngLat, node) {
    if (this.popupRef) this.popupRef.remove();
    this.popupRef = new maplibregl.Popup({ maxWidth: "320px", closeButton: true })
      .setLngLat(lngLat).setDOMContent(node).addTo(this.map);
    this.popupRef.on("close", () => this.setCode("grid-locate", null));
    return this.popupRef;
  }

  bindEvents() {
    const map = this.map;
    const eventLayers = ["live-events", "events"];
    map.on("moveend", () => this.applyShift());
    map.on("mousemove", (e) => {
      const hit = map.queryRenderedFeatures(this.box(e.point, 4), { layers: eventLayers });
      map.getCanvas().style.cursor = hit.length ? "pointer" : "";
    });
    map.on("click", (e) => {
      const hit = map.queryRenderedFeatures(this.box(e.point, 5), { layers: eventLayers });
      if (hit.length) {
        const id = Number(hit[0].properties.id ?? hit[0].id);
        this.handlers.onEventClick(id);
        return;
      }
      const [lon, lat] = this.frame.toWgs(e.lngLat.lng, e.lngLat.lat);
      this.handlers.onLocate(lon, lat, e.lngLat);
    });
  }

  box(p, r) {
    return [[p.x - r, p.y - r], [p.x + r, p.y + r]];
  }

  /** Whether a style source is the basemap (the raster one or the offline layers). */
  isBasemap(source) {
    return source === "basemap" || BASEMAP_LAYERS.includes(source);
  }

  setVisible(id, on) {
    this.visible[id] = on;
    const layers = this.map.getStyle().layers.filter((l) => {
      if (id === "events") return ["events", "live"].includes(l.source);
      return id === "basemap" ? this.isBasemap(l.source) : l.source === id;
    });
    for (const l of layers) this.map.setLayoutProperty(l.id, "visibility", on ? "visible" : "none");
  }

  toggleControl() {
    const self = this;
    return {
      onAdd() {
        const box = document.createElement("div");
        box.className = "maplibregl-ctrl maplibregl-ctrl-group layer-toggles";
        for (const [id, label] of TOGGLES) {
          const input = document.createElement("input");
          input.type = "checkbox";
          input.checked = true;
          input.dataset.layer = id;
          input.addEventListener("change", () => self.setVisible(id, input.checked));
          const lab = document.createElement("label");
          lab.append(input, label);
          box.append(lab);
        }
        return box;
      },
      onRemove() {},
    };
  }

  legendControl() {
    const closedLabel = this.config.labels?.statuses?.closed ?? "closed";
    return {
      onAdd() {
        const box = document.createElement("div");
        box.className = "maplibregl-ctrl legend";
        const item = (cls, style, text) =>
          `<span class="lg"><i class="${cls}" style="${style}"></i>${text}</span>`;
        box.innerHTML = [
          item("dot", `background:${LIGHT_COLOURS.green}`, "绿灯"),
          item("dot", `background:${LIGHT_COLOURS.yellow}`, "黄灯"),
          item("dot", `background:${LIGHT_COLOURS.red}`, "红灯"),
          item("dot", `background:${NO_LIGHT};border-color:#1565c0`, "未派遣"),
          item("dot", "background:#cfd8dc;border-color:#bdbdbd", closedLabel),
          item("dot halo", "", "超期"),
          item("dot big", `background:${NO_LIGHT}`, "紧急"),
        ].join("");
        return box;
      },
      onRemove() {},
    };
  }
}
