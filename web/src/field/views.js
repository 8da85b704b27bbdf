// The four views of the field page: live positions (with alerts), a member's track
// replay, the day's patrol coverage, and the inspectors' rotation plan.

import { h } from "../util.js";

const DAY = () => new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10); // China day
const hhmm = (iso) => (iso ? new Date(iso).toLocaleTimeString("zh-CN", {
  hour: "2-digit", minute: "2-digit", second: "2-digit", timeZone: "Asia/Shanghai" }) : "—");
const ago = (s) => (s < 60 ? `${s} 秒前` : s < 3600 ? `${Math.round(s / 60)} 分钟前`
  : `${(s / 3600).toFixed(1)} 小时前`);

// -- live positions ------------------------------------------------------------------------

export async function showLive(ctx) {
  const { api, fmap, panel } = ctx;
  const pos = await api.get("/v1/field/positions");
  fmap.clear("track", "coverage");
  fmap.fit(fmap.set("positions", pos));
  const rows = pos.features.map((f) => f.properties)
    .sort((a, b) => Number(b.on_duty) - Number(a.on_duty) || a.age_s - b.age_s);
  panel.replaceChildren(
    h("h2", "实时位置"),
    h("div.stat", h("span", "人员 ", h("b#live-members", String(pos.members))),
      h("span", "在岗 ", h("b#live-on-duty", String(pos.on_duty))),
      h("span", "有定位 ", h("b#live-located", String(rows.length)))),
    h("h2#alerts-title", "告警"),
    h("div#alerts-stream.muted", "正在连接告警推送…"),
    h("div#alerts"),
    h("h2", "人员"),
    h("table#live-table", h("thead", h("tr", ["姓名", "岗位", "状态", "最后定位", "网格"].map((t) => h("th", t)))),
      h("tbody", rows.map((p) => h("tr", { dataset: { member: p.member_id } },
        h("td", p.name), h("td", p.role),
        h(`td.${p.on_duty ? "duty-on" : "duty-off"}`, p.on_duty ? "在岗" : "离岗"),
        h("td", ago(p.age_s)), h("td", p.grid_code || "网格外"))))),
  );
  connectAlerts(ctx);
  if (ctx.alerts) renderAlerts(ctx.alerts);
}

/** Field alerts pushed by the server over the event stream (no polling); reconnects. */
function connectAlerts(ctx) {
  if (ctx.alertStream && ctx.alertStream.readyState !== EventSource.CLOSED) return;
  const url = ctx.api.url("/v1/events/stream",
    { field_alerts: "true", events: "false", access_token: ctx.api.token });
  const es = new EventSource(url);
  ctx.alertStream = es;
  es.addEventListener("field_alerts", (msg) => {
    try {
      ctx.alerts = JSON.parse(msg.data);
    } catch {
      return;
    }
    ctx.alertsPushed = (ctx.alertsPushed || 0) + 1;
    renderAlerts(ctx.alerts);
  });
  es.onopen = () => setStreamState("on", "告警实时推送中");
  es.onerror = () => {
    setStreamState("off", "告警推送已断开，正在重连…");
    if (es.readyState === EventSource.CLOSED) setTimeout(() => connectAlerts(ctx), 10e3);
  };
}

function setStreamState(state, text) {
  const el = document.getElementById("alerts-stream");
  if (!el) return;
  el.dataset.state = state;
  el.textContent = text;
}

function renderAlerts(data) {
  const box = document.getElementById("alerts");
  if (!box) return;
  document.getElementById("alerts-title").textContent = `告警（${data.items.length}）`;
  box.dataset.generatedAt = data.generated_at;
  box.replaceChildren(...data.items.slice(0, 50).map((a) => h(`div.alert.${a.kind}`,
    { dataset: { kind: a.kind, member: a.member_id ?? "" } },
    a.label, a.name ? `：${a.name}` : "", a.grid_code ? `（网格 ${a.grid_code}）` : "",
    a.minutes ? `，${a.minutes} 分钟` : "")));
  setStreamState("on", `告警实时推送中 · 更新于 ${hhmm(data.generated_at)}`);
}

// -- replay ---------------------------------------------------------------------------------

export async function showReplay(ctx, member = "", day = DAY()) {
  const { api, fmap, panel } = ctx;
  fmap.clear("coverage");
  const pos = await api.get("/v1/field/positions", { hours: 24 * 7 });
  const form = h("form#replay-form",
    h("label", "人员", h("select#replay-member", { name: "member" },
      pos.features.map((f) => h("option", { value: f.properties.member_id,
        selected: String(f.properties.member_id) === String(member) }, `${f.properties.name}（${f.properties.role}）`)))),
    h("label", "日期", h("input#replay-date", { type: "date", name: "date", value: day })),
    h("button.primary", { type: "submit" }, "回放"));
  const info = h("div#replay-info.muted", "选择人员和日期");
  const slider = h("input#replay-slider", { type: "range", min: 0, max: 0, value: 0, disabled: true });
  panel.replaceChildren(h("h2", "轨迹回放"), form, slider, info);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    await loadTrack(ctx, form.member.value, form.date.value, slider, info);
  });
  if (pos.features.length) await loadTrack(ctx, form.member.value, form.date.value, slider, info);
}

async function loadTrack(ctx, member, day, slider, info) {
  const { api, fmap } = ctx;
  const seq = (ctx.replaySeq = (ctx.replaySeq || 0) + 1);
  info.dataset.state = "loading";
  const track = await api.get(`/v1/tracks/${encodeURIComponent(member)}`, { date: day });
  if (seq !== ctx.replaySeq) return; // a newer request superseded this one
  const coords = track.geometry ? track.geometry.coordinates : [];
  const times = track.properties.times;
  const draw = (i) => {
    const head = coords[i] || null;
    fmap.set("track", { type: "FeatureCollection", features: [
      track.geometry ? { type: "Feature", geometry: { type: "LineString", coordinates: coords.slice(0, i + 1) }, properties: {} } : null,
      head ? { type: "Feature", geometry: { type: "Point", coordinates: head }, properties: {} } : null,
    ].filter(Boolean) });
    info.textContent = coords.length
      ? `${track.properties.name}：第 ${i + 1}/${coords.length} 点，${hhmm(times[i])}`
      : `${track.properties.name} 当日没有轨迹`;
    info.dataset.fixes = String(track.properties.fixes);
  };
  slider.max = String(Math.max(coords.length - 1, 0));
  slider.value = slider.max;
  slider.disabled = coords.length < 2;
  slider.oninput = () => draw(Number(slider.value));
  if (coords.length) {
    fmap.fit(fmap.set("track", { type: "FeatureCollection", features: [track] }));
  }
  draw(coords.length - 1);
  info.dataset.state = "done";
}

// -- coverage ------------------------------------------------------------------------------

export async function showCoverage(ctx, day = DAY()) {
  const { api, fmap, panel } = ctx;
  fmap.clear("track", "positions");
  const [fc, streets] = await Promise.all([
    api.get("/v1/coverage", { date: day, by: "grid" }),
    api.get("/v1/coverage", { date: day, by: "street" }),
  ]);
  fmap.fit(fmap.set("coverage", fc));
  const form = h("form#coverage-form", h("label", "日期", h("input", { type: "date", name: "date", value: day })),
    h("button.primary", { type: "submit" }, "查看"));
  form.addEventListener("submit", (e) => { e.preventDefault(); showCoverage(ctx, form.date.value); });
  const top = fc.features.map((f) => f.properties).filter((p) => p.minutes > 0)
    .sort((a, b) => b.covered_share - a.covered_share);
  panel.replaceChildren(
    h("h2", "巡查覆盖"), form,
    h("div#coverage-fresh.muted", { dataset: { stale: fc.stale ? "1" : "0" } }, fc.stale
      ? `正在更新覆盖统计…${fc.computed_at ? `（当前显示 ${hhmm(fc.computed_at)} 的结果）` : ""}`
      : `统计时间 ${hhmm(fc.computed_at)}`),
    h("div.stat", h("span", "已巡查网格 ", h("b#coverage-patrolled", String(fc.patrolled))),
      h("span", "网格总数 ", h("b", String(fc.grids))), h("span", `巡查半径 ${fc.radius_m} 米`)),
    h("div.legend-bar"), h("div.muted", "颜色：网格内距巡查轨迹半径以内的面积占比"),
    h("h2", "街道巡查覆盖率"),
    h("table#street-rates", h("thead", h("tr", h("th", "街道"), h("th", "已巡查/网格"), h("th", "覆盖率"))),
      h("tbody", streets.streets.map((s) => h("tr", h("td", s.street_code),
        h("td", `${s.patrolled_grid_days}/${s.grid_days}`), h("td", `${(s.coverage_rate * 100).toFixed(1)}%`))))),
    h("h2", "有巡查的网格"),
    h("table#coverage-table", h("thead", h("tr", h("th", "网格"), h("th", "分钟"), h("th", "覆盖占比"), h("th", "已巡查"))),
      h("tbody", top.slice(0, 100).map((p) => h("tr", { dataset: { code: p.code } }, h("td", p.code), h("td", p.minutes.toFixed(1)),
        h("td", `${(p.covered_share * 100).toFixed(1)}%`), h("td", p.patrolled ? "是" : "否"))))),
  );
  // The server answers from stored results and refreshes stale days in the background.
  if (fc.stale) ctx.timer = setTimeout(() => ctx.view === "coverage" && showCoverage(ctx, day), 3e3);
}

// -- rotation ------------------------------------------------------------------------------

export async function showRotation(ctx) {
  const { api, panel } = ctx;
  const history = await api.get("/v1/rotation/plans");
  const form = h("form#rotation-form",
    h("label", "督察员（每行一人）", h("textarea", { name: "inspectors" }, "督察甲\n督察乙\n督察丙\n督察丁")),
    h("label", "区域（每行一个，如街道编码）", h("textarea", { name: "areas" }, "340111001\n340111002\n340111003")),
    h("label", "期数", h("input", { name: "periods", type: "number", min: 1, max: 52, value: 4 })),
    h("label", "同一区域最少间隔期数", h("input", { name: "min_gap", type: "number", min: 0, value: 2 })),
    h("button.primary#rotation-solve", { type: "submit" }, "生成轮岗计划"));
  const out = h("div#rotation-result");
  const list = h("ul#rotation-history", history.items.map((p) => h("li",
    h("a", { href: "#", on: { click: (e) => { e.preventDefault(); loadPlan(ctx, p.id, out); } } },
      `#${p.id} ${p.name}（${p.created_by || ""}）`))));
  panel.replaceChildren(h("h2", "轮岗计划"), form, out, h("h2", "历史计划"), list);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const lines = (v) => v.split(/\n/).map((s) => s.trim()).filter(Boolean);
    try {
      const plan = await api.post("/v1/rotation/plans", {
        inspectors: lines(form.inspectors.value), areas: lines(form.areas.value),
        periods: Number(form.periods.value), min_gap: Number(form.min_gap.value),
      });
      renderPlan(ctx, plan, out);
    } catch (err) {
      out.replaceChildren(h("p.error#rotation-error", `无法生成：${err.message}`));
    }
  });
}

async function loadPlan(ctx, id, out) {
  renderPlan(ctx, await ctx.api.get(`/v1/rotation/plans/${id}`), out);
}

function renderPlan(ctx, plan, out) {
  const { areas, periods } = plan.params;
  const cell = new Map(plan.assignments.map((r) => [`${r.period}|${r.area}`, r.inspector]));
  const csv = h("a#rotation-csv", { href: "#", on: { click: (e) => { e.preventDefault(); downloadCsv(ctx, plan.id); } } }, "导出 CSV");
  out.replaceChildren(
    h("p.muted", `计划 #${plan.id}：${plan.explanation.solver}，${plan.explanation.optimal ? "最优" : "可行"}解，`
      + `工作量差 ${plan.explanation.load_spread}`),
    h("table#rotation-table.rotation-table",
      h("thead", h("tr", h("th", "期"), areas.map((a) => h("th", a)))),
      h("tbody", Array.from({ length: periods }, (_, p) => h("tr", h("td", `第 ${p + 1} 期`),
        areas.map((a) => h("td.cell", cell.get(`${p}|${a}`) || "—")))))),
    h("ul.muted", plan.explanation.constraints.map((c) => h("li", c))), csv);
}

async function downloadCsv(ctx, id) {
  const res = await fetch(ctx.api.url(`/v1/rotation/plans/${id}/csv`), {
    headers: { Authorization: `Bearer ${ctx.api.token}` } });
  const url = URL.createObjectURL(await res.blob());
  const a = h("a", { href: url, download: `rotation-${id}.csv` });
  document.body.append(a);
  a.click();
  a.remove();
  URL.revokeObjectURL(url);
}
