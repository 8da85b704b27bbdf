// The case vocabulary, as the server's /console/config.json sends it (from
// gis_core.cases.vocab and gis_core.standards.codes): which statuses exist and in which
// order, which are open or closed, which actions need a reason, the admin code lengths.
// The console keeps no copy of these: a status added on the server shows up here.
// Colours and styles keyed by status stay in the modules that draw them.

export const vocab = {
  statuses: [], // status values in display order
  open: [],
  closed: [],
  actions: [], // action values in the vocabulary's order
  reasonRequired: [],
  codeLengths: {}, // admin level -> code length
};

/** Take the vocabulary from the console's configuration (once, at boot). */
export function setVocab(config) {
  const v = config.vocab || {};
  vocab.statuses = (v.statuses || []).map((s) => s.value);
  vocab.open = v.open || (v.statuses || []).filter((s) => s.open).map((s) => s.value);
  vocab.closed = v.closed || vocab.statuses.filter((s) => !vocab.open.includes(s));
  vocab.actions = (v.actions || []).map((a) => a.value);
  vocab.reasonRequired = v.reason_required
    || (v.actions || []).filter((a) => a.reason_required).map((a) => a.value);
  vocab.codeLengths = v.code_lengths || {};
}

export const isClosed = (status) => vocab.closed.includes(status);
export const needsReason = (action) => vocab.reasonRequired.includes(action);

/** The admin level of a code, by its length ("district" when unknown). */
export function levelOf(code) {
  const level = Object.keys(vocab.codeLengths).find((k) => vocab.codeLengths[k] === code.length);
  return level || "district";
}

/** The code of the area of `level` that contains `code` (a prefix), or null. */
export function prefixAt(code, level) {
  const n = vocab.codeLengths[level];
  return code && n && code.length >= n ? code.slice(0, n) : null;
}

/** The dot's class in the list and the detail: the deadline light, or "closed". */
export function lightClass(ev) {
  if (isClosed(ev.status)) return "closed";
  return ev.light || "none";
}
