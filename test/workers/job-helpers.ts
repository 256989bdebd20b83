import { expect, vi } from "vitest";
import { bearer, call, jsonBody } from "./helpers";

/** A job as `GET /v1/jobs/{id}` shows it. */
export interface JobView {
  id: string;
  status: string;
  lock: Record<string, unknown>;
  lockHash: string;
  counts: { total: number; artifacts: number; skipped: number; bytes: number };
  error: string | null;
  createdAt: string;
  updatedAt: string;
}

/** The job once its plan and batches ran on the queue: completed or failed. */
export async function settledJob(apiKey: string, id: string, timeout = 20_000): Promise<JobView> {
  return vi.waitFor(
    async () => {
      const job = (await (await call(`/v1/jobs/${id}`, { headers: bearer(apiKey) })).json()) as JobView;
      expect(["completed", "failed"], `job ${id} is ${job.status}`).toContain(job.status);
      return job;
    },
    { timeout, interval: 50 },
  );
}

/** Starts a job (202, queued) and waits until it has run. */
export async function runJob(apiKey: string, body: unknown, path = "/v1/jobs"): Promise<JobView> {
  const res = await call(path, jsonBody(body, apiKey));
  const started = (await res.json()) as JobView;
  expect(res.status, JSON.stringify(started)).toBe(202);
  expect(started.status).toBe("queued");
  return settledJob(apiKey, started.id);
}
