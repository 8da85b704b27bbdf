// 外发消息 (the outbox): results sent back to the platforms and apps cases came from.
// Admins see the counts by delivery state and the dead letters (messages given up on after
// the configured number of failures), and send them again. Data: GET /v1/outbox,
// POST /v1/outbox/retry (admin only on the server too).

import { state } from "./state.js";
import { $, fmtTime, h } from "./util.js";

const STATES = [["pending", "待发送"], ["delivered", "已送达"], ["dead", "死信"]];

/** Show the 外发消息 button to admins; the panel loads when opened. */
export function initOutbox() {
  const button = $("#outbox-btn");
  const panel = $("#outbox");
  const admin = state.me && state.me.role === "admin";
  button.hidden = !admin;
  panel.hidden = true;
  if (!admin || button.dataset.bound) return;
  button.dataset.bound = "1";
  button.addEventListener("click", () => {
    panel.hidden = !panel.hidden;
    if (!panel.hidden) renderOutbox();
  });
}

/** Counts and dead letters, freshly read. */
export async function renderOutbox() {
  const panel = $("#outbox");
  panel.replaceChildren(h("p.muted", "加载中…"));
  let page;
  try {
    page = await state.api.get("/v1/outbox", { status: "dead", limit: 100 });
  } catch (err) {
    panel.replaceChildren(h("p.error", `无法读取外发消息：${err.message}`));
    return;
  }
  const counts = h("div.outbox-counts",
    STATES.map(([key, label]) => h(`span.outbox-count.${key}`, { dataset: { state: key } },
      `${label} ${page.counts[key] ?? 0}`)));
  const rows = page.items.map((m) => h("tr", { dataset: { id: m.id } },
    h("td", `#${m.event_id}`),
    h("td", m.kind_label || m.kind), // the step's name comes from the server's vocabulary
    h("td", m.target.name),
    h("td", String(m.attempts)),
    h("td", m.last_error || ""),
    h("td", fmtTime(m.dead_at)),
    h("td", h("button.ghost", { type: "button", on: { click: () => retry([m.id]) } }, "重发"))));
  const table = page.items.length
    ? h("table.outbox-table",
      h("thead", h("tr", ["事件", "结果", "接收方", "尝试", "最后错误", "放弃时间", ""]
        .map((t) => h("th", t)))),
      h("tbody", rows))
    : h("p.muted", "没有死信");
  const all = h("button.primary", { type: "button", disabled: !page.items.length,
    on: { click: () => retry(null) } }, "全部重发");
  panel.replaceChildren(h("h2", "外发消息"), counts, table, all);
}

async function retry(ids) {
  await state.api.post("/v1/outbox/retry", ids ? { ids } : {});
  await renderOutbox();
}
