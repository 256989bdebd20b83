import { emptyUsageFigures, type UsageFigures } from "../../shared/contracts/usage";
import { dayPeriod, monthPeriod } from "../../shared/plans";
import type { SchemaComponent } from "../../shared/sql/migrations";
import type { SqlDatabase } from "../../shared/sql/sql-database";
import { TOTAL_PERIOD } from "./quota-counters";
import { REQUEST_USAGE_RETENTION_DAYS } from "./request-usage";

/** Work counted per month where it happens (the other figures are read from counters kept for quotas). */
export const METERED_WORK = [
  "sparqlQueries",
  "sparqlMs",
  "renderMs",
  "webhookDeliveries",
  "driftRuns",
  "artifacts",
  "artifactBytes",
] as const;

export type MeteredWork = (typeof METERED_WORK)[number];

/**
 * Stored amounts sampled once a day by the cron's usage rollup (kept as long as request counters);
 * a month shows their peak and average.
 */
const SAMPLED = ["triples", "templates"] as const;

export const usageMeterSchema: SchemaComponent = {
  name: "usage-meter",
  migrations: [
    {
      version: 1,
      description: "metered work per month, daily samples of stored amounts",
      up: `
        CREATE TABLE usage_count (
          month TEXT NOT NULL,
          metric TEXT NOT NULL,
          value INTEGER NOT NULL,
          PRIMARY KEY (month, metric)
        ) WITHOUT ROWID;

        CREATE TABLE usage_sample (
          day TEXT NOT NULL,
          metric TEXT NOT NULL,
          value INTEGER NOT NULL,
          PRIMARY KEY (day, metric)
        ) WITHOUT ROWID;
      `,
    },
  ],
};

/**
 * The tenant's usage per calendar month: counts work as it happens and computes a month's figures
 * from its own counters and the ones quotas keep, so computing them twice gives the same figures.
 */
export class UsageMeter {
  constructor(private readonly db: SqlDatabase) {}

  add(metric: MeteredWork, month: string, amount: number): void {
    if (amount === 0) return;
    this.db.run(
      `INSERT INTO usage_count (month, metric, value) VALUES (?, ?, ?)
       ON CONFLICT (month, metric) DO UPDATE SET value = value + excluded.value`,
      [month, metric, amount],
    );
  }

  /** Samples the stored amounts for the day of `now`, replacing that day's earlier sample. */
  sample(now: number): void {
    const day = dayPeriod(now);
    const current = this.currentAmounts();
    for (const metric of SAMPLED) {
      this.db.run(
        `INSERT INTO usage_sample (day, metric, value) VALUES (?, ?, ?)
         ON CONFLICT (day, metric) DO UPDATE SET value = excluded.value`,
        [day, metric, current[metric]],
      );
    }
    const oldestKept = dayPeriod(now - (REQUEST_USAGE_RETENTION_DAYS - 1) * 86_400_000);
    this.db.run("DELETE FROM usage_sample WHERE day < ?", [oldestKept]);
  }

  /**
   * The month's figures. For the month of `now`, today's amounts count as a sample even before the
   * cron has taken it, so a live view and the rollup agree.
   */
  figures(month: string, now: number): UsageFigures {
    const figures = emptyUsageFigures();
    const [requests] = this.db.all(
      "SELECT coalesce(sum(requests), 0) FROM request_usage WHERE day >= ? AND day <= ?",
      daysOf(month),
    )[0] as [number];
    figures.requests = Number(requests);
    for (const [metric, value] of this.db.all("SELECT metric, value FROM usage_count WHERE month = ?", [month])) {
      if ((METERED_WORK as readonly unknown[]).includes(metric)) figures[metric as MeteredWork] = Number(value);
    }
    const [jobs] = this.db.all("SELECT coalesce(sum(used), 0) FROM quota_usage WHERE counter = ? AND period = ?", [
      "generations",
      month,
    ])[0] as [number];
    figures.jobs = Number(jobs);
    const samples = this.samples(month, now);
    const triples = samples.map((sample) => sample.triples);
    figures.triplesPeak = triples.length === 0 ? 0 : Math.max(...triples);
    figures.triplesAverage =
      triples.length === 0 ? 0 : Math.round(triples.reduce((sum, value) => sum + value, 0) / triples.length);
    figures.templates = samples.length === 0 ? 0 : Math.max(...samples.map((sample) => sample.templates));
    return figures;
  }

  private samples(month: string, now: number): { triples: number; templates: number }[] {
    const byDay = new Map<string, { triples: number; templates: number }>();
    for (const [day, metric, value] of this.db.all(
      "SELECT day, metric, value FROM usage_sample WHERE day >= ? AND day <= ? ORDER BY day, metric",
      daysOf(month),
    )) {
      const sample = byDay.get(day as string) ?? { triples: 0, templates: 0 };
      sample[metric as (typeof SAMPLED)[number]] = Number(value);
      byDay.set(day as string, sample);
    }
    if (monthPeriod(now) === month) byDay.set(dayPeriod(now), this.currentAmounts());
    return [...byDay.values()];
  }

  /** Triples as the plan's limit counts them (every graph's latest version); templates from their quota counter. */
  private currentAmounts(): { triples: number; templates: number } {
    const [triples] = this.db.all(
      `SELECT coalesce(sum(v.triple_count), 0) FROM rdf_graph g
       JOIN rdf_graph_version v ON v.graph = g.id AND v.number = g.latest`,
    )[0] as [number];
    const [templates] = this.db.all("SELECT coalesce(sum(used), 0) FROM quota_usage WHERE counter = ? AND period = ?", [
      "templates",
      TOTAL_PERIOD,
    ])[0] as [number];
    return { triples: Number(triples), templates: Number(templates) };
  }
}

/** The first and last day keys a month can have, for a range over a day-keyed primary key. */
function daysOf(month: string): [string, string] {
  return [`${month}-01`, `${month}-31`];
}
