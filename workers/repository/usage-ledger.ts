import { and, asc, eq, gt, gte, inArray } from "drizzle-orm";
import { monthBounds, type PlanChange, USAGE_METRICS, type UsageFigures } from "../../shared/contracts/usage";
import type { Database } from "../db/client";
import { planChanges, tenants, type UsageMonthlyRow, usageMonthly } from "../db/schema";

/** Plan changes read per page of the export at most: far more than operators make in a month. */
export const MAX_PLAN_CHANGES_PER_PAGE = 5_000;

export interface TenantMonthUsage {
  tenantId: string;
  slug: string;
  plan: string;
  month: string;
  figures: UsageFigures;
  rolledUpAt: string;
}

export function figuresOf(row: UsageMonthlyRow): UsageFigures {
  return Object.fromEntries(USAGE_METRICS.map((metric) => [metric, row[metric]])) as UsageFigures;
}

/** The rolled-up monthly usage in D1 (written by the cron's rollup) and the plan changes beside it. */
export class UsageLedger {
  constructor(private readonly db: Database) {}

  async monthOf(tenantId: string, month: string): Promise<UsageMonthlyRow | undefined> {
    return this.db
      .select()
      .from(usageMonthly)
      .where(and(eq(usageMonthly.month, month), eq(usageMonthly.tenantId, tenantId)))
      .get();
  }

  /** Up to `limit` + 1 tenants' rows of `month` in tenant id order after `afterTenantId`. */
  async page(month: string, limit: number, afterTenantId = ""): Promise<TenantMonthUsage[]> {
    const rows = await this.db
      .select({ usage: usageMonthly, slug: tenants.slug, plan: tenants.plan })
      .from(usageMonthly)
      .innerJoin(tenants, eq(tenants.id, usageMonthly.tenantId))
      .where(and(eq(usageMonthly.month, month), gt(usageMonthly.tenantId, afterTenantId)))
      .orderBy(asc(usageMonthly.tenantId))
      .limit(limit + 1)
      .all();
    return rows.map(({ usage, slug, plan }) => ({
      tenantId: usage.tenantId,
      slug,
      plan,
      month,
      figures: figuresOf(usage),
      rolledUpAt: usage.rolledUpAt,
    }));
  }

  /** The plan changes of these tenants from the month's start on, oldest first, by tenant. */
  async planChangesFrom(month: string, tenantIds: string[]): Promise<Map<string, PlanChange[]>> {
    const byTenant = new Map<string, PlanChange[]>();
    if (tenantIds.length === 0) return byTenant;
    const rows = await this.db
      .select()
      .from(planChanges)
      .where(
        and(
          inArray(planChanges.tenantId, tenantIds),
          gte(planChanges.changedAt, new Date(monthBounds(month).start).toISOString()),
        ),
      )
      .orderBy(asc(planChanges.changedAt), asc(planChanges.id))
      .limit(MAX_PLAN_CHANGES_PER_PAGE)
      .all();
    for (const row of rows) {
      const changes = byTenant.get(row.tenantId) ?? [];
      changes.push({ fromPlan: row.fromPlan, toPlan: row.toPlan, changedAt: row.changedAt });
      byTenant.set(row.tenantId, changes);
    }
    return byTenant;
  }
}
