// Small DOM and formatting helpers (no framework: the console is a few hundred lines).

/** h("div.cls#id", {attrs, on: {click}}, children...) -> HTMLElement. */
export function h(tag, attrs, ...children) {
  const [name, ...rest] = tag.split(/(?=[.#])/);
  const node = document.createElement(name || "div");
  for (const part of rest) {
    if (part.startsWith(".")) node.classList.add(part.slice(1));
    else if (part.startsWith("#")) node.id = part.slice(1);
  }
  if (attrs !== undefined && attrs !== null &&
    (typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "on") for (const [ev, fn] of Object.entries(v)) node.addEventListener(ev, fn);
    else if (k === "dataset") Object.assign(node.dataset, v);
    else if (k === "class") node.className = v;
    else if (k in node && typeof v !== "string") node[k] = v;
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(node, c);
    else node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export const $ = (sel, root = document) => root.querySelector(sel);

const pad = (n) => String(n).padStart(2, "0");

/** "11-22 14:05" in Beijing time (the service's time zone), or "—". */
export function fmtTime(iso, withYear = false) {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const bj = new Date(d.getTime() + 8 * 3600e3);
  const date = `${pad(bj.getUTCMonth() + 1)}-${pad(bj.getUTCDate())}`;
  const time = `${pad(bj.getUTCHours())}:${pad(bj.getUTCMinutes())}`;
  return `${withYear ? bj.getUTCFullYear() + "-" : ""}${date} ${time}`;
}

/** "3小时前", "2天前" ... */
export function fmtAgo(iso, now = Date.now()) {
  if (!iso) return "";
  const s = (now - new Date(iso).getTime()) / 1000;
  if (s < 60) return "刚刚";
  if (s < 3600) return `${Math.floor(s / 60)}分钟前`;
  if (s < 86400) return `${Math.floor(s / 3600)}小时前`;
  return `${Math.floor(s / 86400)}天前`;
}

/** Time left to a deadline, in words: "剩余 3小时20分" / "超期 1天2小时". */
export function fmtRemaining(iso, now = Date.now()) {
  if (!iso) return "";
  let ms = new Date(iso).getTime() - now;
  const late = ms < 0;
  ms = Math.abs(ms);
  const days = Math.floor(ms / 86400e3);
  const hours = Math.floor((ms % 86400e3) / 3600e3);
  const mins = Math.floor((ms % 3600e3) / 60e3);
  const text = days ? `${days}天${hours}小时` : hours ? `${hours}小时${mins}分` : `${mins}分钟`;
  return late ? `超期 ${text}` : `剩余 ${text}`;
}

/** A "YYYY-MM-DDTHH:MM" datetime-local value (Beijing time) -> ISO 8601 with +08:00. */
export function localInputToIso(value) {
  return value ? `${value}:00+08:00` : "";
}

/** An ISO time -> the tiles' time text (UTC to the second, "...Z"), for map filters. */
export function tileTime(iso) {
  if (!iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d.toISOString().slice(0, 19) + "Z";
}

export function debounce(fn, ms) {
  let t = null;
  return (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
}
