import { database } from "../../workers/db/client";
import type { JobRow } from "../../workers/db/schema";
import { JobLedger } from "../../workers/repository/jobs";

export type JobStatus = JobRow["status"];

/** A job's state change and the event that records it, carried to the tenant object in one call. */
export type JobChange =
  | { kind: "create"; job: Omit<JobRow, "tenantId"> }
  | {
      kind: "transition";
      jobId: string;
      /** The statuses the job may be in for the change to apply. */
      from: JobStatus[];
      changes: Partial<Pick<JobRow, "status" | "error" | "updatedAt">>;
    };

export interface JobEvent {
  type: "job.started" | "job.completed" | "job.failed";
  data: Record<string, string | number | null>;
  createdAt: number;
  idempotencyKey: string;
}

/**
 * Applies a job change to its D1 row. The job's row lives in D1 and its events in the tenant's
 * SQLite, so they cannot share a transaction: the event is appended right after, in the same call,
 * and only when the change was applied (a transition that lost a race, or a job already finished,
 * records nothing).
 */
export async function applyJobChange(db: D1Database, tenantId: string, change: JobChange): Promise<boolean> {
  const ledger = new JobLedger(database(db), tenantId);
  if (change.kind === "create") {
    await ledger.create(change.job);
    return true;
  }
  try {
    return await ledger.transition(change.jobId, change.from, change.changes);
  } catch (error) {
    // The write may have applied with only its answer lost: read back, or its event would be lost for good
    // (a retry finds the job finished and records nothing).
    const job = await ledger.find(change.jobId).catch(() => undefined);
    const applied =
      job !== undefined && job.status === change.changes.status && job.updatedAt === change.changes.updatedAt;
    if (applied) return true;
    throw error;
  }
}
