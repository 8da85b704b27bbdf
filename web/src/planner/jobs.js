// Background jobs: a large draft's report, validation, impact and activation answer 202
// with a job to poll (GET /v1/generations/{id}/jobs/{job}); small ones answer at once.
// `settle` turns either answer into the result, showing progress while it waits.

import { ApiError } from "../api.js";

const PROGRESS = { checking: "正在检查", validating: "正在校验", comparing: "正在分析影响", activating: "正在启用" };
const ERROR_STATUS = { ActivationRefused: 409, StaleDraft: 409, NotEditable: 409, PlanNotFound: 404 };

export function isJob(answer) {
  return Boolean(answer && typeof answer.url === "string" && answer.job !== undefined && answer.status);
}

export async function settle(api, answer, onProgress = () => {}, every = 400) {
  if (!isJob(answer)) return answer;
  for (;;) {
    const job = await api.get(answer.url);
    if (job.status === "done") {
      onProgress("");
      return job.result;
    }
    if (job.status === "failed") {
      onProgress("");
      const err = job.error || {};
      throw new ApiError(ERROR_STATUS[err.type] || 422, { title: err.type, detail: err.detail, field: err.field });
    }
    onProgress(`${PROGRESS[job.progress] || "排队中"}（后台任务 ${job.job ?? job.id}）…`);
    await new Promise((resolve) => setTimeout(resolve, every));
  }
}
