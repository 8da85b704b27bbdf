// The field page's map: members' positions, one member's track, grid coverage.
// Data arrive in WGS84 and are moved into the basemap's frame (GCJ-02 basemaps).

const EMPTY = { type: "FeatureCollection", features: [] };

function shift(frame, geom) {
  const move = (c) => frame.toMap(c[0], c[1]);
  const walk = (c) => (typeof c[0] === "number" ? move(c) : c.map(walk));
  return geom ? { ...geom, coordinates: walk(geom.coordinates) } : geom;
}

export class FieldMap {
  constructor(container, config, frame) {
    this.container = container;
    this.config = config;
    this.frame = frame;
    this.map = null;
    this.data = {}; // what each source shows now (in the map's frame)
  }

  async init() {
    const basemap = this.config.basemap || {};
    const sources = {};
    const layers = [{ id: "bg", type: "background", paint: { "background-color": "#eef2f5" } }];
    if (basemap.url) {
      sources.basemap = { type: "raster", tiles: [basemap.url], tileSize: 256 };
      layers.push({ id: "basemap", type: "raster", source: "basemap" });
    }
    for (const name of ["coverage", "track", "positions"]) sources[name] = { type: "geojson", data: EMPTY };
    layers.push(
      { id: "coverage-fill", type: "fill", source: "coverage",
        paint: { "fill-color": ["interpolate", ["linear"], ["get", "covered_share"],
          0, "#eceff1", 0.2, "#a5d6a7", 0.6, "#2e7d32"], "fill-opacity": 0.7 } },
      { id: "coverage-line", type: "line", source: "coverage",
        paint: { "line-color": ["case", ["get", "patrolled"], "#1b5e20", "#b0bec5"], "line-width": 0.6 } },
      { id: "track-line", type: "line", source: "track",
        filter: ["==", ["geometry-type"], "LineString"],
        paint: { "line-color": "#1565c0", "line-width": 3 } },
      { id: "track-head", type: "circle", source: "track", filter: ["==", ["geometry-type"], "Point"],
        paint: { "circle-radius": 7, "circle-color": "#ff6f00", "circle-stroke-color": "#fff",
          "circle-stroke-width": 2 } },
      { id: "positions", type: "circle", source: "positions",
        paint: { "circle-radius": 6,
          "circle-color": ["case", ["get", "on_duty"],
            ["case", ["get", "in_own_grids"], "#2e7d32", "#e53935"], "#9e9e9e"],
          "circle-stroke-color": "#fff", "circle-stroke-width": 1.5 } },
    );
    const [lon, lat] = this.frame.toMap(117.3, 31.8);
    this.map = new maplibregl.Map({
      container: this.container,
      style: { version: 8, sources, layers },
      center: [lon, lat],
      zoom: 11,
      dragRotate: false,
      attributionControl: { compact: true },
    });
    this.map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
    this.map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-right");
    await new Promise((resolve) => this.map.once("load", resolve));
  }

  set(name, fc) {
    const data = {
      type: "FeatureCollection",
      features: (fc.features || []).map((f) => ({ ...f, geometry: shift(this.frame, f.geometry) })),
    };
    this.map.getSource(name).setData(data);
    this.data[name] = data;
    return data;
  }

  clear(...names) {
    for (const name of names) {
      this.map.getSource(name).setData(EMPTY);
      this.data[name] = EMPTY;
    }
  }

  fit(fc) {
    const xs = [];
    const ys = [];
    const walk = (c) => {
      if (typeof c[0] === "number") { xs.push(c[0]); ys.push(c[1]); } else c.forEach(walk);
    };
    for (const f of fc.features || []) if (f.geometry) walk(f.geometry.coordinates);
    if (!xs.length) return;
    this.map.fitBounds([[Math.min(...xs), Math.min(...ys)], [Math.max(...xs), Math.max(...ys)]],
      { padding: 40, maxZoom: 16, duration: 0 });
  }
}
