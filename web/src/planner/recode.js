// Community choice (for reassigning a grid and renumbering) and the old → new code table
// the draft's renumber and reassign steps add up to (undone steps left out).

import { h } from "../util.js";

export function renderCommunities(select, communities) {
  const keep = select.value;
  select.replaceChildren(
    h("option", { value: "" }, "全部社区 / 选择社区"),
    ...(communities.features || []).map((f) =>
      h("option", { value: f.properties.code }, `${f.properties.name || ""} ${f.properties.code}`)),
  );
  if ([...select.options].some((o) => o.value === keep)) select.value = keep;
}

/** {old code: new code}, composed in step order (a code renumbered twice shows once). */
export function renumberingOf(steps) {
  const table = {};
  const put = (from, to) => {
    const origin = Object.keys(table).find((k) => table[k] === from);
    if (origin !== undefined) table[origin] = to;
    else table[from] = to;
  };
  for (const step of steps) {
    if (step.undone || !step.summary) continue;
    if (step.kind === "renumber") {
      // Applied at once: resolve every entry against the table before this step.
      const before = { ...table };
      for (const [from, to] of Object.entries(step.summary.table || {})) {
        const origin = Object.keys(before).find((k) => before[k] === from);
        table[origin ?? from] = to;
      }
    } else if (step.kind === "reassign") put(step.summary.reassigned, step.summary.new_code);
  }
  for (const [from, to] of Object.entries(table)) if (from === to) delete table[from];
  return table;
}

export function renderRenumbering(box, steps) {
  const table = renumberingOf(steps);
  const rows = Object.entries(table).sort(([a], [b]) => a.localeCompare(b));
  box.replaceChildren();
  if (!rows.length) {
    box.append(h("p.muted", "暂无编码调整"));
    return;
  }
  box.append(h("table",
    h("thead", h("tr", h("th", "原编码"), h("th", "新编码"))),
    h("tbody", ...rows.map(([from, to]) => h("tr", { dataset: { old: from } }, h("td", from), h("td", to))))));
}
