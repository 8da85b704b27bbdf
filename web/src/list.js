// The header's status counts and badge, the filters, and the paged event list.

import { select } from "./detail.js";
import { L, NO_FILTERS, PAGE_SIZE, state } from "./state.js";
import { $, h, debounce, fmtAgo, fmtRemaining, fmtTime, localInputToIso } from "./util.js";
import { isClosed, lightClass, vocab } from "./vocab.js";

/** Open statuses whose count chip shows only when it has events (styling). */
const QUIET_WHEN_NONE = ["parked"];

/** The per-status count chips in the header (click one to filter). */
function renderCounts(counts) {
  const chips = [];
  for (const s of vocab.statuses) {
    const n = counts[s] || 0;
    if (!n && (!vocab.open.includes(s) || QUIET_WHEN_NONE.includes(s))) continue;
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

export function renderBadge() {
  const b = $("#badge");
  b.hidden = state.newCount === 0;
  b.textContent = state.newCount > 99 ? "99+" : String(state.newCount);
}

// -- filters and list --------------------------------------------------------------------

export function renderFilters() {
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
    select("status", "状态", vocab.statuses.map((s) => [s, L("statuses", s)])),
    select("priority", "紧急程度", Object.entries(state.labels.priorities || {})),
    select("category_code", "类别", cats, ".wide"),
    select("source", "来源", Object.entries(state.labels.sources || {})),
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

export function resetFilters(e) {
  if (e) e.preventDefault();
  Object.assign(state.filters, NO_FILTERS);
  renderFilters();
  return applyFilters();
}

export function setFilter(patch) {
  Object.assign(state.filters, patch);
  for (const [k, v] of Object.entries(patch)) {
    const el = $(`#filters [name="${k}"]`);
    if (!el) continue;
    if (el.type === "checkbox") el.checked = Boolean(v);
    else el.value = v;
  }
  applyFilters();
}

export function applyFilters() {
  state.page = 0;
  mapFilter();
  return loadList();
}

export function mapFilter() {
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

export async function loadList() {
  const seq = ++state.listSeq;
  $("#list-meta").textContent = "加载中…";
  try {
    const data = await state.api.get("/v1/events", listParams());
    if (seq !== state.listSeq) return;
    state.list = { items: data.items || [], total: data.total || 0, counts: data.counts || {} };
    pinArrivals();
    renderList();
    renderCounts(state.list.counts);
  } catch (err) {
    if (seq !== state.listSeq) return;
    $("#list-meta").textContent = `列表加载失败：${err.message}`;
  }
}
export const debouncedList = debounce(loadList, 600);

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
      ev.deadline_at && !isClosed(ev.status)
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

// The filters a live event can be checked against without a query; with any other filter
// set, an arrival is only shown where the server's answer puts it.
function matchesFilters(ev) {
  const f = state.filters;
  if (f.overdue || f.from || f.to || f.inview) return false;
  if (f.status && ev.status !== f.status) return false;
  if (f.priority && ev.priority !== f.priority) return false;
  if (f.source && ev.source !== f.source) return false;
  if (f.category_code && !(ev.category_code || "").startsWith(f.category_code)) return false;
  if (f.area && !(ev.grid_code || "").startsWith(f.area)) return false;
  return true;
}

// Fresh arrivals missing from page 1 go on top of it, so a new report is never hidden
// behind a page of overdue cases while the dispatcher has not seen it.
function pinArrivals() {
  const now = Date.now();
  for (const [id, until] of state.fresh) if (until < now) state.fresh.delete(id);
  for (const id of state.arrived.keys()) if (!state.fresh.has(id)) state.arrived.delete(id);
  if (state.page !== 0) return;
  const shown = new Set(state.list.items.map((x) => x.id));
  const extra = [...state.arrived.values()]
    .filter((ev) => !shown.has(ev.id) && matchesFilters(ev))
    .sort((a, b) => b.id - a.id);
  state.list.items = [...extra, ...state.list.items];
}

/** A live event that was just created: remembered while fresh and shown on page 1. */
export function addArrival(ev) {
  state.arrived.set(ev.id, ev);
  pinArrivals();
  renderList();
}

export function patchListItem(ev) {
  if (state.arrived.has(ev.id)) state.arrived.set(ev.id, { ...state.arrived.get(ev.id), ...ev });
  const i = state.list.items.findIndex((x) => x.id === ev.id);
  if (i >= 0) {
    state.list.items[i] = { ...state.list.items[i], ...ev };
    renderList();
  }
}
