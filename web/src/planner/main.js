// The planner page (网格规划): pick or create a draft, edit it on the map (split by a
// drawn line, merge a selection, undo), read the validation items and the impact table,
// and activate with a confirmation that shows the impact counts. Every call goes to
// /v1/generations (planner role); a stale edit (409) reloads the draft.

import { Api, ApiError } from "../api.js";
import { $, h } from "../util.js";
import { settle } from "./jobs.js";
import { CompareMap, changedCodes } from "./compare.js";
import { PlannerMap } from "./mapview.js";
import { confirmBody, renderImpact, renderReport, renderSteps } from "./panels.js";
import { renderCommunities, renderRenumbering } from "./recode.js";
import { DONE_LABELS, LEVELS, LEVEL_TOOLS, editedWhat, renderStreets } from "./levels.js";

const api = new Api("");
const state = { generations: [], current: null, active: null, version: null, map: null, level: "grid" };

function toast(text, error = false) {
  const node = h(`div.toast${error ? ".error" : ""}`, text);
  $("#toasts").append(node);
  setTimeout(() => node.remove(), 6000);
}

function fail(err) {
  if (err instanceof ApiError && err.status === 401) return showLogin("登录已过期，请重新登录");
  if (err instanceof ApiError && err.status === 409 && err.field === "expected_version") {
    toast("草稿已被他人修改，已重新加载", true);
    return load();
  }
  toast(err instanceof ApiError ? `操作未成功：${err.message}` : String(err), true);
  return null;
}

function showLogin(message = "") {
  $("#app").hidden = true;
  $("#login").hidden = false;
  $("#login-error").textContent = message;
}

async function onLogin(e) {
  e.preventDefault();
  $("#login-error").textContent = "";
  try {
    await api.login($("#username").value.trim(), $("#password").value);
    $("#password").value = "";
    await start();
  } catch (err) {
    $("#login-error").textContent =
      err instanceof ApiError && err.status === 400 ? "用户名或密码错误"
        : err instanceof ApiError && err.status === 403 ? "该账号不是规划员" : `登录失败：${err.message}`;
    if (err instanceof ApiError && err.status === 403) api.setToken(null);
  }
}

const STATE_LABELS = { draft: "草稿", validated: "已校验", active: "现行", retired: "已停用" };

async function refreshList(pick) {
  state.generations = await api.get("/v1/generations");
  state.active = state.generations.find((g) => g.state === "active") || null;
  const drafts = state.generations.filter((g) => g.version !== null);
  const select = $("#generation");
  select.replaceChildren(
    ...drafts.map((g) => h("option", { value: String(g.id) }, `${g.name}（${STATE_LABELS[g.state]}）`)),
  );
  const wanted = pick ?? (state.current && state.current.id) ?? (drafts.at(-1) && drafts.at(-1).id);
  if (wanted !== undefined && wanted !== null) select.value = String(wanted);
  state.current = drafts.find((g) => String(g.id) === select.value) || null;
}

async function load() {
  await refreshList();
  const g = state.current;
  $("#state").textContent = g ? STATE_LABELS[g.state] : "无草稿";
  const shown = LEVELS[state.level].tools;
  for (const id of LEVEL_TOOLS) $(id).hidden = !shown.includes(id);
  for (const id of [...LEVEL_TOOLS, "#tool-undo", "#tool-validate", "#tool-activate"]) {
    $(id).disabled = !g || !["draft", "validated"].includes(g.state);
  }
  const active = state.active
    ? await api.get(`/v1/generations/${state.active.id}/grids`) : { type: "FeatureCollection", features: [] };
  state.compare.show(active);
  $("#active-name").textContent = state.active ? state.active.name : "（无）";
  if (!g) {
    state.map.showGrids(active, { type: "FeatureCollection", features: [] });
    state.map.showChanged([]);
    state.compare.showChanged([]);
    return;
  }
  const base = `/v1/generations/${g.id}`;
  const [draft, report, impact, steps, communities, streets] = await Promise.all([
    api.get(`${base}/grids`, { level: state.level }), api.get(`${base}/report`).then(wait),
    api.get(`${base}/impact`).then(wait), api.get(`${base}/steps`),
    api.get(`${base}/grids`, { level: "community" }), api.get(`${base}/grids`, { level: "street" }),
  ]);
  renderCommunities($("#community"), communities);
  renderStreets($("#street"), streets);
  renderRenumbering($("#renumbering"), steps);
  state.version = draft.version;
  state.map.showGrids(active, draft);
  state.map.showItems(report.items);
  state.compare.showItems(report.items);
  const changed = changedCodes(impact);
  state.map.showChanged(changed.draft);
  state.compare.showChanged(changed.active);
  $("#changed-count").textContent = impact.changed_grids.length
    ? `（${impact.changed_grids.length} 个网格有变化，紫色标出）` : "（无变化）";
  renderReport($("#report"), $("#report-summary"), report, (item) => state.map.flyTo(item));
  renderImpact($("#impact"), $("#impact-summary"), impact);
  renderSteps($("#steps"), steps);
  state.impact = impact;
}

async function edit(kind, params) {
  const g = state.current;
  try {
    const step = await api.post(`/v1/generations/${g.id}/edits`, { kind, params, expected_version: state.version });
    toast(`已${DONE_LABELS[kind] || "修改"}：${editedWhat(step.summary)}`);
  } catch (err) {
    return fail(err);
  }
  return load();
}

function setHint(text) {
  $("#hint").textContent = text;
}

function setBusy(text) {
  $("#busy").textContent = text;
}

/** The answer itself, or a background job's result once it is done. */
const wait = (answer) => settle(api, answer, setBusy);

// Drawing tools: select the grid(s) (or communities, a street: the level picked), click
// the tool, click points on the map, click the tool again (now "完成…") to send the edit.
const DRAW = {
  split: {
    button: "#tool-split", label: (n) => `切分${n}（画线）`, done: "完成切分", need: 1, min: 2,
    hint: (c, n) => `在地图上依次点击，画一条穿过${n} ${c[0]} 的线，然后点“完成切分”`,
    params: (c, pts) => ({ code: c[0], line: pts }),
  },
  move_edge: {
    button: "#tool-edge", label: () => "移动共用边界", done: "完成移动", need: 2, min: 2,
    hint: (c, n) => `画出${n} ${c.join(" 与 ")} 之间的新边界（从外侧穿过两者），然后点“完成移动”`,
    params: (c, pts) => ({ codes: c, line: pts }),
  },
  reshape: {
    button: "#tool-reshape", label: (n) => `重绘${n}边界`, done: "完成重绘", need: 1, min: 3,
    hint: (c, n) => `依次点击${n} ${c[0]} 新边界的各个拐点，然后点“完成重绘”`,
    params: (c, pts) => ({ code: c[0], geometry: { type: "Polygon", coordinates: [[...pts, pts[0]]] } }),
  },
};

function resetTools() {
  const noun = LEVELS[state.level].noun;
  for (const tool of Object.values(DRAW)) {
    $(tool.button).classList.remove("on");
    $(tool.button).textContent = tool.label(noun);
  }
  $("#tool-merge").textContent = `合并所选${noun}`;
}

function onDraw(kind) {
  const m = state.map;
  const tool = DRAW[kind];
  if (m.mode === kind) {
    const pts = m.sketch;
    const codes = [...m.selected];
    m.setMode("select");
    resetTools();
    setHint("");
    if (pts.length < tool.min) return toast(tool.min === 2 ? "请至少点两个点画出线" : "请至少点三个点画出新边界", true);
    return edit(LEVELS[state.level].kinds[kind], tool.params(codes, pts));
  }
  if (m.mode !== "select") {
    m.setMode("select");
    resetTools();
  }
  const noun = LEVELS[state.level].noun;
  if (m.selected.length !== tool.need) {
    return toast(tool.need === 1 ? `请先在地图上选中一个${noun}` : `请按住 Ctrl 或 Shift 选中两个相邻${noun}`, true);
  }
  m.setMode(kind);
  $(tool.button).classList.add("on");
  $(tool.button).textContent = tool.done;
  setHint(tool.hint(m.selected, noun));
  return null;
}

function onReassign() {
  const codes = state.map.selected;
  const community = $("#community").value;
  if (codes.length !== 1) return toast("请先在地图上选中一个网格", true);
  if (!community) return toast("请先选择目标社区", true);
  return edit("reassign", { code: codes[0], community_code: community });
}

function onRenumber() {
  const community = $("#community").value;
  return edit("renumber", community ? { community_code: community } : {});
}

function onMerge() {
  const codes = state.map.selected;
  const level = LEVELS[state.level];
  if (codes.length < 2) return toast(`请按住 Ctrl 或 Shift 点选至少两个相邻${level.noun}`, true);
  return edit(level.kinds.merge, { codes });
}

function onMoveCommunity() {
  const codes = state.map.selected;
  const street = $("#street").value;
  if (codes.length !== 1) return toast("请先在地图上选中一个社区", true);
  if (!street) return toast("请先选择目标街道", true);
  return edit("community_move", { code: codes[0], street_code: street });
}

function onLevel() {
  state.level = $("#level").value;
  state.map.setMode("select");
  state.map.selected = [];
  state.map.onSelect([]);
  resetTools();
  setHint("");
  return load().catch(fail);
}

async function onUndo() {
  try {
    await api.post(`/v1/generations/${state.current.id}/undo`, { expected_version: state.version });
    toast("已撤销上一步");
  } catch (err) {
    return fail(err);
  }
  return load();
}

async function onValidate() {
  try {
    const result = await wait(await api.post(`/v1/generations/${state.current.id}/validate`));
    toast(result.blocking ? `校验未通过：阻断 ${result.blocking_count} 项` : "校验通过");
  } catch (err) {
    return fail(err);
  }
  return load();
}

async function onActivate() {
  const g = state.current;
  let impact;
  try {
    impact = await wait(await api.get(`/v1/generations/${g.id}/impact`));
  } catch (err) {
    return fail(err);
  }
  $("#confirm-body").replaceChildren(
    h("p", `将启用 ${g.name}，替换现行版本 ${impact.against || "（无）"}。`), confirmBody(impact),
  );
  $("#remap-rules").checked = false;
  const dialog = $("#confirm");
  dialog.returnValue = "";
  dialog.showModal();
  await new Promise((resolve) => dialog.addEventListener("close", resolve, { once: true }));
  if (dialog.returnValue !== "ok") return null;
  try {
    const body = { remap_rules: $("#remap-rules").checked };
    const result = await wait(await api.post(`/v1/generations/${g.id}/activate`, body));
    toast(`已启用 ${result.generation}，改派在办事件 ${result.rerouted} 件`);
  } catch (err) {
    return fail(err);
  }
  return load();
}

async function onNewDraft() {
  const name = `草稿 ${new Date().toISOString().slice(0, 16).replace("T", " ")}`;
  try {
    const body = new FormData();
    body.set("name", name);
    body.set("from_active", "true");
    const created = await postForm(body);
    await refreshList(created.id);
    toast(`已创建草稿 ${created.name}`);
  } catch (err) {
    return fail(err);
  }
  return load();
}

async function onUpload(e) {
  const file = e.target.files[0];
  if (!file) return null;
  const body = new FormData();
  body.set("name", file.name.replace(/\.[^.]+$/, "").slice(0, 80) + ` ${Date.now() % 100000}`);
  body.set("file", file);
  try {
    const created = await postForm(body);
    await refreshList(created.id);
    toast(`已导入草稿 ${created.name}`);
  } catch (err) {
    return fail(err);
  } finally {
    e.target.value = "";
  }
  return load();
}

async function postForm(body) {
  const res = await fetch("/v1/generations", {
    method: "POST", body, headers: { Authorization: `Bearer ${api.token}`, Accept: "application/json" },
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

async function start() {
  $("#login").hidden = true;
  $("#app").hidden = false;
  if (!state.map) {
    state.map = new PlannerMap($("#map"));
    state.map.onSelect = (codes) => {
      $("#selection").textContent = codes.length ? `已选：${codes.join("、")}` : "";
    };
    state.map.onSketch = (pts) => {
      const tool = DRAW[state.map.mode];
      setHint(`已画 ${pts.length} 个点，点“${tool ? tool.done : "完成"}”提交`);
    };
    await state.map.ready;
    state.compare = new CompareMap($("#map-active"));
    await state.compare.ready;
    state.compare.syncWith(state.map.map);
  }
  $("#who").textContent = "规划员";
  await load();
}

function init() {
  api.onUnauthorized = () => showLogin("登录已过期，请重新登录");
  $("#login-form").addEventListener("submit", onLogin);
  $("#logout").addEventListener("click", () => {
    api.setToken(null);
    location.reload();
  });
  $("#generation").addEventListener("change", () => {
    state.current = null;
    refreshList(Number($("#generation").value)).then(load).catch(fail);
  });
  $("#new-draft").addEventListener("click", onNewDraft);
  $("#upload").addEventListener("change", onUpload);
  $("#tool-split").addEventListener("click", () => onDraw("split"));
  $("#tool-edge").addEventListener("click", () => onDraw("move_edge"));
  $("#tool-reshape").addEventListener("click", () => onDraw("reshape"));
  $("#tool-reassign").addEventListener("click", onReassign);
  $("#tool-renumber").addEventListener("click", onRenumber);
  $("#tool-merge").addEventListener("click", onMerge);
  $("#tool-move-community").addEventListener("click", onMoveCommunity);
  $("#level").addEventListener("change", onLevel);
  $("#tool-undo").addEventListener("click", onUndo);
  $("#tool-validate").addEventListener("click", onValidate);
  $("#tool-activate").addEventListener("click", onActivate);
  if (api.token) start().catch(() => showLogin());
  else showLogin();
}

init();
