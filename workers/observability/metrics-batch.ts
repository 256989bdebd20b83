import { DelayedFlush, type WaitUntil } from "./delayed-flush";
import {
  bucketIndex,
  type CounterIncrement,
  type HistogramObservations,
  LATENCY_BUCKETS_SECONDS,
  type MetricLabels,
  type MetricsBatchInput,
  seriesKey,
} from "./metric-series";

/** Bounds the batch's memory: observations of further series are dropped (and logged) until the next flush. */
const MAX_PENDING_SERIES = 5_000;
/** Series per call to the metrics object. */
export const MAX_SERIES_PER_CALL = 500;
const DEFAULT_METRICS_FLUSH_DELAY_MS = 10_000;

interface MetricsSink {
  record(batch: MetricsBatchInput): Promise<{ recorded: boolean; refused?: string }>;
}

/** How long an observation may wait in the isolate's batch before it is written (the metrics delay). */
export function metricsFlushDelayMs(env: Env): number {
  const configured = Number(env.METRICS_FLUSH_DELAY_MS);
  return Number.isFinite(configured) && configured > 0 ? configured : DEFAULT_METRICS_FLUSH_DELAY_MS;
}

/** The global metrics object: one instance for the whole platform. */
export function metricsObject(env: Env): MetricsSink {
  return env.METRICS_OBJECT.get(env.METRICS_OBJECT.idFromName("global"));
}

/**
 * Counters and latency histograms gathered in this isolate, written to the global metrics object
 * in one call at most `delayMs` after the first observation of a batch (in waitUntil, never on a
 * request's path). A failed write puts its observations back for the next flush.
 */
export class MetricsBatch {
  private readonly counters = new Map<string, CounterIncrement>();
  private readonly histograms = new Map<string, HistogramObservations>();
  private readonly flushing = new DelayedFlush();

  count(metric: string, labels: MetricLabels, value = 1): void {
    const key = seriesKey(metric, labels);
    const pending = this.counters.get(key);
    if (pending) pending.value += value;
    else if (this.hasRoom(key)) this.counters.set(key, { metric, labels, value });
  }

  observe(metric: string, labels: MetricLabels, seconds: number): void {
    const key = seriesKey(metric, labels);
    let pending = this.histograms.get(key);
    if (!pending) {
      if (!this.hasRoom(key)) return;
      pending = { metric, labels, buckets: new Array(LATENCY_BUCKETS_SECONDS.length + 1).fill(0), sum: 0, count: 0 };
      this.histograms.set(key, pending);
    }
    const value = Number.isFinite(seconds) && seconds > 0 ? seconds : 0;
    pending.buckets[bucketIndex(value)] = (pending.buckets[bucketIndex(value)] ?? 0) + 1;
    pending.sum += value;
    pending.count += 1;
  }

  get size(): number {
    return this.counters.size + this.histograms.size;
  }

  /** Removes and returns up to MAX_SERIES_PER_CALL pending series. */
  take(): MetricsBatchInput | undefined {
    if (this.size === 0) return undefined;
    const counters = takeSome(this.counters, MAX_SERIES_PER_CALL);
    const histograms = takeSome(this.histograms, MAX_SERIES_PER_CALL - counters.length);
    return { counters, histograms };
  }

  /** Puts observations that could not be written back into the batch. */
  restore(batch: MetricsBatchInput): void {
    for (const counter of batch.counters) this.count(counter.metric, counter.labels, counter.value);
    for (const histogram of batch.histograms) {
      const key = seriesKey(histogram.metric, histogram.labels);
      const pending = this.histograms.get(key);
      if (!pending) {
        if (this.hasRoom(key)) this.histograms.set(key, histogram);
        continue;
      }
      histogram.buckets.forEach((n, i) => {
        pending.buckets[i] = (pending.buckets[i] ?? 0) + n;
      });
      pending.sum += histogram.sum;
      pending.count += histogram.count;
    }
  }

  /**
   * Schedules one flush per batch: the first observation after a flush starts the next timer, of the
   * metrics delay unless the caller's context cannot wait that long.
   */
  scheduleFlush(env: Env, ctx: WaitUntil, delayMs = metricsFlushDelayMs(env)): void {
    if (this.size === 0) return;
    this.flushing.schedule(ctx, delayMs, () => this.flush(env));
  }

  /** Settles when no flush is scheduled or running. */
  idle(): Promise<void> {
    return this.flushing.idle();
  }

  /** Writes every pending series, MAX_SERIES_PER_CALL per call. */
  async flush(env: Env): Promise<void> {
    for (let batch = this.take(); batch; batch = this.take()) {
      let outcome: { recorded: boolean; refused?: string };
      try {
        outcome = await metricsObject(env).record(batch);
      } catch (error) {
        this.restore(batch);
        console.error(JSON.stringify({ level: "error", msg: "metrics flush failed", error: String(error) }));
        return;
      }
      // A refused batch would be refused again: it is dropped, not put back.
      if (!outcome.recorded) {
        console.error(JSON.stringify({ level: "error", msg: "metrics batch refused", reason: outcome.refused }));
      }
    }
  }

  private hasRoom(key: string): boolean {
    if (this.size < MAX_PENDING_SERIES) return true;
    console.error(JSON.stringify({ level: "error", msg: "metrics batch full", series: key.slice(0, 200) }));
    return false;
  }
}

function takeSome<T>(pending: Map<string, T>, limit: number): T[] {
  const taken: T[] = [];
  for (const [key, value] of pending) {
    if (taken.length >= limit) break;
    taken.push(value);
    pending.delete(key);
  }
  return taken;
}

/** This isolate's batch. */
export const metricsBatch = new MetricsBatch();
