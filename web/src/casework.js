// Cross-department casework in the console: the tasks of an event (主办/协办/街呼区应)
// with their actions, follow-ups (回访), the matter catalogue editor (admins) and the
// area health report download (体检报告).

import { reloadDetail } from "./detail.js";
import { L, state } from "./state.js";
import { $, h, fmtTime } from "./util.js";

// -- tasks in the event detail ------------------------------------------------------------

const taskLabel = (action) => L("task_actions", action) || action;

async function taskAction(ev, task, action) {
  const note = $("#task-note")?.value || "";
  try {
    await state.api.request("POST", `/v1/events/${ev.id}/tasks/${task.id}/actions`,
      { json: { action, note, expected_version: task.version } });
    state.notice = { kind: "ok", text: `${taskLabel(action)}：已完成` };
  } catch (err) {
    state.notice = { kind: "conflict", text: `${taskLabel(action)}失败：${err.message}` };
  }
  await reloadDetail({ keepNote: false });
}

export function renderTasks(ev) {
  const tasks = ev.tasks || [];
  const follow = ev.followups || [];
  if (!tasks.length && !follow.length && !ev.filing) return null;
  const rows = tasks.map((t) => h(`tr.task.task-${t.role}`, { id: t.id ? `task-${t.id}` : "task-lead" },
    h("td", t.role_label || t.role),
    h("td", t.unit_name || `#${t.unit_id}`,
      t.team_members ? h("div.team-members", `成员单位：${t.team_members.map((m) => m.name).join("、")}`) : "",
      t.assignee ? h("div.assignee", `核查人：${t.assignee}`) : ""),
    h(`td.task-status.${t.status}`, t.status_label || t.status, t.overdue ? h("span.tag.overdue", "超期") : ""),
    h("td", fmtTime(t.deadline_at)),
    h("td", (t.allowed_actions || []).map((a) => h("button.small", {
      type: "button", dataset: { taskAction: a },
      on: { click: () => taskAction(ev, t, a) },
    }, taskLabel(a))))));
  const anyActions = tasks.some((t) => (t.allowed_actions || []).length);
  const filing = ev.filing;
  return h("section#detail-tasks",
    h("h3", "主办与协办"),
    filing ? h("p.filing", `立案时限：${fmtTime(filing.deadline_at)}`,
      filing.filed_at ? `（${filing.on_time ? "按时" : "超时"}立案）` : "",
      filing.overdue ? h("span.tag.overdue", "立案超期") : "") : null,
    tasks.length ? h("table.tasks",
      h("tr", h("th", "角色"), h("th", "单位"), h("th", "状态"), h("th", "时限"), h("th", "")),
      rows) : null,
    anyActions && h("input#task-note", { type: "text", maxlength: 2000,
      placeholder: "反馈或理由（退回、拒绝、撤销必填）" }),
    follow.length ? h("ul.followups", follow.map((f) => h("li",
      `回访：${f.status_label}`, f.satisfaction ? `，满意度 ${f.satisfaction} 分` : "",
      f.reason ? `（${f.reason}）` : "", f.reopened ? "，已重新办理" : ""))) : null);
}

// -- the matter catalogue (admins) ------------------------------------------------------

const FLAGS = [["after_photo", "处置后照片"], ["site_check", "现场核查"],
  ["measurement", "测量值"], ["co_handling_required", "需协办"]];

function closePanel() {
  $("#panel")?.remove();
}

function panel(title, ...body) {
  closePanel();
  const node = h("div#panel.panel", { role: "dialog", "aria-label": title },
    h("header", h("h2", title),
      h("button.close", { type: "button", title: "关闭", on: { click: closePanel } }, "×")),
    ...body);
  document.body.append(node);
  return node;
}

async function openCatalogue() {
  let cat;
  try {
    cat = await state.api.get("/v1/catalogue");
  } catch (err) {
    panel("事项清单", h("p.notice", err.status === 404 ? "尚未导入事项清单。" : err.message));
    return;
  }
  const entries = cat.entries.map((e) => ({ ...e }));
  const rows = entries.map((e, i) => h("tr", { dataset: { code: e.category_code } },
    h("td.mono", e.category_code), h("td", e.major_name), h("td", e.name),
    h("td", h("input.limit", { type: "number", min: 0.5, step: 0.5, value: e.handling_limit_value ?? "",
      on: { change: (x) => { entries[i].handling_limit_value = x.target.value ? Number(x.target.value) : null; } } }),
    e.handling_limit_unit === "working_days" ? " 工作日" : " 工作小时"),
    FLAGS.map(([key]) => h("td", h("input", { type: "checkbox", checked: Boolean(e[key]),
      dataset: { flag: key },
      on: { change: (x) => { entries[i][key] = x.target.checked; } } })))));
  const status = h("p#catalogue-status", `当前版本 v${cat.version}，共 ${cat.entry_count} 项`);
  panel("事项清单",
    status,
    h("div.scroll", h("table.catalogue",
      h("tr", h("th", "编码"), h("th", "大类"), h("th", "小类"), h("th", "处置时限"),
        FLAGS.map(([, label]) => h("th", label))),
      rows)),
    h("div.row",
      h("input#catalogue-note", { type: "text", maxlength: 500, placeholder: "修改说明" }),
      h("button.primary#catalogue-save", { type: "button", on: { click: async () => {
        try {
          const v = await state.api.request("PUT", "/v1/catalogue",
            { json: { entries, note: $("#catalogue-note").value } });
          status.textContent = `已保存为新版本 v${v.version}（新案件适用，在办案件沿用原版本）`;
        } catch (err) {
          status.textContent = `保存失败：${err.message}`;
        }
      } } }, "保存为新版本")));
}

// -- area health reports ----------------------------------------------------------------

function lastMonth() {
  const now = new Date(Date.now() + 8 * 3600e3);
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, "0")}`;
}

async function downloadReport() {
  const area = $("#report-area").value;
  const period = $("#report-period").value;
  const format = $("#report-format").value;
  const msg = $("#report-status");
  msg.textContent = "生成中…";
  let res;
  for (let i = 0; i < 60; i++) { // 202: still rendering on the server; ask again
    res = await fetch(state.api.url(`/v1/reports/${area}`, { period, format }),
      { headers: { Authorization: `Bearer ${state.api.token}` } });
    if (res.status !== 202) break;
    msg.textContent = "报告生成中，请稍候…";
    const wait = Number(res.headers.get("Retry-After")) || 3;
    await new Promise((resolve) => setTimeout(resolve, wait * 1000));
  }
  if (!res.ok || res.status === 202) {
    const body = await res.json().catch(() => ({}));
    msg.textContent = `生成失败：${body.detail || res.status}`;
    return;
  }
  const blob = await res.blob();
  const a = h("a", { href: URL.createObjectURL(blob), download: `体检报告-${area}-${period}.${format}` });
  document.body.append(a);
  a.click();
  a.remove();
  msg.textContent = "已下载";
}

function openReports() {
  const jur = state.me.jurisdiction || "";
  const streets = (state.areas || []).filter((a) => a.level === "street");
  const options = jur.length >= 9 ? [{ code: jur, name: "本辖区" }] : streets;
  panel("体检报告",
    h("div.form",
      h("label", "区域", h("select#report-area", options.map((a) =>
        h("option", { value: a.code }, `${a.name || ""}（${a.code}）`)))),
      h("label", "月份", h("input#report-period", { type: "month", value: lastMonth() })),
      h("label", "格式", h("select#report-format",
        h("option", { value: "pdf" }, "PDF"), h("option", { value: "html" }, "网页"))),
      h("button.primary#report-download", { type: "button", on: { click: downloadReport } },
        "下载报告"),
      h("p#report-status")));
}

/** Header buttons: the catalogue for admins, reports for callers with indicators. */
export function initCasework() {
  const scopes = new Set(state.me.scopes || []);
  const bar = $(".topbar");
  const before = $("#who");
  for (const id of ["#catalogue-btn", "#report-btn"]) $(id)?.remove();
  if (scopes.has("indicators")) {
    bar.insertBefore(h("button.ghost#report-btn", { type: "button", on: { click: openReports } },
      "体检报告"), before);
  }
  if (state.me.role === "admin") {
    bar.insertBefore(h("button.ghost#catalogue-btn", { type: "button",
      on: { click: openCatalogue } }, "事项清单"), before);
  }
}
