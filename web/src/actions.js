// The actions the caller's role allows on the selected event, and relocation (drag the
// selected event's marker). Which actions need a reason comes from the server's config.

import { reloadDetail, renderDetail } from "./detail.js";
import { debouncedList } from "./list.js";
import { toast } from "./live.js";
import { L, state } from "./state.js";
import { $, h } from "./util.js";
import { needsReason, vocab } from "./vocab.js";

/** Button styles keyed by action. */
const PRIMARY = ["file", "dispatch", "handle", "verify_pass", "close", "resume"];
const DANGER = ["reject", "return", "verify_fail", "park"];

/** The actions that need a reason, by their short labels, joined with "、". */
function reasonActionsText() {
  return vocab.actions.filter(needsReason)
    .map((a) => L("actions", a).replace(/（[^）]*）$/, "")).join("、");
}

export function renderActions(ev) {
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
    title: needsReason(a) ? "需填写意见" : "",
    on: { click: () => act(ev, a) },
  }, L("actions", a)));
  return h("section#detail-actions.actions", h("h3", "操作"),
    h("textarea#action-note", { placeholder: `处理意见（${reasonActionsText()}时必填）` }),
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
  if (needsReason(action) && !note) {
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

export function handleActionError(err) {
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

export function onDragged(ev, lon, lat) {
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
