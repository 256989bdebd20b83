import { DurableObject } from "cloudflare:workers";
import {
  assertValidSeries,
  type CounterIncrement,
  type HistogramObservations,
  LATENCY_BUCKETS_SECONDS,
  type MetricsBatchInput,
  seriesKey,
} from "../workers/observability/metric-series";

/** Series the aggregate keeps; new ones beyond are dropped (and logged), existing ones still count. */
export const MAX_STORED_SERIES = 20_000;
const MAX_SERIES_PER_RECORD = 500;

export type RecordOutcome = { recorded: true } | { recorded: false; refused: string };

export interface MetricsSnapshot {
  counters: CounterIncrement[];
  histograms: HistogramObservations[];
}

/**
 * The platform's operator metrics: one global instance, fed in batches by every isolate
 * (workers/observability/metrics-batch.ts) and read by `GET /v1/admin/metrics`. Counters and
 * fixed-bucket histograms only, so batches from any number of isolates simply add up.
 */
export class MetricsObject extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    ctx.blockConcurrencyWhile(async () => {
      this.sql.exec(
        "CREATE TABLE IF NOT EXISTS metric_counters (series TEXT PRIMARY KEY, metric TEXT NOT NULL, labels TEXT NOT NULL, value REAL NOT NULL)",
      );
      this.sql.exec(
        "CREATE TABLE IF NOT EXISTS metric_histograms (series TEXT PRIMARY KEY, metric TEXT NOT NULL, labels TEXT NOT NULL, buckets TEXT NOT NULL, sum REAL NOT NULL, count INTEGER NOT NULL)",
      );
    });
  }

  /**
   * Adds one isolate's batch, or refuses it whole (nothing written) when it is malformed: an answer
   * rather than an exception, so the caller can tell a refusal (never worth retrying) from a failed call.
   */
  record(batch: MetricsBatchInput): RecordOutcome {
    try {
      this.assertValid(batch);
    } catch (error) {
      if (error instanceof RangeError) return { recorded: false, refused: error.message };
      throw error;
    }
    this.ctx.storage.transactionSync(() => {
      for (const counter of batch.counters) this.addCounter(counter);
      for (const histogram of batch.histograms) this.addHistogram(histogram);
    });
    return { recorded: true };
  }

  private assertValid(batch: MetricsBatchInput): void {
    if (typeof batch !== "object" || batch === null) throw new RangeError("not a batch");
    if (!Array.isArray(batch.counters) || !Array.isArray(batch.histograms)) throw new RangeError("not a batch");
    const { counters, histograms } = batch;
    if (counters.length + histograms.length > MAX_SERIES_PER_RECORD)
      throw new RangeError("too many series in one batch");
    for (const counter of counters) {
      assertValidSeries(counter.metric, counter.labels);
      if (!(Number.isFinite(counter.value) && counter.value >= 0)) throw new RangeError("invalid counter increment");
    }
    for (const histogram of histograms) {
      assertValidSeries(histogram.metric, histogram.labels);
      const valid =
        Array.isArray(histogram.buckets) &&
        histogram.buckets.length === LATENCY_BUCKETS_SECONDS.length + 1 &&
        histogram.buckets.every((n) => Number.isInteger(n) && n >= 0) &&
        histogram.buckets.reduce((a, b) => a + b, 0) === histogram.count &&
        Number.isFinite(histogram.sum) &&
        histogram.sum >= 0;
      if (!valid) throw new RangeError("invalid histogram observations");
    }
  }

  snapshot(): MetricsSnapshot {
    const counters = this.sql
      .exec<{ metric: string; labels: string; value: number }>(
        "SELECT metric, labels, value FROM metric_counters ORDER BY series",
      )
      .toArray()
      .map((row) => ({ metric: row.metric, labels: JSON.parse(row.labels), value: row.value }));
    const histograms = this.sql
      .exec<{ metric: string; labels: string; buckets: string; sum: number; count: number }>(
        "SELECT metric, labels, buckets, sum, count FROM metric_histograms ORDER BY series",
      )
      .toArray()
      .map((row) => ({
        metric: row.metric,
        labels: JSON.parse(row.labels),
        buckets: JSON.parse(row.buckets),
        sum: row.sum,
        count: row.count,
      }));
    return { counters, histograms };
  }

  private addCounter(counter: CounterIncrement): void {
    const series = seriesKey(counter.metric, counter.labels);
    const updated = this.sql.exec(
      "UPDATE metric_counters SET value = value + ? WHERE series = ?",
      counter.value,
      series,
    );
    if (updated.rowsWritten > 0 || !this.hasRoom(series)) return;
    this.sql.exec(
      "INSERT INTO metric_counters (series, metric, labels, value) VALUES (?, ?, ?, ?)",
      series,
      counter.metric,
      JSON.stringify(counter.labels),
      counter.value,
    );
  }

  private addHistogram(histogram: HistogramObservations): void {
    const series = seriesKey(histogram.metric, histogram.labels);
    const existing = this.sql
      .exec<{ buckets: string }>("SELECT buckets FROM metric_histograms WHERE series = ?", series)
      .toArray()[0];
    if (existing) {
      const buckets = (JSON.parse(existing.buckets) as number[]).map((n, i) => n + (histogram.buckets[i] ?? 0));
      this.sql.exec(
        "UPDATE metric_histograms SET buckets = ?, sum = sum + ?, count = count + ? WHERE series = ?",
        JSON.stringify(buckets),
        histogram.sum,
        histogram.count,
        series,
      );
      return;
    }
    if (!this.hasRoom(series)) return;
    this.sql.exec(
      "INSERT INTO metric_histograms (series, metric, labels, buckets, sum, count) VALUES (?, ?, ?, ?, ?, ?)",
      series,
      histogram.metric,
      JSON.stringify(histogram.labels),
      JSON.stringify(histogram.buckets),
      histogram.sum,
      histogram.count,
    );
  }

  private hasRoom(series: string): boolean {
    const stored = this.sql
      .exec<{ n: number }>(
        "SELECT (SELECT COUNT(*) FROM metric_counters) + (SELECT COUNT(*) FROM metric_histograms) AS n",
      )
      .one().n;
    if (stored < MAX_STORED_SERIES) return true;
    console.error(JSON.stringify({ level: "error", msg: "metrics store full", series: series.slice(0, 200) }));
    return false;
  }
}
