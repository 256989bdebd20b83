import type { BatchProgressEvent } from "../../durable-objects/tenant/job-progress-event";
import { sha256Hex } from "../../shared/core/sha256";

/**
 * The `job.progress` event of a written batch, which the tenant's object appends when it records the
 * batch's rows, with the job's counts after them. Keyed by the batch, so a redelivered batch appends
 * nothing new (the first event stands).
 */
export async function batchProgressEvent(jobId: string, batchKey: string, total: number): Promise<BatchProgressEvent> {
  return {
    total,
    createdAt: Date.now(),
    idempotencyKey: `${jobId}:progress:${(await sha256Hex(batchKey)).slice(0, 32)}`,
  };
}
