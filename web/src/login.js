// Login and logout: the token lives in the Api object (sessionStorage).

import { ApiError } from "./api.js";
import { ensureAudio } from "./live.js";
import { state } from "./state.js";
import { $ } from "./util.js";

/** Wire the login form: `start` runs once the user is logged in. */
export function initLogin(start) {
  $("#login-form").addEventListener("submit", (e) => onLogin(e, start));
  $("#logout").addEventListener("click", () => logout());
}

export function showLogin(message = "") {
  $("#app").hidden = true;
  $("#login").hidden = false;
  $("#login-error").textContent = message;
  $("#username").focus();
}

async function onLogin(e, start) {
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

export function logout(message = "") {
  if (state.stream) state.stream.close();
  state.stream = null;
  state.api.setToken(null);
  location.hash = "";
  if (message) sessionStorage.setItem("gridgov.console.msg", message);
  location.reload();
}
