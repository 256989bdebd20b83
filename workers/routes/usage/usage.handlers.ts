import { TOTAL_PERIOD } from "../../../durable-objects/tenant/quota-counters";
import { STORED_KINDS } from "../../../durable-objects/tenant/stored-bytes";
import { emptyUsageFigures, USAGE_METRICS, usageQuota } from "../../../shared/contracts/usage";
import {
  MONTHLY_QUOTA_COUNTERS,
  monthPeriod,
  planLimits,
  QUOTA_COUNTERS,
  type QuotaCounter,
  quotaLimit,
} from "../../../shared/plans";
import { database } from "../../db/client";
import { requestUsageBatch } from "../../middleware/request-usage-batch";
import type { AppRouteHandler } from "../../openapi";
import { figuresOf, UsageLedger } from "../../repository/usage-ledger";
import { tenantObject } from "../../tenant-object-stub";
import type * as routes from "./usage.routes";

/** Generations are counted per month; the other counters are running totals. */
const periodOf = (counter: QuotaCounter, month: string) =>
  MONTHLY_QUOTA_COUNTERS.includes(counter) ? month : TOTAL_PERIOD;

export const usage: AppRouteHandler<typeof routes.usage> = async (c) => {
  const { tenant } = c.var;
  const query = c.req.valid("query");
  const currentMonth = monthPeriod(Date.now());
  const month = query.month ?? query.period ?? currentMonth;
  const period = query.period ?? month;
  // A past month's figures are the rollup's, read beside the object's call; the current month is live.
  const rolledUp = month < currentMonth ? new UsageLedger(database(c.env.DB)).monthOf(tenant.id, month) : undefined;
  // This isolate's unwritten counts travel with the read, so a tenant sees its own recent requests here at once.
  const record = requestUsageBatch.take(tenant.id, Date.now());
  const [{ quotas: counted, requests, stored, databaseBytes, month: live }, rollup] = await Promise.all([
    tenantObject(c.env, tenant)
      .getUsage({ ...(record ? { record } : {}), month })
      .catch((error: unknown) => {
        if (record) requestUsageBatch.restore(tenant, record.counts);
        throw error;
      }),
    rolledUp,
  ]);
  const figures = rollup ? figuresOf(rollup) : (live?.figures ?? emptyUsageFigures());
  const monthly = {
    month,
    source: rollup ? ("rollup" as const) : ("live" as const),
    rolledUpAt: rollup?.rolledUpAt ?? null,
    figures: USAGE_METRICS.map((metric) => ({
      metric,
      value: figures[metric],
      quota: usageQuota(tenant.plan, metric),
    })),
  };
  const quotas = QUOTA_COUNTERS.map((counter) => {
    const counterPeriod = periodOf(counter, period);
    const row = counted.find((entry) => entry.counter === counter && entry.period === counterPeriod);
    return { counter, period: counterPeriod, used: row?.used ?? 0, limit: quotaLimit(tenant.plan, counter) };
  });
  const kinds = STORED_KINDS.map((kind) => {
    const row = stored.find((entry) => entry.kind === kind);
    return {
      kind,
      bytes: row?.bytes ?? 0,
      objects: row?.objects ?? 0,
      measuredAt: row ? new Date(row.measuredAt).toISOString() : null,
    };
  });
  const { plan, ...limits } = planLimits(tenant.plan);
  return c.json(
    {
      plan,
      period,
      limits,
      quotas,
      storage: { kinds, tenantDatabaseBytes: databaseBytes },
      usage: monthly,
      requests,
    },
    200,
  );
};
