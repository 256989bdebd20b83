import { planLimits } from "../../shared/plans";
import { database } from "../db/client";
import { tenantObject } from "../tenant-object-stub";
import { liveTenantPage, nextPosition, readCursor, writeCursor } from "./tenant-cursor";

/** Tenants whose event log one cron run prunes; the next run goes on from where this one stopped. */
export const TENANTS_PER_RUN = 50;
const TASK = "event-retention";
const DAY_MS = 86_400_000;

export interface EventRetentionRun {
  /** Tenants this run asked to prune. */
  tenants: number;
  /** Events deleted across them. */
  deleted: number;
  /** Tenants whose prune failed (left for the next pass). */
  failed: number;
  /** Where the next run starts: after this tenant id, or at the first tenant when empty. */
  nextPosition: string;
}

/**
 * Deletes events older than each tenant's plan retention (`eventRetentionDays`), for the next
 * `tenantsPerRun` tenants in id order after the stored cursor, wrapping around at the end. Each tenant
 * object deletes a bounded number of rows per call; a tenant with more left is where the next run
 * starts again.
 */
export async function pruneEventLogs(
  env: Env,
  scheduledTime: number,
  tenantsPerRun = TENANTS_PER_RUN,
): Promise<EventRetentionRun> {
  const db = database(env.DB);
  const after = await readCursor(db, TASK);
  const page = await liveTenantPage(db, after, tenantsPerRun);
  const outcomes = await Promise.allSettled(
    page.map(async (tenant) =>
      tenantObject(env, tenant).pruneEvents({
        cutoff: Math.max(0, scheduledTime - planLimits(tenant.plan).eventRetentionDays * DAY_MS),
      }),
    ),
  );
  let deleted = 0;
  let failed = 0;
  let unfinished: number | undefined;
  outcomes.forEach((outcome, index) => {
    if (outcome.status === "fulfilled") {
      deleted += outcome.value.deleted;
      if (outcome.value.more && unfinished === undefined) unfinished = index;
    } else {
      failed += 1;
      console.error(
        JSON.stringify({
          level: "error",
          msg: "event retention failed",
          tenant: page[index]?.id,
          reason: String(outcome.reason),
        }),
      );
    }
  });
  const next = nextPosition(after, page, tenantsPerRun, unfinished);
  await writeCursor(db, TASK, next, scheduledTime);
  return { tenants: page.length, deleted, failed, nextPosition: next };
}
