// The console's one shared state and the label lookup: every module reads and writes it.

export const PAGE_SIZE = 50;

export const NO_FILTERS = { status: "", category_code: "", source: "", priority: "", area: "",
  overdue: false, from: "", to: "", inview: false };

export const state = {
  config: null,
  labels: {}, // group -> value -> Chinese label, from the server's config
  api: null,
  frame: null,
  me: null,
  map: null,
  filters: { ...NO_FILTERS },
  page: 0,
  list: { items: [], total: 0, counts: {} },
  selectedId: null,
  detail: null,
  notice: null,
  newCount: 0,
  fresh: new Map(),
  // events that arrived live, kept at the top of page 1 while fresh even when the
  // urgency order would put them on a later page (overdue cases come first)
  arrived: new Map(),
  stream: null,
  areaNames: new Map(),
  units: null,
  audio: null,
  listSeq: 0,
  pendingLive: [],
};

/** The Chinese label of a value (a status, an action, a role ...), or the value itself. */
export const L = (group, key) => (key == null ? "" : state.labels[group]?.[key] ?? key);
