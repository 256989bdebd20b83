export const PLAN_NAMES = ["free", "standard", "premium", "enterprise"] as const;

export type PlanName = (typeof PLAN_NAMES)[number];

export interface PlanLimits {
  plan: PlanName;
  /** Requests per minute per tenant, enforced at the edge by the plan's rate-limit binding. */
  requestsPerMinute: number;
  /** Largest request body accepted (413 above it). */
  maxRequestBodyBytes: number;
  /** Triples stored across all graphs and versions. */
  triples: number;
  /** Templates stored across all generators. */
  templates: number;
  /** Bytes of stored artifacts. */
  artifactBytes: number;
  /** Generation jobs started per calendar month (UTC). */
  generationsPerMonth: number;
  /** Wall-clock budget of one SPARQL query. */
  queryTimeMs: number;
  /** Rows one SPARQL query may return. */
  queryResultRows: number;
  /** Plans of at most this many units are rendered and written in one step when planned; larger ones in queue batches. */
  syncJobArtifacts: number;
  /** Days events stay in the tenant's event log before the cron prunes them. */
  eventRetentionDays: number;
  /** Live event streams (SSE and WebSocket together) the tenant may hold open at once. */
  openEventStreams: number;
  /** Completed jobs kept per generator, newest first; older unpinned ones expire with their artifacts. */
  keptJobsPerGenerator: number;
  /** Days a failed, unpinned job is kept after it last changed. */
  failedJobRetentionDays: number;
  /** Newest versions kept per graph; older ones no retained job pins are dropped by the cron. */
  keptGraphVersions: number;
  /** Drift monitors the tenant may keep. */
  monitors: number;
  /** Shortest interval a monitor's schedule may have between two runs. */
  monitorMinIntervalMinutes: number;
  /** Monitor runs (scheduled and graph-triggered) per calendar month (UTC). */
  monitorRunsPerMonth: number;
}

const KIB = 1024;
const MIB = 1024 * KIB;
const GIB = 1024 * MIB;

const PLAN_TABLE: Readonly<Record<PlanName, Readonly<PlanLimits>>> = {
  free: freeze({
    plan: "free",
    requestsPerMinute: 60,
    maxRequestBodyBytes: 1 * MIB,
    triples: 100_000,
    templates: 50,
    artifactBytes: 100 * MIB,
    generationsPerMonth: 100,
    queryTimeMs: 5_000,
    queryResultRows: 10_000,
    syncJobArtifacts: 50,
    eventRetentionDays: 7,
    openEventStreams: 5,
    keptJobsPerGenerator: 5,
    failedJobRetentionDays: 7,
    keptGraphVersions: 10,
    monitors: 3,
    monitorMinIntervalMinutes: 60,
    monitorRunsPerMonth: 3_000,
  }),
  standard: freeze({
    plan: "standard",
    requestsPerMinute: 600,
    maxRequestBodyBytes: 10 * MIB,
    triples: 1_000_000,
    templates: 500,
    artifactBytes: 5 * GIB,
    generationsPerMonth: 2_000,
    queryTimeMs: 15_000,
    queryResultRows: 100_000,
    syncJobArtifacts: 200,
    eventRetentionDays: 30,
    openEventStreams: 20,
    keptJobsPerGenerator: 20,
    failedJobRetentionDays: 30,
    keptGraphVersions: 50,
    monitors: 20,
    monitorMinIntervalMinutes: 15,
    monitorRunsPerMonth: 30_000,
  }),
  premium: freeze({
    plan: "premium",
    requestsPerMinute: 3_000,
    maxRequestBodyBytes: 50 * MIB,
    triples: 10_000_000,
    templates: 5_000,
    artifactBytes: 50 * GIB,
    generationsPerMonth: 20_000,
    queryTimeMs: 30_000,
    queryResultRows: 500_000,
    syncJobArtifacts: 500,
    eventRetentionDays: 90,
    openEventStreams: 50,
    keptJobsPerGenerator: 100,
    failedJobRetentionDays: 90,
    keptGraphVersions: 200,
    monitors: 100,
    monitorMinIntervalMinutes: 5,
    monitorRunsPerMonth: 300_000,
  }),
  enterprise: freeze({
    plan: "enterprise",
    requestsPerMinute: 12_000,
    maxRequestBodyBytes: 100 * MIB,
    triples: 100_000_000,
    templates: 50_000,
    artifactBytes: 1024 * GIB,
    generationsPerMonth: 200_000,
    queryTimeMs: 60_000,
    queryResultRows: 1_000_000,
    syncJobArtifacts: 1_000,
    eventRetentionDays: 365,
    openEventStreams: 100,
    keptJobsPerGenerator: 1_000,
    failedJobRetentionDays: 365,
    keptGraphVersions: 1_000,
    monitors: 500,
    monitorMinIntervalMinutes: 5,
    monitorRunsPerMonth: 3_000_000,
  }),
};

/** Thrown for a plan name that is not one of PLAN_NAMES. */
export class UnknownPlanError extends Error {
  readonly plan: string;

  constructor(plan: string) {
    super(`Unknown plan "${plan}"; expected one of ${PLAN_NAMES.join(", ")}`);
    this.name = "UnknownPlanError";
    this.plan = plan;
  }
}

export function isPlanName(value: unknown): value is PlanName {
  return typeof value === "string" && Object.hasOwn(PLAN_TABLE, value);
}

/** The limits of `plan` (frozen); throws UnknownPlanError for anything else. */
export function planLimits(plan: string): Readonly<PlanLimits> {
  if (!isPlanName(plan)) throw new UnknownPlanError(plan);
  return PLAN_TABLE[plan];
}

/** Evaluation steps a query may take per millisecond of the plan's query time. */
const QUERY_STEPS_PER_MS = 2_000;

/**
 * The SPARQL budget of a plan. Time is bounded by evaluation steps, not the clock: Date.now() does
 * not advance during CPU work in Workers.
 */
export function queryLimits(plan: string): { maxRows: number; maxSteps: number } {
  const limits = planLimits(plan);
  return { maxRows: limits.queryResultRows, maxSteps: limits.queryTimeMs * QUERY_STEPS_PER_MS };
}

/** Quota counters kept in the tenant's Durable Object, each bounded by one plan limit. */
export const QUOTA_COUNTERS = ["triples", "templates", "artifactBytes", "generations", "monitorRuns"] as const;

export type QuotaCounter = (typeof QUOTA_COUNTERS)[number];

/** Counters that start again every calendar month (UTC); the others count totals. */
export const MONTHLY_QUOTA_COUNTERS: readonly QuotaCounter[] = ["generations", "monitorRuns"];

export function isQuotaCounter(value: unknown): value is QuotaCounter {
  return typeof value === "string" && (QUOTA_COUNTERS as readonly string[]).includes(value);
}

/** The plan limit that bounds `counter` (generations and monitor runs are per month, the others are totals). */
export function quotaLimit(plan: string, counter: QuotaCounter): number {
  const limits = planLimits(plan);
  switch (counter) {
    case "triples":
      return limits.triples;
    case "templates":
      return limits.templates;
    case "artifactBytes":
      return limits.artifactBytes;
    case "generations":
      return limits.generationsPerMonth;
    case "monitorRuns":
      return limits.monitorRunsPerMonth;
  }
}

/** Calendar-month period key (UTC) for `epochMs`, e.g. `2026-11`: the key monthly quota counters use. */
export function monthPeriod(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 7);
}

/** Calendar-day key (UTC) for `epochMs`, e.g. `2026-11-26`: the key request usage counters use. */
export function dayPeriod(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10);
}

function freeze<T extends object>(value: T): Readonly<T> {
  return Object.freeze(value);
}
