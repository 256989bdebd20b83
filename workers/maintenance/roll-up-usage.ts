import { type SQL, sql } from "drizzle-orm";
import { previousMonth, USAGE_METRICS, type UsageFigures } from "../../shared/contracts/usage";
import { monthPeriod } from "../../shared/plans";
import { database } from "../db/client";
import { usageMonthly } from "../db/schema";
import { tenantObject } from "../tenant-object-stub";
import { liveTenantPage, nextPosition, readCursor, writeCursor } from "./tenant-cursor";

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
  const after = await readCursor(db, TASK);
  const page = await liveTenantPage(db, after, tenantsPerRun);
  const { changed, failed } = await rollUpTenants(env, page, scheduledTime);
  const next = nextPosition(after, page, tenantsPerRun);
  await writeCursor(db, TASK, next, scheduledTime);
  return { tenants: page.length, changed, failed, nextPosition: next };
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
