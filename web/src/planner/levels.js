// Which level the planner edits (网格 / 社区 / 街道): the draft map shows that level's
// outlines, and the drawing tools send that level's edit (a community split is
// `community_split`, a street redraw `street_reshape` ...). Moving a community to another
// street picks the street from a list, like reassigning a grid picks its community.

import { h } from "../util.js";

export const LEVELS = {
  grid: {
    noun: "网格",
    kinds: { split: "split", merge: "merge", move_edge: "move_edge", reshape: "reshape" },
    tools: ["#tool-split", "#tool-merge", "#tool-edge", "#tool-reshape", "#community",
      "#tool-reassign", "#tool-renumber"],
  },
  community: {
    noun: "社区",
    kinds: {
      split: "community_split", merge: "community_merge", move_edge: "community_move_edge",
      reshape: "community_reshape",
    },
    tools: ["#tool-split", "#tool-merge", "#tool-edge", "#tool-reshape", "#street", "#tool-move-community"],
  },
  street: { noun: "街道", kinds: { reshape: "street_reshape" }, tools: ["#tool-reshape"] },
};

/** Every tool any level shows (the others are hidden at a level). */
export const LEVEL_TOOLS = [...new Set(Object.values(LEVELS).flatMap((l) => l.tools))];

export const DONE_LABELS = {
  split: "切分", merge: "合并", move_edge: "移动边界", reshape: "重绘", reassign: "调整社区",
  renumber: "重新编码", community_split: "切分社区", community_merge: "合并社区",
  community_move_edge: "移动社区共用边界", community_reshape: "重绘社区边界",
  community_move: "调整社区所属街道", street_reshape: "重绘街道边界",
};

/** What a step's summary names (the new codes, the edited outline ...), for the toast. */
export function editedWhat(summary) {
  const s = summary || {};
  const what = s.into || s.new_code || s.moved_edge || s.reshaped || s.community_reshaped
    || s.street_reshaped || s.community_moved_edge
    || (s.renumbered !== undefined ? `${s.renumbered} 个网格` : "");
  return [].concat(what).join("、");
}

export function renderStreets(select, streets) {
  const keep = select.value;
  select.replaceChildren(
    h("option", { value: "" }, "选择目标街道"),
    ...(streets.features || []).map((f) =>
      h("option", { value: f.properties.code }, `${f.properties.name || ""} ${f.properties.code}`)),
  );
  if ([...select.options].some((o) => o.value === keep)) select.value = keep;
}
