import { sha256Hex } from "../../shared/core/sha256";
import type { TenantRow } from "../db/schema";
import type { JobProgress } from "../repository/jobs";
import { tenantObject } from "../tenant-object-stub";

/**
 * Appends `job.progress` for a written batch with the job's counts after it. Keyed by the batch, so a
 * redelivered batch appends nothing new (the first event stands).
 */
export async function recordJobProgress(
  env: Env,
  tenant: Pick<TenantRow, "id" | "jurisdiction">,
  jobId: string,
  batchKey: string,
  progress: JobProgress,
): Promise<void> {
  await tenantObject(env, tenant).appendEvent({
    type: "job.progress",
    data: { jobId, done: progress.done, skipped: progress.skipped, total: progress.total, bytes: progress.bytes },
    createdAt: Date.now(),
    idempotencyKey: `${jobId}:progress:${(await sha256Hex(batchKey)).slice(0, 32)}`,
  });
}
