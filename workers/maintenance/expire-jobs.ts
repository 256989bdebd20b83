import { planLimits } from "../../shared/plans";
import { database } from "../db/client";
import { ArtifactIndex } from "../repository/artifact-index";
import { JobLedger } from "../repository/jobs";
import { tenantObject } from "../tenant-object-stub";
import { liveTenantPage, nextPosition, readCursor, writeCursor } from "./tenant-cursor";

/** Tenants whose jobs one cron run expires; the next run goes on from where this one stopped. */
export const RETENTION_TENANTS_PER_RUN = 20;
/** Jobs one run expires per tenant at most (each one D1 transaction). */
export const JOBS_PER_TENANT_RUN = 20;
/**
 * Artifact rows one run deletes per tenant, roughly: a tenant stops taking jobs once this many are gone (always
 * at least one job, so a single large job, at most MAX_QUEUED_ARTIFACTS rows, still expires).
 */
export const ARTIFACT_ROWS_PER_TENANT_RUN = 10_000;
const TASK = "job-retention";
const DAY_MS = 86_400_000;

export interface JobRetentionRun {
  /** Tenants this run looked at. */
  tenants: number;
  /** Jobs deleted across them, with their artifact index entries. */
  expired: number;
  /** Tenants whose retention failed (left for the next pass). */
  failed: number;
  /** Where the next run starts: after this tenant id, or at the first tenant when empty. */
  nextPosition: string;
}

/**
 * Applies one tenant's plan retention: expires its unpinned completed jobs beyond the plan's
 * `keptJobsPerGenerator` newest per generator, and its unpinned failed jobs older than
 * `failedJobRetentionDays`, within the per-run bounds. Whether more are left for the next run.
 */
export async function expireTenantJobs(
  env: Env,
  tenant: { id: string; plan: string; jurisdiction: string | null },
  now: number,
): Promise<{ expired: number; more: boolean }> {
  const limits = planLimits(tenant.plan);
  const ledger = new JobLedger(database(env.DB), tenant.id);
  const candidates = await ledger.expired(
    {
      keptPerGenerator: limits.keptJobsPerGenerator,
      failedBefore: new Date(now - limits.failedJobRetentionDays * DAY_MS).toISOString(),
    },
    JOBS_PER_TENANT_RUN + 1,
  );
  const index = new ArtifactIndex(env, tenant);
  const at = new Date(now).toISOString();
  let expired = 0;
  let rows = 0;
  let taken = 0;
  for (const job of candidates.slice(0, JOBS_PER_TENANT_RUN)) {
    if (taken > 0 && rows + job.artifacts > ARTIFACT_ROWS_PER_TENANT_RUN) break;
    taken += 1;
    rows += job.artifacts;
    const deleted = await index.expireJob(job.id, at);
    if (!deleted) continue;
    expired += 1;
    // The job's bytes no longer count against the plan's artifact bytes; `job.expired` says so.
    await tenantObject(env, tenant).recordJobExpiry({
      jobId: job.id,
      generator: deleted.generator,
      bytes: deleted.bytes,
      expiredAt: now,
    });
  }
  return { expired, more: taken < candidates.length };
}

/**
 * Job retention for the next `tenantsPerRun` tenants in id order after the stored cursor, wrapping around
 * at the end. A tenant with more to expire than one run allows is where the next run starts again.
 */
export async function expireJobs(
  env: Env,
  scheduledTime: number,
  tenantsPerRun = RETENTION_TENANTS_PER_RUN,
): Promise<JobRetentionRun> {
  const db = database(env.DB);
  const after = await readCursor(db, TASK);
  const page = await liveTenantPage(db, after, tenantsPerRun);
  let expired = 0;
  let failed = 0;
  let unfinished: number | undefined;
  // One tenant at a time: each makes a few D1 calls, and D1 serializes writes anyway.
  for (const [position, tenant] of page.entries()) {
    try {
      const outcome = await expireTenantJobs(env, tenant, scheduledTime);
      expired += outcome.expired;
      if (outcome.more) {
        unfinished = position;
        break;
      }
    } catch (error) {
      failed += 1;
      console.error(
        JSON.stringify({ level: "error", msg: "job retention failed", tenant: tenant.id, reason: String(error) }),
      );
    }
  }
  const next = nextPosition(after, page, tenantsPerRun, unfinished);
  await writeCursor(db, TASK, next, scheduledTime);
  return { tenants: unfinished === undefined ? page.length : unfinished + 1, expired, failed, nextPosition: next };
}
