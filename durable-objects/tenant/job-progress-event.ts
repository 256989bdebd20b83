import type { IndexedProgress } from "./artifact-index-store";

/**
 * What the tenant's object needs to append a written batch's `job.progress`: the job's units, the time,
 * and a key naming the batch (a redelivered batch appends nothing new). The counts are the object's own
 * totals of what it stores, with the rows it has just recorded.
 */
export interface BatchProgressEvent {
  total: number;
  createdAt: number;
  idempotencyKey: string;
}

export function jobProgressEvent(jobId: string, indexed: IndexedProgress, event: BatchProgressEvent) {
  return {
    type: "job.progress",
    data: { jobId, done: indexed.done, skipped: indexed.skipped, total: event.total, bytes: indexed.bytes },
    createdAt: event.createdAt,
    idempotencyKey: event.idempotencyKey,
  };
}
