// Loud notices from the server's config: today, the working-day calendar's warning when a
// year's official holiday schedule is unknown (deadlines would then skip no holidays).

import { h } from "./util.js";

export function showCalendarWarnings(calendar) {
  const warnings = (calendar && calendar.warnings) || [];
  if (!warnings.length) return;
  const banner = h("div#calendar-warning.notice-warning", { role: "alert" },
    ...warnings.map((w) => h("p", `⚠ 节假日安排缺失：${w}`)));
  document.body.prepend(banner);
}
