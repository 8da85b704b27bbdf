// One event: header, place and responsibility, routing, nearby components, duplicates,
// photos, actions and history; and a click on the map (who owns that spot).

import { renderActions } from "./actions.js";
import { renderTasks } from "./casework.js";
import { renderPeople } from "./people.js";
import { patchListItem } from "./list.js";
import { L, state } from "./state.js";
import { $, h, fmtRemaining, fmtTime } from "./util.js";
import { isClosed, lightClass } from "./vocab.js";

export async function select(id) {
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

export async function reloadDetail({ fly = false, keepNote = true } = {}) {
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

export function closeDetail() {
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

export function renderDetail(ev) {
  const r = ev.routing || {};
  const unit = r.unit || {};
  const limit = ev.time_limit ? `${ev.time_limit.value} ${L("time_units", ev.time_limit.unit)}`
    : "—";
  const deadline = ev.deadline_at
    ? `${fmtTime(ev.deadline_at, true)}${isClosed(ev.status) ? "" : `（${fmtRemaining(
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
    renderPeople(ev),
    renderDuplicates(ev),
    renderPhotos(ev),
    renderTasks(ev),
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

// -- click on the map: who owns this spot ------------------------------------------------

export async function locateAt(lon, lat, lngLat) {
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
