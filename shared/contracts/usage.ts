import { type PlanName, planLimits } from "../plans";

/** Every figure metered per tenant and calendar month (UTC), in the order views and exports show them. */
export const USAGE_METRICS = [
  "requests",
  "sparqlQueries",
  "sparqlMs",
  "triplesPeak",
  "triplesAverage",
  "templates",
  "jobs",
  "artifacts",
  "artifactBytes",
  "renderMs",
  "webhookDeliveries",
  "driftRuns",
] as const;

export type UsageMetric = (typeof USAGE_METRICS)[number];

export type UsageFigures = Record<UsageMetric, number>;

/** What a calendar month is written as in queries and rows: `2026-12`. */
export const MONTH = /^[0-9]{4}-(0[1-9]|1[0-2])$/;

export function emptyUsageFigures(): UsageFigures {
  return Object.fromEntries(USAGE_METRICS.map((metric) => [metric, 0])) as UsageFigures;
}

/** The plan limit a figure is measured against, or null when the plan sets none for it. */
export function usageQuota(plan: PlanName | string, metric: UsageMetric): number | null {
  const limits = planLimits(plan);
  switch (metric) {
    case "triplesPeak":
    case "triplesAverage":
      return limits.triples;
    case "templates":
      return limits.templates;
    case "jobs":
      return limits.generationsPerMonth;
    case "artifactBytes":
      return limits.artifactBytes;
    default:
      return null;
  }
}

/** Epoch ms of the first instant of `month` and of the month after it (UTC). */
export function monthBounds(month: string): { start: number; end: number } {
  const [year, monthNumber] = month.split("-").map(Number) as [number, number];
  return { start: Date.UTC(year, monthNumber - 1, 1), end: Date.UTC(year, monthNumber, 1) };
}

/** The month before `month`. */
export function previousMonth(month: string): string {
  const { start } = monthBounds(month);
  return new Date(start - 1).toISOString().slice(0, 7);
}

export interface PlanChange {
  fromPlan: string;
  toPlan: string;
  /** ISO 8601. */
  changedAt: string;
}

export interface PlanPeriod {
  plan: string;
  /** ISO 8601, inclusive. */
  from: string;
  /** ISO 8601, exclusive. */
  to: string;
  /** The period's share of the month, for proration (the shares of a month add up to 1). */
  share: number;
}

/**
 * The plans a tenant had during `month`, each with its share of the month. `changes` are the tenant's
 * plan changes from the month's start on, oldest first; `currentPlan` is its plan now.
 */
export function planPeriods(month: string, currentPlan: string, changes: readonly PlanChange[]): PlanPeriod[] {
  const { start, end } = monthBounds(month);
  const within = changes.filter((change) => {
    const at = Date.parse(change.changedAt);
    return at >= start && at < end;
  });
  const after = changes.find((change) => Date.parse(change.changedAt) >= end);
  const planAtEnd = after?.fromPlan ?? currentPlan;
  const boundaries = [
    { plan: within[0]?.fromPlan ?? planAtEnd, at: start },
    ...within.map((change) => ({ plan: change.toPlan, at: Date.parse(change.changedAt) })),
  ];
  return boundaries
    .map((boundary, index) => {
      const to = boundaries[index + 1]?.at ?? end;
      return {
        plan: boundary.plan,
        from: new Date(boundary.at).toISOString(),
        to: new Date(to).toISOString(),
        share: Math.round(((to - boundary.at) / (end - start)) * 1e6) / 1e6,
      };
    })
    .filter((period) => period.from !== period.to);
}
