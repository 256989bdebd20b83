import { and, asc, eq, gt } from "drizzle-orm";
import { planLimits } from "../../shared/plans";
import { database } from "../db/client";
import { maintenanceCursors, tenants } from "../db/schema";
import { liveTenant } from "../repository/tenants";
import { tenantObject } from "../tenant-object-stub";

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
  const stored = await db.select().from(maintenanceCursors).where(eq(maintenanceCursors.task, TASK)).get();
  const after = stored?.position ?? "";
  const page = await db
    .select({ id: tenants.id, plan: tenants.plan, jurisdiction: tenants.jurisdiction })
    .from(tenants)
    .where(and(gt(tenants.id, after), liveTenant))
    .orderBy(asc(tenants.id))
    .limit(tenantsPerRun)
    .all();
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
  const nextPosition =
    unfinished !== undefined
      ? unfinished === 0
        ? after
        : (page[unfinished - 1]?.id as string)
      : page.length < tenantsPerRun
        ? ""
        : (page[page.length - 1]?.id as string);
  const now = new Date(scheduledTime).toISOString();
  await db
    .insert(maintenanceCursors)
    .values({ task: TASK, position: nextPosition, updatedAt: now })
    .onConflictDoUpdate({ target: maintenanceCursors.task, set: { position: nextPosition, updatedAt: now } });
  return { tenants: page.length, deleted, failed, nextPosition };
}
