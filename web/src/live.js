// Live updates over Server-Sent Events: new and changed events, the badge, a beep for
// urgent ones (WebAudio, no sound file) and toasts.

import { reloadDetail, renderDetail, select } from "./detail.js";
import { addArrival, debouncedList, patchListItem, renderBadge } from "./list.js";
import { state } from "./state.js";
import { $, h } from "./util.js";
import { vocab } from "./vocab.js";

export function connectStream() {
  if (state.stream) state.stream.close();
  const url = state.api.url("/v1/events/stream", { access_token: state.api.token });
  const es = new EventSource(url);
  state.stream = es;
  const live = $("#live");
  es.onopen = () => live.classList.add("on");
  es.onerror = () => {
    live.classList.remove("on");
    if (es.readyState === EventSource.CLOSED) {
      // Refused (e.g. the token expired): check the login, then try again later.
      setTimeout(async () => {
        if (state.stream !== es) return;
        try {
          await state.api.get("/v1/auth/me");
          connectStream();
        } catch {
          /* onUnauthorized logs out */
        }
      }, 10000);
    }
  };
  const handler = (kind) => (msg) => {
    let ev;
    try {
      ev = JSON.parse(msg.data);
    } catch {
      return;
    }
    onLive(kind, ev);
  };
  es.addEventListener("created", handler("created"));
  es.addEventListener("updated", handler("updated"));
}

function visibleToMe(ev) {
  const jur = state.me?.jurisdiction;
  if (!jur) return true;
  if (!ev.grid_code) return jur.length <= vocab.codeLengths.district;
  return ev.grid_code.startsWith(jur);
}

function onLive(kind, ev) {
  if (!ev || ev.id == null || !visibleToMe(ev)) return;
  if (state.map) state.map.upsertLive(ev);
  else state.pendingLive.push(ev);
  if (kind === "created") {
    state.newCount += 1;
    renderBadge();
    state.fresh.set(ev.id, Date.now() + 15000);
    const urgent = ev.priority === "urgent";
    const bell = $("#bell");
    bell.classList.remove("ring");
    void bell.offsetWidth;
    bell.classList.add("ring");
    if (urgent) beep();
    toast(`${urgent ? "紧急" : "新"}事件 #${ev.id}：${ev.category_name || ev.category_code || ""}${
      ev.address ? ` · ${ev.address}` : ""}`, urgent ? "urgent" : "", () => select(ev.id));
    addArrival(ev);
  } else if (ev.light === "red" && !state.fresh.has(ev.id)) {
    // a case that just turned red is as urgent as a new urgent report
    const before = state.list.items.find((x) => x.id === ev.id);
    if (before && before.light !== "red") beep();
  }
  patchListItem(ev);
  debouncedList();
  if (ev.id === state.selectedId && state.detail && ev.version !== state.detail.version) {
    reloadDetail({ keepNote: true }).then(() => {
      if (!state.notice) {
        state.notice = { kind: "info", text: `该事件刚被更新（版本 ${ev.version}）。` };
        renderDetail(state.detail);
      }
    }).catch(() => {});
  }
}

export function ensureAudio() {
  if (state.audio) {
    if (state.audio.state === "suspended") state.audio.resume().catch(() => {});
    return;
  }
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (Ctx) state.audio = new Ctx();
}

/** Two short tones from WebAudio (no sound file). */
function beep() {
  const ctx = state.audio;
  if (!ctx) return;
  const t0 = ctx.currentTime;
  for (const [i, f] of [[0, 880], [1, 1175]]) {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = "sine";
    osc.frequency.value = f;
    gain.gain.setValueAtTime(0.0001, t0 + i * 0.18);
    gain.gain.exponentialRampToValueAtTime(0.25, t0 + i * 0.18 + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, t0 + i * 0.18 + 0.16);
    osc.connect(gain).connect(ctx.destination);
    osc.start(t0 + i * 0.18);
    osc.stop(t0 + i * 0.18 + 0.17);
  }
  state.beeps = (state.beeps || 0) + 1;
}

export function toast(text, kind = "", onClick = null) {
  const t = h(`div.toast${kind ? `.${kind}` : ""}`, text);
  if (onClick) t.addEventListener("click", onClick);
  $("#toasts").append(t);
  setTimeout(() => t.remove(), 6000);
  while ($("#toasts").children.length > 4) $("#toasts").firstChild.remove();
}
