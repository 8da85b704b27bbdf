// The HTTP API, as the console uses it: bearer token, JSON in and out, problem+json errors.

const TOKEN_KEY = "gridgov.console.token";

export class ApiError extends Error {
  constructor(status, body) {
    const detail = (body && (body.detail || body.title)) || `HTTP ${status}`;
    super(typeof detail === "string" ? detail : JSON.stringify(detail));
    this.status = status;
    this.title = (body && body.title) || "";
    this.field = (body && body.field) || null;
    this.body = body;
  }
}

export class Api {
  constructor(base = "") {
    this.base = base.replace(/\/$/, "");
    this.token = sessionStorage.getItem(TOKEN_KEY);
    this.onUnauthorized = null;
  }

  url(path, params) {
    const u = new URL(this.base + path, location.href);
    for (const [k, v] of Object.entries(params || {})) {
      if (v === undefined || v === null || v === "" || v === false) continue;
      u.searchParams.set(k, String(v));
    }
    return u.toString();
  }

  setToken(token) {
    this.token = token;
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  }

  async request(method, path, { params, json, form, auth = true } = {}) {
    const headers = { Accept: "application/json" };
    let body;
    if (json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(json);
    } else if (form !== undefined) {
      body = new URLSearchParams(form);
    }
    if (auth && this.token) headers.Authorization = `Bearer ${this.token}`;
    const res = await fetch(this.url(path, params), { method, headers, body });
    const text = await res.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = { detail: text.slice(0, 300) };
      }
    }
    if (!res.ok) {
      const err = new ApiError(res.status, data);
      if (res.status === 401 && auth && this.onUnauthorized) this.onUnauthorized(err);
      throw err;
    }
    return data;
  }

  get(path, params) {
    return this.request("GET", path, { params });
  }

  post(path, json) {
    return this.request("POST", path, { json });
  }

  async login(username, password) {
    const data = await this.request("POST", "/v1/auth/token", {
      form: { grant_type: "password", username, password },
      auth: false,
    });
    this.setToken(data.access_token);
    return data;
  }
}
