import { and, asc, eq, gt, type SQL, sql } from "drizzle-orm";
import { previousMonth, USAGE_METRICS, type UsageFigures } from "../../shared/contracts/usage";
import { monthPeriod } from "../../shared/plans";
import { database } from "../db/client";
import { maintenanceCursors, tenants, usageMonthly } from "../db/schema";
import { liveTenant } from "../repository/tenants";
import { tenantObject } from "../tenant-object-stub";

/** Tenants one cron run rolls up; the next run goes on from where this one stopped, wrapping around. */
export const USAGE_TENANTS_PER_RUN = 50;
/** Days into a month during which the month before is rolled up again, so late counts reach it. */
export const USAGE_LATE_DAYS = 3;
const TASK = "usage-rollup";

export interface UsageRollupRun {
  tenants: number;
  /** Rows whose figures changed (a run over unchanged counters changes none). */
  changed: number;
  failed: number;
  nextPosition: string;
}

/** The months a run at `scheduledTime` rolls up: the current one, and the one before early in a month. */
export function rollupMonths(scheduledTime: number): string[] {
  const month = monthPeriod(scheduledTime);
  const dayOfMonth = new Date(scheduledTime).getUTCDate();
  return dayOfMonth <= USAGE_LATE_DAYS ? [previousMonth(month), month] : [month];
}

/**
 * Writes `usage_monthly` for the next `tenantsPerRun` live tenants after the stored cursor: each
 * tenant's object samples today's stored amounts and computes the figures from its counters, and the
 * row is set to them (never added to), so running again over the same counters changes nothing.
 */
export async function rollUpUsage(
  env: Env,
  scheduledTime: number,
  tenantsPerRun = USAGE_TENANTS_PER_RUN,
): Promise<UsageRollupRun> {
  const db = database(env.DB);
  const stored = await db.select().from(maintenanceCursors).where(eq(maintenanceCursors.task, TASK)).get();
  const after = stored?.position ?? "";
  const page = await db
    .select({ id: tenants.id, jurisdiction: tenants.jurisdiction })
    .from(tenants)
    .where(and(gt(tenants.id, after), liveTenant))
    .orderBy(asc(tenants.id))
    .limit(tenantsPerRun)
    .all();
  const { changed, failed } = await rollUpTenants(env, page, scheduledTime);
  const rolledUpAt = new Date(scheduledTime).toISOString();
  const nextPosition = page.length < tenantsPerRun ? "" : (page[page.length - 1]?.id as string);
  await db
    .insert(maintenanceCursors)
    .values({ task: TASK, position: nextPosition, updatedAt: rolledUpAt })
    .onConflictDoUpdate({ target: maintenanceCursors.task, set: { position: nextPosition, updatedAt: rolledUpAt } });
  return { tenants: page.length, changed, failed, nextPosition };
}

/** Rolls up the months of `scheduledTime` for these tenants: one call to each object, one D1 batch. */
export async function rollUpTenants(
  env: Env,
  page: { id: string; jurisdiction: string | null }[],
  scheduledTime: number,
): Promise<{ changed: number; failed: number }> {
  const db = database(env.DB);
  const rolledUpAt = new Date(scheduledTime).toISOString();
  const months = rollupMonths(scheduledTime);
  const outcomes = await Promise.allSettled(
    page.map((tenant) => tenantObject(env, tenant).usageRollup({ now: scheduledTime, months })),
  );
  const writes = outcomes.flatMap((outcome, index) => {
    const tenantId = page[index]?.id as string;
    if (outcome.status === "rejected") {
      console.error(
        JSON.stringify({
          level: "error",
          msg: "usage rollup failed",
          tenant: tenantId,
          reason: String(outcome.reason),
        }),
      );
      return [];
    }
    return outcome.value.map(({ month, figures }) => upsertUsage(db, tenantId, month, figures, rolledUpAt));
  });
  let changed = 0;
  const [first, ...rest] = writes;
  if (first) {
    const results = await db.batch([first, ...rest]);
    changed = results.reduce((sum, rows) => sum + rows.length, 0);
  }
  return { changed, failed: outcomes.filter((outcome) => outcome.status === "rejected").length };
}

const COLUMN_OF: Record<keyof UsageFigures, (typeof usageMonthly)[keyof UsageFigures]> = {
  requests: usageMonthly.requests,
  sparqlQueries: usageMonthly.sparqlQueries,
  sparqlMs: usageMonthly.sparqlMs,
  triplesPeak: usageMonthly.triplesPeak,
  triplesAverage: usageMonthly.triplesAverage,
  templates: usageMonthly.templates,
  jobs: usageMonthly.jobs,
  artifacts: usageMonthly.artifacts,
  artifactBytes: usageMonthly.artifactBytes,
  renderMs: usageMonthly.renderMs,
  webhookDeliveries: usageMonthly.webhookDeliveries,
  driftRuns: usageMonthly.driftRuns,
};

/** Sets the row's figures; only a row whose figures differ is touched (and returned). */
function upsertUsage(
  db: ReturnType<typeof database>,
  tenantId: string,
  month: string,
  figures: UsageFigures,
  rolledUpAt: string,
) {
  const excluded = (metric: keyof UsageFigures): SQL => sql.raw(`excluded.${COLUMN_OF[metric].name}`);
  const differs = USAGE_METRICS.map((metric) => sql`${COLUMN_OF[metric]} IS NOT ${excluded(metric)}`);
  return db
    .insert(usageMonthly)
    .values({ tenantId, month, ...figures, rolledUpAt })
    .onConflictDoUpdate({
      target: [usageMonthly.month, usageMonthly.tenantId],
      set: { ...figures, rolledUpAt },
      setWhere: sql.join(differs, sql` OR `),
    })
    .returning({ tenantId: usageMonthly.tenantId });
}
