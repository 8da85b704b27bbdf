// Dispatch to people: the nearest on-duty members to the selected event (from their last
// fixes), and sending the event to one of them (the server records who and why).

import { state } from "./state.js";
import { $, h } from "./util.js";

const ago = (iso) => {
  const s = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
  return s < 60 ? `${s} 秒前` : s < 3600 ? `${Math.round(s / 60)} 分钟前` : `${(s / 3600).toFixed(1)} 小时前`;
};

/** The detail section; filled asynchronously so the rest of the detail shows at once. */
export function renderPeople(ev) {
  if (ev.lon == null) return null;
  const box = h("section#detail-people", h("h3", "附近在岗人员"), h("div.muted", "加载中…"));
  loadPeople(ev, box);
  return box;
}

async function loadPeople(ev, box) {
  try {
    const data = await state.api.get(`/v1/events/${ev.id}/nearest-members`, { k: 5 });
    if (state.selectedId !== ev.id) return;
    const items = data.items || [];
    box.replaceChildren(
      h("h3", `附近在岗人员（${items.length}）`),
      items.length ? h("ol.people", items.map((p) => h("li", { dataset: { member: p.member_id } },
        h("span", `${p.name}（${p.role}）`), " ",
        h("small", `${Math.round(p.distance_m)} 米 · ${ago(p.last_seen)}`), " ",
        h("button.ghost.send", { type: "button", on: { click: () => send(ev, p, box) } }, "派给TA"))))
        : h("div.muted", "附近暂无在岗人员定位"),
    );
  } catch (err) {
    box.replaceChildren(h("h3", "附近在岗人员"), h("div.muted", `无法加载：${err.message}`));
  }
}

async function send(ev, person, box) {
  try {
    await state.api.post(`/v1/events/${ev.id}/member-dispatches`, { member_id: person.member_id });
    const note = $(".people-sent", box) || box.appendChild(h("div.people-sent"));
    note.textContent = `已派给 ${person.name}（第 ${person.rank} 近，${Math.round(person.distance_m)} 米）`;
  } catch (err) {
    box.appendChild(h("div.error", `派遣失败：${err.message}`));
  }
}
