// gridgov dispatcher console (网格化指挥调度台): login, event list with filters, map,
// event detail with the actions the caller's role allows, live updates over SSE.
// Everything is fetched from the gridgov service that served this page, including the
// case vocabulary and its labels (/console/config.json).
//
// This module boots the page and starts a session; the jobs live beside it: login.js,
// list.js (counts, filters, list), detail.js, actions.js (and relocation), live.js (SSE),
// map.js, and vocab.js / state.js (what the modules share).

import { onDragged } from "./actions.js";
import { initAnalysis } from "./analysis.js"; // issue 11: heatmap and hotspot layers
import { Api, ApiError } from "./api.js";
import { initCasework } from "./casework.js";
import { makeFrame, gcj02ToWgs84, wgs84ToGcj02 } from "./crs.js";
import { closeDetail, locateAt, reloadDetail, select } from "./detail.js";
import {
  debouncedList, loadList, mapFilter, renderBadge, renderFilters, resetFilters,
} from "./list.js";
import { connectStream, ensureAudio } from "./live.js";
import { initLogin, logout, showLogin } from "./login.js";
import { ConsoleMap } from "./map.js";
import { showCalendarWarnings } from "./notices.js";
import { initOutbox } from "./outbox.js";
import { L, state } from "./state.js";
import { $, h } from "./util.js";
import { levelOf, prefixAt, setVocab } from "./vocab.js";

// -- boot --------------------------------------------------------------------------------

async function boot() {
  const config = await fetch("config.json", { headers: { Accept: "application/json" } })
    .then((r) => r.json());
  state.config = config;
  state.labels = config.labels || {};
  setVocab(config);
  showCalendarWarnings(config.calendar);
  state.api = new Api(config.api_base || "");
  state.frame = makeFrame(config.basemap && config.basemap.crs);
  state.api.onUnauthorized = () => logout("登录已过期，请重新登录");
  document.addEventListener("pointerdown", ensureAudio, { capture: true });
  initLogin(start);
  $("#bell").addEventListener("click", () => {
    state.newCount = 0;
    renderBadge();
    state.filters.status = "";
    state.page = 0;
    loadList();
  });
  if (state.api.token) {
    try {
      await start();
      return;
    } catch (err) {
      if (!(err instanceof ApiError)) console.error(err);
    }
  }
  const msg = sessionStorage.getItem("gridgov.console.msg");
  sessionStorage.removeItem("gridgov.console.msg");
  showLogin(msg || "");
}

async function start() {
  state.me = await state.api.get("/v1/auth/me");
  $("#login").hidden = true;
  $("#app").hidden = false;
  const jur = state.me.jurisdiction;
  const [area] = await Promise.all([loadJurisdiction(jur), loadFilterOptions(jur)]);
  renderWho(area);
  initCasework();
  initOutbox(); // admins: results sent back to sources, dead letters
  renderFilters();
  loadList(); // the list does not wait for the map
  connectStream();
  const map = new ConsoleMap($("#map"), {
    api: state.api,
    config: state.config,
    frame: state.frame,
    handlers: {
      onEventClick: (id) => select(id),
      onLocate: locateAt,
      onDragged: onDragged,
    },
  });
  try {
    await map.init({ eventsQuery: eventsTileQuery(jur), bounds: area && area.bbox,
      jurisdiction: jur });
    state.map = map;
    state.analysis = initAnalysis(map, state.api, state.me); // analytics:read only
    if (jur) map.showJurisdiction(state.me.jurisdiction_level || levelOf(jur), jur);
    map.map.on("moveend", () => {
      if (state.filters.inview) debouncedList();
    });
    for (const ev of state.pendingLive.splice(0)) map.upsertLive(ev);
    mapFilter();
  } catch (err) {
    // No WebGL (or no map library): the list, details and actions still work.
    console.error(err);
    $("#map").append(h("div.map-msg", `地图无法显示（需要支持 WebGL 的浏览器）：${err.message}`));
  }
  const fromHash = Number(location.hash.replace("#event-", ""));
  if (fromHash) select(fromHash);
  // For tests and the browser console: the state and a few entry points.
  window.gridgovConsole = { state, select, loadList, reloadDetail, reset,
    crs: { wgs84ToGcj02, gcj02ToWgs84 } };
  document.body.dataset.ready = "1";
}

/** Server-side filter of the events tiles: a street (or larger) jurisdiction. */
function eventsTileQuery(jur) {
  const street = prefixAt(jur, "street");
  return street ? `street_code=${encodeURIComponent(street)}` : "";
}

async function loadJurisdiction(code) {
  if (!code) return null;
  const level = levelOf(code);
  const collection = { district: "districts", street: "streets", community: "communities",
    grid: "grids" }[level];
  try {
    const f = await state.api.get(`/collections/${collection}/items/${code}`);
    return { code, level, name: f.properties?.name, bbox: bboxOf(f.geometry) };
  } catch {
    return { code, level, name: null, bbox: null };
  }
}

function bboxOf(geom) {
  if (!geom) return null;
  let [a, b, c, d] = [Infinity, Infinity, -Infinity, -Infinity];
  const walk = (x) => {
    if (typeof x[0] === "number") {
      a = Math.min(a, x[0]); b = Math.min(b, x[1]); c = Math.max(c, x[0]); d = Math.max(d, x[1]);
    } else x.forEach(walk);
  };
  walk(geom.coordinates);
  return Number.isFinite(a) ? [a, b, c, d] : null;
}

async function loadFilterOptions(jur) {
  const [cats, streets, communities] = await Promise.all([
    state.api.get("/v1/categories").catch(() => null),
    state.api.get("/collections/streets/items", { limit: 1000 }).catch(() => null),
    state.api.get("/collections/communities/items", { limit: 1000 }).catch(() => null),
  ]);
  state.categories = normaliseCategories(cats);
  const areas = [];
  for (const [level, fc] of [["street", streets], ["community", communities]]) {
    for (const f of (fc && fc.features) || []) {
      const code = String(f.properties.code || f.id);
      state.areaNames.set(code, f.properties.name);
      if (jur && !code.startsWith(jur)) continue;
      if (jur && code === jur) continue;
      areas.push({ code, name: f.properties.name, level });
    }
  }
  areas.sort((x, y) => x.code.localeCompare(y.code));
  state.areas = areas;
}

function normaliseCategories(data) {
  const list = Array.isArray(data) ? data : data?.items || data?.categories || [];
  return list
    .map((c) => ({ code: String(c.code ?? c.category_code ?? ""),
      name: c.name ?? c.label ?? c.category_name ?? "",
      major: c.major_name ? `${c.major_code || ""} ${c.major_name}`.trim() : "" }))
    .filter((c) => c.code);
}

// -- header ------------------------------------------------------------------------------

function renderWho(area) {
  const me = state.me;
  const areaText = me.jurisdiction
    ? `${area?.name || ""}（${me.jurisdiction}）`
    : "全部辖区";
  $("#who").replaceChildren(
    h("span.who-name", me.display_name || me.name),
    " · ",
    h("span.who-role", me.role_label || L("roles", me.role) || me.kind),
    h("small.who-area", `辖区：${areaText}`),
  );
  $("#who").dataset.user = me.name;
}

/** Back to the start: no selection, no popup, no filters, the live stream connected. */
async function reset() {
  closeDetail();
  state.map?.popupRef?.remove();
  state.newCount = 0;
  renderBadge();
  for (const t of document.querySelectorAll(".toast")) t.remove();
  if (!state.stream || state.stream.readyState === EventSource.CLOSED) connectStream();
  await resetFilters();
}

boot().catch((err) => {
  console.error(err);
  document.body.append(h("div.map-msg", `控制台启动失败：${err.message}`));
});
