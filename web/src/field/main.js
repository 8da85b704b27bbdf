// gridgov field page (网格巡查力量): live positions with alerts, a member's track replay,
// patrol coverage by grid and street, and the inspectors' rotation plan. Served at
// /console/field/; the data come from the field API with the user's bearer token.

import { Api, ApiError } from "../api.js";
import { makeFrame } from "../crs.js";
import { $ } from "../util.js";
import { FieldMap } from "./fieldmap.js";
import { showCoverage, showLive, showReplay, showRotation } from "./views.js";

const VIEWS = { live: showLive, replay: showReplay, coverage: showCoverage, rotation: showRotation };
const ctx = { api: null, fmap: null, panel: null, config: null, view: null, timer: null };

async function boot() {
  ctx.config = await fetch("../config.json", { headers: { Accept: "application/json" } }).then((r) => r.json());
  ctx.api = new Api(ctx.config.api_base || "");
  ctx.api.onUnauthorized = () => logout();
  $("#login-form").addEventListener("submit", onLogin);
  $("#logout").addEventListener("click", logout);
  for (const tab of document.querySelectorAll(".tab")) {
    tab.addEventListener("click", () => open(tab.dataset.view));
  }
  if (ctx.api.token) {
    try {
      await start();
      return;
    } catch (err) {
      if (!(err instanceof ApiError)) console.error(err);
    }
  }
  $("#login").hidden = false;
}

async function onLogin(e) {
  e.preventDefault();
  $("#login-error").textContent = "";
  try {
    await ctx.api.login($("#username").value.trim(), $("#password").value);
    await start();
  } catch (err) {
    $("#login-error").textContent =
      err instanceof ApiError && err.status === 400 ? "用户名或密码错误" : `登录失败：${err.message}`;
  }
}

function logout() {
  ctx.api.setToken(null);
  location.reload();
}

async function start() {
  const me = await ctx.api.get("/v1/auth/me");
  $("#login").hidden = true;
  $("#app").hidden = false;
  $("#who").textContent = me.display_name || me.username;
  ctx.panel = $("#panel");
  if (!ctx.fmap) {
    ctx.fmap = new FieldMap($("#map"), ctx.config, makeFrame(ctx.config.basemap && ctx.config.basemap.crs));
    await ctx.fmap.init();
  }
  await open(location.hash.slice(1) in VIEWS ? location.hash.slice(1) : "live");
  document.body.dataset.ready = "1";
}

async function open(view) {
  clearInterval(ctx.timer);
  ctx.view = view;
  history.replaceState(null, "", `#${view}`);
  for (const tab of document.querySelectorAll(".tab")) tab.classList.toggle("on", tab.dataset.view === view);
  document.body.dataset.view = view;
  delete document.body.dataset.loaded;
  try {
    await VIEWS[view](ctx);
  } catch (err) {
    ctx.panel.textContent = `加载失败：${err.message}`;
  }
  document.body.dataset.loaded = view;
  // positions refresh every 30 s; alerts are pushed over the event stream (views.js)
  if (view === "live") ctx.timer = setInterval(() => ctx.view === "live" && showLive(ctx), 30e3);
}

window.gridgovField = { ctx, open };
boot();
