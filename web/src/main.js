// gridgov dispatcher console (网格化指挥调度台): login, event list with filters, map,
// event detail with the actions the caller's role allows, live updates over SSE.
// Everything is fetched from the gridgov service that served this page.

import { Api, ApiError } from "./api.js";
import { makeFrame, gcj02ToWgs84, wgs84ToGcj02 } from "./crs.js";
import { ConsoleMap, CLOSED } from "./map.js";
import {
  $, h, debounce, fmtAgo, fmtRemaining, fmtTime, localInputToIso,
} from "./util.js";

const PAGE_SIZE = 50;
const DEFAULT_LABELS = {
  statuses: { reported: "待受理", rejected: "不予立案", filed: "已立案", dispatched: "已派遣",
    handled: "已处置", verified: "已核查", closed: "已结案", evaluated: "已评价",
    parked: "挂账", merged: "已合并" },
  actions: { file: "立案", reject: "不予立案", dispatch: "派遣", return: "退回",
    handle: "处置", verify_pass: "核查通过", verify_fail: "核查不通过", close: "结案",
    evaluate: "评价", escalate: "上报", delegate: "下派", extend: "延期", park: "挂账",
    resume: "解除挂账", supervise: "督办", urge: "催办", merge: "合并", reroute: "改派",
    report: "采集上报", relocate: "位置更正" },
  roles: { dispatcher: "派遣员", handler: "处置人员", verifier: "核查员",
    supervisor: "督办员", grid_member: "网格员", admin: "管理员", analyst: "分析员",
    planner: "规划员", system: "系统" },
  sources: {},
  priorities: { normal: "一般", urgent: "紧急" },
  levels: { community: "社区", street: "街道", district: "区" },
  time_units: { working_hours: "工作时", working_days: "工作日" },
};
const STATUS_ORDER = ["reported", "filed", "dispatched", "handled", "verified", "parked",
  "closed", "evaluated", "rejected", "merged"];
const ALWAYS_SHOWN = ["reported", "filed", "dispatched", "handled", "verified"];
const NOTE_REQUIRED = ["reject", "return", "verify_fail", "park", "extend"];
const PRIMARY = ["file", "dispatch", "handle", "verify_pass", "close", "resume"];
const DANGER = ["reject", "return", "verify_fail", "park"];

const NO_FILTERS = { status: "", category_code: "", source: "", priority: "", area: "",
  overdue: false, from: "", to: "", inview: false };

const state = {
  config: null,
  labels: DEFAULT_LABELS,
  api: null,
  frame: null,
  me: null,
  map: null,
  filters: null,
  page: 0,
  list: { items: [], total: 0, counts: {} },
  selectedId: null,
  detail: null,
  notice: null,
  newCount: 0,
  fresh: new Map(),
  stream: null,
  areaNames: new Map(),
  units: null,
  audio: null,
  listSeq: 0,
  pendingLive: [],
};
state.filters = { ...NO_FILTERS };

const L = (group, key) => (key == null ? "" : state.labels[group]?.[key] ?? key);

// -- boot --------------------------------------------------------------------------------

async function boot() {
  const config = await fetch("config.json", { headers: { Accept: "application/json" } })
    .then((r) => r.json());
  state.config = config;
  state.labels = mergeLabels(DEFAULT_LABELS, config.labels || {});
  state.api = new Api(config.api_base || "");
  state.frame = makeFrame(config.basemap && config.basemap.crs);
  state.api.onUnauthorized = () => logout("登录已过期，请重新登录");
  document.addEventListener("pointerdown", ensureAudio, { capture: true });
  $("#login-form").addEventListener("submit", onLogin);
  $("#logout").addEventListener("click", () => logout());
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

function mergeLabels(base, extra) {
  const out = {};
  for (const k of new Set([...Object.keys(base), ...Object.keys(extra)])) {
    out[k] = { ...(base[k] || {}), ...(extra[k] || {}) };
  }
  return out;
}

function showLogin(message = "") {
  $("#app").hidden = true;
  $("#login").hidden = false;
  $("#login-error").textContent = message;
  $("#username").focus();
}

async function onLogin(e) {
  e.preventDefault();
  ensureAudio();
  const btn = $("#login-submit");
  btn.disabled = true;
  $("#login-error").textContent = "";
  try {
    await state.api.login($("#username").value.trim(), $("#password").value);
    $("#password").value = "";
    await start();
  } catch (err) {
    $("#login-error").textContent =
      err instanceof ApiError && err.status === 400 ? "用户名或密码错误" : `登录失败：${err.message}`;
  } finally {
    btn.disabled = false;
  }
}

function logout(message = "") {
  if (state.stream) state.stream.close();
  state.stream = null;
  state.api.setToken(null);
  location.hash = "";
  if (message) sessionStorage.setItem("gridgov.console.msg", message);
  location.reload();
}

async function start() {
  state.me = await state.api.get("/v1/auth/me");
  $("#login").hidden = true;
  $("#app").hidden = false;
  const jur = state.me.jurisdiction;
  const [area] = await Promise.all([loadJurisdiction(jur), loadFilterOptions(jur)]);
  renderWho(area);
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

function levelOf(code) {
  return { 6: "district", 9: "street", 12: "community", 15: "grid" }[code.length] || "district";
}

/** Server-side filter of the events tiles: a street (or larger) jurisdiction. */
function eventsTileQuery(jur) {
  if (jur && jur.length >= 9) return `street_code=${encodeURIComponent(jur.slice(0, 9))}`;
  return "";
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

function renderCounts(counts) {
  const chips = [];
  for (const s of STATUS_ORDER) {
    const n = counts[s] || 0;
    if (!n && !ALWAYS_SHOWN.includes(s)) continue;
    chips.push(h(`button.chip${state.filters.status === s ? ".on" : ""}`, {
      type: "button", dataset: { status: s }, title: `只看${L("statuses", s)}`,
      on: { click: () => setFilter({ status: state.filters.status === s ? "" : s }) },
    }, L("statuses", s), h("b", n)));
  }
  chips.push(h(`button.chip.overdue${state.filters.overdue ? ".on" : ""}`, {
    type: "button", dataset: { status: "overdue" }, title: "只看超期",
    on: { click: () => setFilter({ overdue: !state.filters.overdue }) },
  }, "超期", h("b", counts.overdue || 0)));
  $("#counts").replaceChildren(...chips);
}

function renderBadge() {
  const b = $("#badge");
  b.hidden = state.newCount === 0;
  b.textContent = state.newCount > 99 ? "99+" : String(state.newCount);
}

// -- filters and list --------------------------------------------------------------------

function renderFilters() {
  const opt = (value, text, sel) => h("option", { value, selected: sel === value }, text);
  const f = state.filters;
  const select = (name, label, options, cls = "") =>
    h(`label${cls}`, label, h("select", { name, dataset: { filter: name } },
      opt("", "全部", f[name]),
      ...options.map((o) => (o instanceof Node ? o : opt(o[0], o[1], f[name])))));
  // Event classes grouped by their major class (大类).
  const groups = new Map();
  for (const c of state.categories || []) {
    if (!groups.has(c.major)) groups.set(c.major, []);
    groups.get(c.major).push(c);
  }
  const cats = [...groups].map(([major, list]) => h("optgroup", { label: major || "其他" },
    list.map((c) => opt(c.code, `${c.name}（${c.code}）`, f.category_code))));
  const form = $("#filters");
  form.replaceChildren(
    select("status", "状态", STATUS_ORDER.map((s) => [s, L("statuses", s)])),
    select("priority", "紧急程度", Object.entries(state.labels.priorities)),
    select("category_code", "类别", cats, ".wide"),
    select("source", "来源", Object.entries(state.labels.sources)),
    select("area", "区域", (state.areas || []).map((a) => [a.code,
      `${a.level === "community" ? "　" : ""}${a.name || a.code}`])),
    h("label", "上报时间起", h("input", { type: "datetime-local", name: "from",
      dataset: { filter: "from" } })),
    h("label", "上报时间止", h("input", { type: "datetime-local", name: "to",
      dataset: { filter: "to" } })),
    h("div.checks",
      h("label", h("input", { type: "checkbox", name: "overdue", dataset: { filter: "overdue" },
        checked: f.overdue }), "仅超期"),
      h("label", h("input", { type: "checkbox", name: "inview", dataset: { filter: "inview" },
        checked: f.inview }), "仅地图范围内"),
      h("span.spacer"),
      h("button", { type: "reset", on: { click: resetFilters } }, "重置")),
  );
  form.onchange = (e) => {
    const el = e.target;
    if (!el.name) return;
    setFilter({ [el.name]: el.type === "checkbox" ? el.checked : el.value });
  };
  form.onsubmit = (e) => e.preventDefault();
}

function resetFilters(e) {
  if (e) e.preventDefault();
  Object.assign(state.filters, NO_FILTERS);
  renderFilters();
  return applyFilters();
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

function setFilter(patch) {
  Object.assign(state.filters, patch);
  for (const [k, v] of Object.entries(patch)) {
    const el = $(`#filters [name="${k}"]`);
    if (!el) continue;
    if (el.type === "checkbox") el.checked = Boolean(v);
    else el.value = v;
  }
  applyFilters();
}

function applyFilters() {
  state.page = 0;
  mapFilter();
  return loadList();
}

function mapFilter() {
  const f = state.filters;
  if (state.map) {
    state.map.setEventFilter({ ...f, from: localInputToIso(f.from), to: localInputToIso(f.to) });
  }
}

function listParams() {
  const f = state.filters;
  const p = {
    status: f.status, category_code: f.category_code, source: f.source, priority: f.priority,
    area: f.area, overdue: f.overdue ? "true" : "", from: localInputToIso(f.from),
    to: localInputToIso(f.to), order: "urgency", limit: PAGE_SIZE, offset: state.page * PAGE_SIZE,
  };
  if (f.inview && state.map) {
    const b = state.map.map.getBounds();
    const [x0, y0] = state.frame.toWgs(b.getWest(), b.getSouth());
    const [x1, y1] = state.frame.toWgs(b.getEast(), b.getNorth());
    p.bbox = [x0, y0, x1, y1].map((v) => v.toFixed(6)).join(",");
  }
  return p;
}

async function loadList() {
  const seq = ++state.listSeq;
  $("#list-meta").textContent = "加载中…";
  try {
    const data = await state.api.get("/v1/events", listParams());
    if (seq !== state.listSeq) return;
    state.list = { items: data.items || [], total: data.total || 0, counts: data.counts || {} };
    renderList();
    renderCounts(state.list.counts);
  } catch (err) {
    if (seq !== state.listSeq) return;
    $("#list-meta").textContent = `列表加载失败：${err.message}`;
  }
}
const debouncedList = debounce(loadList, 600);

function lightClass(ev) {
  if (CLOSED.includes(ev.status)) return "closed";
  return ev.light || "none";
}

function renderList() {
  const { items, total } = state.list;
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  $("#list-meta").textContent = `共 ${total} 条 · 超期与紧急优先`;
  const now = Date.now();
  for (const [id, until] of state.fresh) if (until < now) state.fresh.delete(id);
  const rows = items.map((ev) => {
    const late = ev.overdue;
    return h(`li.ev${ev.id === state.selectedId ? ".selected" : ""}${
      state.fresh.has(ev.id) ? ".fresh" : ""}`, {
      dataset: { id: ev.id, status: ev.status, street: ev.street_code || "",
        grid: ev.grid_code || "" },
      on: { click: () => select(ev.id) },
    },
    h(`i.dot.${lightClass(ev)}`, { title: ev.light ? `${ev.light}` : "" }),
    h("div.l1",
      h("span.cat", ev.category_name || ev.category_code || "未分类"),
      h(`span.st.${ev.status}`, ev.status_label || L("statuses", ev.status)),
      ev.priority === "urgent" && h("span.tag.urgent", "紧急"),
      late && h("span.tag.overdue", "超期"),
      state.fresh.has(ev.id) && h("span.tag.new", "新")),
    h("div.l2", `#${ev.id} · ${ev.source_label || L("sources", ev.source) || ev.source || ""}`,
      ev.address ? ` · ${ev.address}` : ""),
    h("div.l3", `${fmtTime(ev.reported_at)} 上报（${fmtAgo(ev.reported_at)}）`,
      ev.deadline_at && !CLOSED.includes(ev.status)
        ? h(`span${late ? ".late" : ""}`, ` · ${fmtRemaining(ev.deadline_at)}`) : ""));
  });
  $("#list").replaceChildren(...(rows.length ? rows : [h("li.empty", "没有符合条件的事件")]));
  $("#pager").replaceChildren(
    h("button", { type: "button", disabled: state.page === 0,
      on: { click: () => { state.page -= 1; loadList(); } } }, "上一页"),
    h("span", `第 ${state.page + 1} / ${pages} 页`),
    h("button", { type: "button", disabled: state.page + 1 >= pages,
      on: { click: () => { state.page += 1; loadList(); } } }, "下一页"),
  );
}

function patchListItem(ev) {
  const i = state.list.items.findIndex((x) => x.id === ev.id);
  if (i >= 0) {
    state.list.items[i] = { ...state.list.items[i], ...ev };
    renderList();
  }
}

// -- detail ------------------------------------------------------------------------------

async function select(id) {
  state.selectedId = id;
  state.notice = null;
  location.hash = `event-${id}`;
  for (const li of document.querySelectorAll(".ev")) {
    li.classList.toggle("selected", Number(li.dataset.id) === id);
  }
  const panel = $("#detail");
  panel.hidden = false;
  panel.replaceChildren(h("div.empty", "加载中…"));
  try {
    await reloadDetail({ fly: true });
  } catch (err) {
    panel.replaceChildren(detailHeader(null, id), h("div.notice.conflict",
      err.status === 404 ? "事件不存在，或不在您的辖区内。" : `加载失败：${err.message}`));
  }
}

async function reloadDetail({ fly = false, keepNote = true } = {}) {
  const id = state.selectedId;
  if (id == null) return;
  const note = keepNote ? $("#action-note")?.value || "" : "";
  const ev = await state.api.get(`/v1/events/${id}`);
  if (state.selectedId !== id) return;
  state.detail = ev;
  renderDetail(ev);
  if (note && $("#action-note")) $("#action-note").value = note;
  state.map?.select(ev, { fly });
  state.map?.upsertLive(ev);
  patchListItem(ev);
  loadPlace(ev);
}

function closeDetail() {
  state.selectedId = null;
  state.detail = null;
  location.hash = "";
  $("#detail").hidden = true;
  state.map?.select(null);
  for (const li of document.querySelectorAll(".ev.selected")) li.classList.remove("selected");
}

function detailHeader(ev, id) {
  return h("header",
    h("h2", ev && h(`i.dot.${lightClass(ev)}`), `#${id ?? ev.id}`,
      ev && h("span", ev.category_name || ev.category_code || ""),
      ev && h(`span.st.${ev.status}#detail-status`, ev.status_label || L("statuses", ev.status))),
    ev && h("div", ev.priority === "urgent" && h("span.tag.urgent", "紧急"), " ",
      ev.overdue && h("span.tag.overdue", "超期"), " ",
      h("span.mono", `版本 ${ev.version}`)),
    h("button.close", { type: "button", title: "关闭", on: { click: closeDetail } }, "×"));
}

function kv(pairs) {
  return h("dl.kv", pairs.filter(Boolean).flatMap(([k, v, attrs]) =>
    [h("dt", k), h("dd", attrs || {}, v ?? "—")]));
}

function renderDetail(ev) {
  const r = ev.routing || {};
  const unit = r.unit || {};
  const limit = ev.time_limit ? `${ev.time_limit.value} ${L("time_units", ev.time_limit.unit)}`
    : "—";
  const deadline = ev.deadline_at
    ? `${fmtTime(ev.deadline_at, true)}${CLOSED.includes(ev.status) ? "" : `（${fmtRemaining(
      ev.deadline_at)}）`}` : "—";
  const rule = r.rule || null;
  const sections = [
    detailHeader(ev),
    state.notice && h(`div.notice.${state.notice.kind}#detail-notice`, state.notice.text,
      state.notice.reload && h("button", { type: "button", on: { click: async () => {
        state.notice = null;
        await reloadDetail({ keepNote: true });
      } } }, "重新加载")),
    h("section",
      h("h3", "事件"),
      kv([
        ["来源", `${ev.source_label || L("sources", ev.source) || ev.source}${
          ev.external_id ? `（${ev.external_id}）` : ""}`],
        ["描述", ev.description],
        ["地址", ev.address],
        ["上报", fmtTime(ev.reported_at, true)],
        ev.filed_at && ["立案", fmtTime(ev.filed_at, true)],
        ev.dispatched_at && ["派遣", fmtTime(ev.dispatched_at, true)],
        ev.handled_at && ["处置", fmtTime(ev.handled_at, true)],
        ev.closed_at && ["结案", fmtTime(ev.closed_at, true)],
        ["层级", L("levels", ev.level)],
        ev.rework_count ? ["返工", `${ev.rework_count} 次`] : null,
      ])),
    h("section#detail-place",
      h("h3", "位置与责任"),
      kv([
        ["网格", h("span", h("span.mono#detail-grid", ev.grid_code || "无（不在网格内）"),
          h("span#detail-grid-name", r.grid?.name ? ` ${r.grid.name}` : ""))],
        ["社区", placeName(ev.community_code), { id: "detail-community" }],
        ["街道", placeName(ev.street_code), { id: "detail-street" }],
        ["区", placeName(ev.district_code), { id: "detail-district" }],
        ["网格员", "—", { id: "detail-staff" }],
        ["责任单位", unit.name ? `${unit.name}${unit.code ? `（${unit.code}）` : ""}`
          : r.queue === "district_centre" ? "区指挥中心待分拨" : "—", { id: "detail-unit" }],
        ["处置时限", limit],
        ["截止", deadline, { id: "detail-deadline" }],
        ["坐标", ev.lon != null ? `${ev.lon.toFixed(6)}, ${ev.lat.toFixed(6)}` : "—"],
      ]),
      ev.lon != null && h("p.hint", { style: "color:#6b7280;font-size:11px;margin:4px 0 0" },
        "在地图上拖动橙色圆圈可更正位置，系统将重新定位并派遣。")),
    h("section#detail-routing",
      h("h3", "派遣依据"),
      kv([
        ["规则", rule ? `${rule.description_zh || rule.description || `#${rule.id}`}${rule.note ? `（${rule.note}）` : ""}`
          : "无匹配规则"],
        ["队列", r.queue === "district_centre" ? "区指挥中心" : r.queue === "unit" ? "责任单位" : r.queue],
        r.layers && r.layers.length ? ["责任图层", r.layers.map((x) =>
          `${x.name || x.kind}${x.kind ? `（${x.kind}）` : ""}`).join("、")] : null,
        r.polygon ? ["命中面", r.polygon_zh ? r.polygon_zh : typeof r.polygon === "string" ? r.polygon
          : `${r.polygon.level || ""} ${r.polygon.code || ""}`.trim() || JSON.stringify(r.polygon)]
          : null,
      ]),
      h("p.why#detail-why", r.why_zh || r.why || r.reason || "—")),
    renderNearby(ev),
    renderDuplicates(ev),
    renderPhotos(ev),
    renderActions(ev),
    renderHistory(ev),
  ];
  $("#detail").replaceChildren(...sections.filter(Boolean));
}

function placeName(code) {
  if (!code) return "—";
  const name = state.areaNames.get(code);
  return name ? `${name}（${code}）` : code;
}

/** Names of the event's areas, grid staff and units, from the lookup service. */
async function loadPlace(ev) {
  if (ev.lon == null) return;
  try {
    const a = await state.api.get("/v1/locate", { lon: ev.lon, lat: ev.lat });
    if (state.selectedId !== ev.id) return;
    const set = (sel, text) => { const el = $(sel); if (el && text) el.textContent = text; };
    if (a.grid?.code === ev.grid_code) set("#detail-grid-name", ` ${a.grid.name || ""}`);
    set("#detail-community", a.community?.name && `${a.community.name}（${a.community.code}）`);
    set("#detail-street", a.street?.name && `${a.street.name}（${a.street.code}）`);
    set("#detail-district", a.district?.name && `${a.district.name}（${a.district.code}）`);
    set("#detail-staff", staffText(a.grid?.staff));
    if (!ev.routing?.unit?.name && a.grid?.unit_name) set("#detail-unit", a.grid.unit_name);
  } catch {
    /* names are a convenience; codes are already shown */
  }
}

function staffText(staff) {
  if (!staff || !staff.length) return "";
  return staff.slice(0, 3).map((s) => [s.name, s.role_label || s.role, s.phone]
    .filter(Boolean).join(" ")).join("；");
}

function renderNearby(ev) {
  const list = ev.nearby_components || [];
  if (!list.length) return null;
  return h("section#detail-nearby", h("h3", `附近同类部件（${list.length}）`),
    h("ol.small-list", list.slice(0, 8).map((c) =>
      h("li", h("span.mono", componentId(c)), ` ${c.class_name || c.class_code || c.class || ""}`,
        ` · ${Math.round(c.distance_m)} 米`, c.status ? ` · ${c.status}` : ""))));
}

function componentId(c) {
  return String(c.component_id ?? c.id ?? "");
}

function renderDuplicates(ev) {
  const dups = (ev.duplicates || []).map((d) => (typeof d === "object" ? d : { id: d }));
  if (ev.duplicate_of && !dups.some((d) => d.id === ev.duplicate_of)) {
    dups.unshift({ id: ev.duplicate_of, relation: "original" });
  }
  if (!dups.length) return null;
  return h("section#detail-duplicates", h("h3", `疑似重复（${dups.length}）`),
    h("ol.small-list", dups.slice(0, 10).map((d) => h("li",
      h("a", { on: { click: () => select(d.id) } }, `#${d.id}`),
      d.note ? ` ${d.note}` : "",
      d.relation ? ` ${d.relation === "original" ? "原事件" : "重复上报"}` : "",
      d.status ? ` ${d.status_label || L("statuses", d.status)}` : "",
      d.distance_m != null ? ` · ${Math.round(d.distance_m)} 米` : "",
      d.reported_at ? ` · ${fmtTime(d.reported_at)}` : ""))));
}

function renderPhotos(ev) {
  const photos = (ev.attachments || []).filter((a) => a.url);
  if (!photos.length) return null;
  return h("section#detail-photos", h("h3", `照片与附件（${photos.length}）`),
    h("div.photos", photos.map((a) => {
      const url = new URL(a.url, location.origin + "/");
      // Only our own server's files are shown inline: the console never loads other hosts.
      const local = url.origin === location.origin;
      const link = h("a", { href: local ? url.href : "#", target: "_blank", rel: "noopener",
        title: a.url }, a.kind === "photo" || /\.(jpe?g|png|webp)$/i.test(a.url) ? "照片" : "附件");
      if (local && /\.(jpe?g|png|webp|gif)$/i.test(url.pathname)) {
        const img = h("img", { src: url.href, alt: "照片", loading: "lazy" });
        img.addEventListener("error", () => img.remove());
        link.replaceChildren(img);
      }
      return link;
    })));
}

function renderHistory(ev) {
  const rows = ev.history || [];
  return h("section#detail-history", h("h3", `处理记录（${rows.length}）`),
    h("ol.history", rows.slice().reverse().map((r) => h("li",
      h("div", h("b", L("actions", r.action)),
        r.to_status && r.to_status !== r.from_status
          ? ` ${L("statuses", r.from_status) || ""} → ${L("statuses", r.to_status)}` : ""),
      h("div.at", `${fmtTime(r.at, true)} · ${r.actor || ""}${r.role ? `（${L("roles",
        r.role)}）` : ""}`),
      r.note && h("div.note", r.note)))));
}

function renderActions(ev) {
  const allowed = ev.allowed_actions || [];
  if (!allowed.length) {
    return h("section#detail-actions.actions", h("h3", "操作"),
      h("p", { style: "color:#6b7280;margin:0" }, "当前状态下您的角色没有可执行的操作。"));
  }
  const params = h("div.params#action-params");
  const needs = (a) => ["extend", "merge", "evaluate", "dispatch", "reroute"].includes(a);
  if (allowed.includes("extend")) {
    params.append(h("label", "延期 ", h("input#param-extend-value", { type: "number", min: "1",
      step: "1", value: "1", style: "width:56px" })), h("select#param-extend-unit",
      h("option", { value: "working_days" }, "工作日"),
      h("option", { value: "working_hours" }, "工作时")));
  }
  if (allowed.includes("merge")) {
    params.append(h("label", "合并到 #", h("input#param-merge-into", { type: "number",
      value: ev.duplicate_of || "", style: "width:80px" })));
  }
  if (allowed.includes("evaluate")) {
    params.append(h("label", "评分 ", h("select#param-score", [5, 4, 3, 2, 1].map((n) =>
      h("option", { value: n }, `${n} 分`)))));
  }
  if (allowed.includes("dispatch") || allowed.includes("reroute")) {
    const sel = h("select#param-unit", h("option", { value: "" },
      `按规则：${ev.routing?.unit?.name || "默认单位"}`));
    params.append(h("label", "派往 ", sel));
    loadUnits(ev, sel);
  }
  const buttons = allowed.map((a) => h(`button${PRIMARY.includes(a) ? ".primary" : ""}${
    DANGER.includes(a) ? ".danger" : ""}`, {
    type: "button", dataset: { action: a },
    title: NOTE_REQUIRED.includes(a) ? "需填写意见" : "",
    on: { click: () => act(ev, a) },
  }, L("actions", a)));
  return h("section#detail-actions.actions", h("h3", "操作"),
    h("textarea#action-note", { placeholder: "处理意见（不予立案、退回、核查不通过、挂账、延期时必填）" }),
    allowed.some(needs) ? params : null,
    h("div.buttons", buttons),
    h("p.error#action-error", { role: "alert" }));
}

async function loadUnits(ev, sel) {
  try {
    const data = await state.api.get("/v1/units", { area: ev.grid_code || ev.street_code || "" });
    const units = Array.isArray(data) ? data : data?.items || [];
    for (const u of units.slice(0, 200)) {
      if (u.id == null) continue;
      sel.append(h("option", { value: u.id }, `${u.name}${u.code ? `（${u.code}）` : ""}`));
    }
  } catch {
    /* the rule's unit stays the only choice */
  }
}

function actionParams(action) {
  const p = {};
  const val = (sel) => $(sel)?.value;
  if (action === "extend") {
    p.value = Number(val("#param-extend-value"));
    p.unit = val("#param-extend-unit");
  } else if (action === "merge") {
    p.into = Number(val("#param-merge-into"));
  } else if (action === "evaluate") {
    p.score = Number(val("#param-score"));
  } else if ((action === "dispatch" || action === "reroute") && val("#param-unit")) {
    p.unit_id = Number(val("#param-unit"));
  }
  return p;
}

async function act(ev, action) {
  const note = ($("#action-note")?.value || "").trim();
  const errBox = $("#action-error");
  if (NOTE_REQUIRED.includes(action) && !note) {
    errBox.textContent = `${L("actions", action)}需要填写处理意见。`;
    $("#action-note").focus();
    return;
  }
  for (const b of document.querySelectorAll("#detail-actions button")) b.disabled = true;
  try {
    // The action's parameters travel beside it: unit_id, value/unit, into, score.
    const body = { action, note, expected_version: ev.version, ...actionParams(action) };
    const updated = await state.api.post(`/v1/events/${ev.id}/actions`, body);
    state.notice = { kind: "ok", text: `${L("actions", action)}成功，当前状态：${
      updated.status_label || L("statuses", updated.status)}` };
    toast(`#${ev.id} 已${L("actions", action)}`);
    await reloadDetail({ keepNote: false });
    debouncedList();
  } catch (err) {
    handleActionError(err);
  }
}

function handleActionError(err) {
  if (err.status === 409) {
    state.notice = { kind: "conflict", reload: true,
      text: `操作冲突：该事件已被他人更新（${err.message}）。请重新加载后再操作。` };
    renderDetail(state.detail);
  } else {
    for (const b of document.querySelectorAll("#detail-actions button")) b.disabled = false;
    const box = $("#action-error");
    const text = err.status === 403 ? `无权执行：${err.message}`
      : err.status === 422 ? `无法执行：${err.message}` : `操作失败：${err.message}`;
    if (box) box.textContent = text;
    else toast(text, "error");
  }
}

// -- relocation (drag the selected event's marker) ----------------------------------------

function onDragged(ev, lon, lat) {
  if (!ev || state.selectedId !== ev.id) return;
  const note = h("input#relocate-note", { value: "位置更正", placeholder: "更正原因" });
  const panel = h("div.notice.info#relocate",
    h("div.relocate",
      h("div", `将事件 #${ev.id} 移到 ${lon.toFixed(6)}, ${lat.toFixed(6)}，重新定位网格并派遣？`),
      h("div.row", note,
        h("button.primary#relocate-confirm", { type: "button", on: { click: async () => {
          panel.querySelectorAll("button").forEach((b) => { b.disabled = true; });
          try {
            const updated = await state.api.post(`/v1/events/${ev.id}/relocate`, {
              lon, lat, crs: "wgs84", note: note.value.trim() || "位置更正",
              expected_version: ev.version });
            const unit = updated.routing?.unit?.name || "区指挥中心";
            state.notice = { kind: "ok", text: `位置已更正：网格 ${updated.grid_code || "无"}，` +
              `责任单位 ${unit}。` };
            await reloadDetail({ fly: false });
            state.map.reloadEvents(0);
            debouncedList();
          } catch (err) {
            state.map.resetMarker();
            handleActionError(err);
          }
        } } }, "确认更正"),
        h("button", { type: "button", on: { click: () => {
          state.map.resetMarker();
          panel.remove();
        } } }, "取消"))));
  $("#relocate")?.remove();
  const header = $("#detail header");
  if (header) header.after(panel);
  note.focus();
  note.select();
}

// -- click on the map: who owns this spot ------------------------------------------------

async function locateAt(lon, lat, lngLat) {
  const box = h("div.locate-pop", "查询中…");
  state.map.popup(lngLat, box);
  try {
    const a = await state.api.get("/v1/locate", { lon: lon.toFixed(7), lat: lat.toFixed(7) });
    state.map.setCode("grid-locate", a.grid?.code);
    const units = (a.units || []).slice(0, 4);
    box.replaceChildren(
      h("h4", `网格 ${a.grid?.name || ""}`),
      kv([
        ["编码", h("span.mono.locate-grid", a.grid?.code)],
        ["责任单位", a.grid?.unit_name],
        ["网格员", staffText(a.grid?.staff) || "—"],
        ["社区", a.community?.name],
        ["街道", a.street?.name],
        ["区", a.district?.name],
        ["坐标", `${lon.toFixed(6)}, ${lat.toFixed(6)}`],
      ]),
      units.length ? h("ol.small-list", units.map((u) => h("li",
        `${L("levels", u.level) || u.level}：${u.name}${u.phone ? ` ${u.phone}` : ""}`))) : null,
    );
  } catch (err) {
    state.map.setCode("grid-locate", null);
    box.replaceChildren(err.status === 404 ? "此处不在任何网格内（超出管辖范围）。"
      : `查询失败：${err.message}`);
  }
}

// -- live updates ------------------------------------------------------------------------

function connectStream() {
  if (state.stream) state.stream.close();
  const url = state.api.url("/v1/events/stream", { access_token: state.api.token });
  const es = new EventSource(url);
  state.stream = es;
  const live = $("#live");
  es.onopen = () => live.classList.add("on");
  es.onerror = () => {
    live.classList.remove("on");
    if (es.readyState === EventSource.CLOSED) {
      // Refused (e.g. the token expired): check the login, then try again later.
      setTimeout(async () => {
        if (state.stream !== es) return;
        try {
          await state.api.get("/v1/auth/me");
          connectStream();
        } catch {
          /* onUnauthorized logs out */
        }
      }, 10000);
    }
  };
  const handler = (kind) => (msg) => {
    let ev;
    try {
      ev = JSON.parse(msg.data);
    } catch {
      return;
    }
    onLive(kind, ev);
  };
  es.addEventListener("created", handler("created"));
  es.addEventListener("updated", handler("updated"));
}

function visibleToMe(ev) {
  const jur = state.me?.jurisdiction;
  if (!jur) return true;
  if (!ev.grid_code) return jur.length <= 6;
  return ev.grid_code.startsWith(jur);
}

function onLive(kind, ev) {
  if (!ev || ev.id == null || !visibleToMe(ev)) return;
  if (state.map) state.map.upsertLive(ev);
  else state.pendingLive.push(ev);
  if (kind === "created") {
    state.newCount += 1;
    renderBadge();
    state.fresh.set(ev.id, Date.now() + 15000);
    const urgent = ev.priority === "urgent";
    const bell = $("#bell");
    bell.classList.remove("ring");
    void bell.offsetWidth;
    bell.classList.add("ring");
    if (urgent) beep();
    toast(`${urgent ? "紧急" : "新"}事件 #${ev.id}：${ev.category_name || ev.category_code || ""}${
      ev.address ? ` · ${ev.address}` : ""}`, urgent ? "urgent" : "", () => select(ev.id));
  } else if (ev.light === "red" && !state.fresh.has(ev.id)) {
    // a case that just turned red is as urgent as a new urgent report
    const before = state.list.items.find((x) => x.id === ev.id);
    if (before && before.light !== "red") beep();
  }
  patchListItem(ev);
  debouncedList();
  if (ev.id === state.selectedId && state.detail && ev.version !== state.detail.version) {
    reloadDetail({ keepNote: true }).then(() => {
      if (!state.notice) {
        state.notice = { kind: "info", text: `该事件刚被更新（版本 ${ev.version}）。` };
        renderDetail(state.detail);
      }
    }).catch(() => {});
  }
}

function ensureAudio() {
  if (state.audio) {
    if (state.audio.state === "suspended") state.audio.resume().catch(() => {});
    return;
  }
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (Ctx) state.audio = new Ctx();
}

/** Two short tones from WebAudio (no sound file). */
function beep() {
  const ctx = state.audio;
  if (!ctx) return;
  const t0 = ctx.currentTime;
  for (const [i, f] of [[0, 880], [1, 1175]]) {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = "sine";
    osc.frequency.value = f;
    gain.gain.setValueAtTime(0.0001, t0 + i * 0.18);
    gain.gain.exponentialRampToValueAtTime(0.25, t0 + i * 0.18 + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, t0 + i * 0.18 + 0.16);
    osc.connect(gain).connect(ctx.destination);
    osc.start(t0 + i * 0.18);
    osc.stop(t0 + i * 0.18 + 0.17);
  }
  state.beeps = (state.beeps || 0) + 1;
}

function toast(text, kind = "", onClick = null) {
  const t = h(`div.toast${kind ? `.${kind}` : ""}`, text);
  if (onClick) t.addEventListener("click", onClick);
  $("#toasts").append(t);
  setTimeout(() => t.remove(), 6000);
  while ($("#toasts").children.length > 4) $("#toasts").firstChild.remove();
}

boot().catch((err) => {
  console.error(err);
  document.body.append(h("div.map-msg", `控制台启动失败：${err.message}`));
});
