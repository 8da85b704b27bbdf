// 城市运行驾驶舱 (the cockpit): live counts, vital signs and their thresholds, the 30-day
// trend, the heat map and Gi* hot spots with a month slider, and the top recurrent
// problems. Everything comes from this service's API with the user's token; nothing is
// loaded from another host. Labels come from /console/config.json and /v1/vitals.

import { Api, ApiError } from "./api.js";
import { $, h } from "./util.js";

const api = new Api("");
const HOT_COLOURS = { "-3": "#4575b5", "-2": "#849eba", "-1": "#c0ccbe", 0: "rgba(0,0,0,0)",
  1: "#fab984", 2: "#ed7551", 3: "#d62f27" };
const BIN_LABELS = { 3: "热点99%", 2: "热点95%", 1: "热点90%", "-1": "冷点90%", "-2": "冷点95%",
  "-3": "冷点99%" };
const REFRESH_MS = 15000;
let map = null;
let config = null;

function months() {
  // The last 12 calendar months (Beijing time), oldest first; index 12 = everything.
  const now = new Date(Date.now() + 8 * 3600 * 1000);
  const out = [];
  for (let i = 11; i >= 0; i--) {
    const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - i, 1));
    out.push(`${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, "0")}`);
  }
  return out;
}

function period() {
  const i = Number($("#month").value);
  const list = months();
  if (i >= 12) return {};
  const [y, m] = list[i].split("-").map(Number);
  const next = m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, "0")}`;
  return { from: `${list[i]}-01T00:00:00`, to: `${next}-01T00:00:00` };
}

function query(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) u.set(k, v);
  const s = u.toString();
  return s ? `?${s}` : "";
}

async function loadCounts() {
  const today = new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 10);
  const [all, fresh] = await Promise.all([
    api.get("/v1/events", { limit: 1 }),
    api.get("/v1/events", { limit: 1, from: `${today}T00:00:00` }),
  ]);
  const open = (config.vocab.open || []).reduce((n, s) => n + (all.counts[s] || 0), 0);
  const tile = (label, n, cls = "") => h(`div.tile${cls}`, h("b", n), label);
  $("#live-counts").replaceChildren(
    tile("今日新增", fresh.total, ""), tile("在办", open), tile("超期", all.counts.overdue || 0,
      (all.counts.overdue || 0) > 0 ? ".warn" : ""), tile("累计", all.total));
}

async function loadVitals() {
  const data = await api.get("/v1/vitals");
  const rows = data.thresholds.map((t) => h(`tr${t.crossed_now ? ".crossed" : ""}`,
    { dataset: { indicator: t.indicator } },
    h("td", t.label || t.name), h("td", t.area_code || "全区"),
    h("td", t.current === null ? "—" : Number(t.current).toFixed(2)),
    h("td", `${t.op} ${t.value}`), h("td", t.crossed_now ? "越限告警" : "正常")));
  if (!rows.length) rows.push(h("tr", h("td", { colspan: 5 }, "尚未设置阈值")));
  $("#vitals tbody").replaceChildren(...rows);
  drawTrend(data.trend);
}

function drawTrend(trend) {
  const max = Math.max(1, ...trend.map((d) => d.count));
  const w = 10;
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", `0 0 ${trend.length * w} 100`);
  svg.setAttribute("preserveAspectRatio", "none");
  trend.forEach((d, i) => {
    const r = document.createElementNS("http://www.w3.org/2000/svg", "rect");
    const height = (d.count / max) * 96;
    r.setAttribute("x", String(i * w + 1));
    r.setAttribute("y", String(100 - height));
    r.setAttribute("width", String(w - 2));
    r.setAttribute("height", String(height));
    const title = document.createElementNS("http://www.w3.org/2000/svg", "title");
    title.textContent = `${d.day}：${d.count} 件`;
    r.append(title);
    svg.append(r);
  });
  $("#trend").replaceChildren(svg);
}

async function loadRecurrent() {
  const data = await api.get("/v1/analytics/recurrent", { limit: 10, min_days: 2, ...period() });
  const items = data.features.map((f) => {
    const p = f.properties;
    return h("li", { dataset: { category: p.category_code } },
      `${p.category_code} · ${p.grid_code || "—"}：${p.events} 件 / ${p.days} 天`);
  });
  if (!items.length) items.push(h("li.muted", "暂无反复发生的问题"));
  $("#recurrent").replaceChildren(...items);
}

function heatUrl() {
  return `${location.origin}/v1/analytics/density/{z}/{x}/{y}.png${query(period())}`;
}

async function loadHotspots() {
  const data = await api.get("/v1/analytics/hotspots", { permutations: 99, ...period() });
  if (!map.getSource("hot")) {
    map.addSource("hot", { type: "geojson", data });
    map.addLayer({ id: "hot-fill", type: "fill", source: "hot", paint: {
      "fill-color": ["match", ["to-string", ["get", "bin"]],
        ...Object.entries(HOT_COLOURS).flatMap(([k, v]) => [String(k), v]), "rgba(0,0,0,0)"],
      "fill-opacity": 0.6 } });
    map.addLayer({ id: "hot-line", type: "line", source: "hot",
      paint: { "line-color": "#2c4a6b", "line-width": 0.4 } });
    const b = data.features.length ? bounds(data) : null;
    if (b) map.fitBounds(b, { padding: 10, duration: 0 });
  } else {
    map.getSource("hot").setData(data);
  }
  $("#map").dataset.hotspots = String(data.features.filter((f) => f.properties.bin > 0).length);
}

function bounds(fc) {
  let minx = 180, miny = 90, maxx = -180, maxy = -90;
  const walk = (c) => {
    if (typeof c[0] === "number") {
      minx = Math.min(minx, c[0]); maxx = Math.max(maxx, c[0]);
      miny = Math.min(miny, c[1]); maxy = Math.max(maxy, c[1]);
    } else c.forEach(walk);
  };
  fc.features.forEach((f) => walk(f.geometry.coordinates));
  return [[minx, miny], [maxx, maxy]];
}

function initMap() {
  map = new maplibregl.Map({
    container: "map",
    style: { version: 8, sources: {}, layers: [
      { id: "bg", type: "background", paint: { "background-color": "#0e2236" } }] },
    center: [117.3, 31.77], zoom: 11, minZoom: 8, maxZoom: 18, attributionControl: false,
    transformRequest: (url) => (url.startsWith(location.origin) && api.token
      ? { url, headers: { Authorization: `Bearer ${api.token}` } } : { url }),
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  return new Promise((resolve) => map.on("load", () => {
    map.addSource("heat", { type: "raster", tiles: [heatUrl()], tileSize: 256 });
    map.addLayer({ id: "heat", type: "raster", source: "heat", paint: { "raster-opacity": 0.85 } });
    resolve();
  }));
}

function legend() {
  $("#hot-legend").replaceChildren(...Object.entries(BIN_LABELS).map(([k, label]) =>
    h("span", h("i", { style: `background:${HOT_COLOURS[k]}` }), ` ${label}`)));
}

async function onMonth() {
  const i = Number($("#month").value);
  $("#month-label").value = i >= 12 ? "全部" : months()[i];
  map.getSource("heat").setTiles([heatUrl()]);
  await Promise.all([loadHotspots(), loadRecurrent()]);
}

async function refresh() {
  await Promise.all([loadCounts(), loadVitals()]);
  $("#updated").textContent = `更新于 ${new Date().toLocaleTimeString("zh-CN", { hour12: false })}`;
}

async function start() {
  $("#login").hidden = true;
  $("#app").hidden = false;
  config = await api.get("/console/config.json");
  legend();
  await initMap();
  $("#month").addEventListener("input", () => onMonth());
  $("#show-heat").addEventListener("change", (e) =>
    map.setLayoutProperty("heat", "visibility", e.target.checked ? "visible" : "none"));
  $("#show-hot").addEventListener("change", (e) => {
    for (const id of ["hot-fill", "hot-line"]) {
      map.setLayoutProperty(id, "visibility", e.target.checked ? "visible" : "none");
    }
  });
  await Promise.all([refresh(), loadHotspots(), loadRecurrent()]);
  document.body.dataset.ready = "1";
  setInterval(() => refresh().catch(() => {}), REFRESH_MS);
}

function showLogin(message = "") {
  $("#app").hidden = true;
  $("#login").hidden = false;
  $("#login-error").textContent = message;
}

api.onUnauthorized = () => showLogin("登录已过期，请重新登录");
$("#login-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    await api.login($("#username").value.trim(), $("#password").value);
    await start();
  } catch (err) {
    showLogin(err instanceof ApiError && err.status === 403
      ? "该账号没有分析权限（analytics:read）"
      : err instanceof ApiError && err.status === 400 ? "用户名或密码错误" : `登录失败：${err.message}`);
    if (err instanceof ApiError && err.status === 403) api.setToken(null);
  }
});
if (api.token) start().catch(() => showLogin()); else showLogin();
