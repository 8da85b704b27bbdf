// The side panels: validation items, the impact table, the record of steps.

import { fmtTime, h } from "../util.js";

const STEP_LABELS = {
  create: "创建草稿", split: "切分", merge: "合并", move_edge: "移动共用边界", reshape: "重绘边界",
  reassign: "调整所属社区", renumber: "重新编码", undo: "撤销", validate: "校验",
  activate: "启用", rollback: "回退", sweep: "补充改派", job: "后台任务",
  community_reshape: "重绘社区边界", community_move_edge: "移动社区共用边界",
  community_split: "切分社区", community_merge: "合并社区", community_move: "社区调整到其他街道",
  street_reshape: "重绘街道边界",
};
const STATUS_LABELS = { added: "新增", removed: "撤销", reshaped: "调整" };

export function renderReport(list, summary, report, onPick) {
  summary.textContent = report
    ? `阻断 ${report.blocking_count} 项，提示 ${report.warning_count} 项（${report.grid_count} 个网格）`
    : "";
  list.replaceChildren();
  if (!report) return;
  if (!report.items.length) {
    list.append(h("li.ok", "无阻断问题，可以启用"));
    return;
  }
  const sorted = [...report.items].sort((a, b) => (a.severity === "blocking" ? 0 : 1) - (b.severity === "blocking" ? 0 : 1));
  for (const item of sorted) {
    list.append(
      h(`li.${item.severity}`, { dataset: { code: item.code }, on: { click: () => onPick(item) } },
        h("span.sev", item.severity === "blocking" ? "阻断" : "提示"), " ",
        h("b", item.label), " ", item.grids.slice(0, 3).join("、"),
        h("div.muted", item.message)),
    );
  }
}

const pair = (v) => `${v[0] === null ? "—" : Math.round(v[0]).toLocaleString()} → ${v[1] === null ? "—" : Math.round(v[1]).toLocaleString()}`;

export function renderImpact(box, summary, impact) {
  box.replaceChildren();
  if (!impact) {
    summary.textContent = "";
    return;
  }
  const t = impact.totals;
  summary.textContent = `新增 ${t.added}，撤销 ${t.removed}，调整 ${t.reshaped}（对比 ${impact.against || "无"}）`;
  const moving = (k) => `${t[k].grid} / ${t[k].community} / ${t[k].street}`;
  box.append(
    h("table", { id: "impact-totals" },
      h("tr", h("th", "变更归属（网格/社区/街道）"), h("th", "数量")),
      h("tr", h("td", "建筑"), h("td", moving("buildings_moving"))),
      h("tr", h("td", "部件"), h("td", moving("components_moving"))),
      h("tr", { id: "impact-open" }, h("td", "在办事件"), h("td", moving("open_events_moving"))),
      h("tr", h("td", "引用已撤销编码的派遣规则"), h("td", String(impact.rules_naming_retired_codes.length))),
      h("tr", h("td", "引用已撤销编码的责任单位"), h("td", String(impact.units_naming_retired_codes.length)))),
  );
  if (impact.changed_grids.length) {
    box.append(
      h("table", { id: "impact-grids" },
        h("tr", h("th", "网格"), h("th", "变化"), h("th", "面积㎡"), h("th", "建筑"), h("th", "部件"), h("th", "在办")),
        impact.changed_grids.slice(0, 200).map((r) =>
          h("tr", h("td", r.code), h("td", STATUS_LABELS[r.status] || r.status), h("td", pair(r.area_m2)),
            h("td", pair(r.buildings)), h("td", pair(r.components)), h("td", pair(r.open_events))))),
    );
  }
  if (impact.units.length) {
    box.append(
      h("table", h("tr", h("th", "责任单位"), h("th", "增加"), h("th", "减少")),
        impact.units.map((u) => h("tr", h("td", u.unit_name || "区指挥中心"),
          h("td", String(u.open_events_gained)), h("td", String(u.open_events_lost))))),
    );
  }
}

export function renderSteps(list, steps) {
  list.replaceChildren(
    ...steps.map((s) =>
      h(`li${s.undone ? ".undone" : ""}`,
        `${fmtTime(s.at)} ${s.actor || ""} ${STEP_LABELS[s.kind] || s.kind}`,
        s.summary && s.summary.into ? `：${[].concat(s.summary.into).join("、")}` : "")),
  );
}

export function confirmBody(impact) {
  const t = impact.totals;
  return h("table", { id: "confirm-counts" },
    h("tr", h("td", "新增网格"), h("td", String(t.added))),
    h("tr", h("td", "撤销网格"), h("td", String(t.removed))),
    h("tr", h("td", "调整网格"), h("td", String(t.reshaped))),
    h("tr", h("td", "改派的在办事件"), h("td", { id: "confirm-rerouted" }, String(t.open_events_moving.grid))),
    h("tr", h("td", "变更归属的建筑"), h("td", String(t.buildings_moving.grid))),
    h("tr", h("td", "变更归属的部件"), h("td", String(t.components_moving.grid))),
    h("tr", h("td", "引用已撤销编码的派遣规则"), h("td", String(impact.rules_naming_retired_codes.length))));
}
