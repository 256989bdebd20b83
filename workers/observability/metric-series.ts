/** Upper bounds (seconds) of the latency histograms' buckets; `+Inf` is implied. Fixed so isolates can be summed. */
export const LATENCY_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] as const;

/** Label names and values the aggregate accepts: bounded so one hostile value cannot bloat the store. */
export const MAX_LABEL_VALUE_LENGTH = 128;
export const METRIC_NAME = /^[a-z_][a-z0-9_]{0,99}$/;
export const LABEL_NAME = /^[a-z_][a-z0-9_]{0,49}$/;
export const MAX_LABELS = 5;

export type MetricLabels = Record<string, string>;

export interface CounterIncrement {
  metric: string;
  labels: MetricLabels;
  value: number;
}

/** One histogram's observations: `buckets[i]` counts values ≤ LATENCY_BUCKETS_SECONDS[i] and above the bound before; the last entry is `+Inf`. */
export interface HistogramObservations {
  metric: string;
  labels: MetricLabels;
  buckets: number[];
  sum: number;
  count: number;
}

/** What an isolate sends to the metrics object in one call. */
export interface MetricsBatchInput {
  counters: CounterIncrement[];
  histograms: HistogramObservations[];
}

/** Labels in a canonical order, so the same series always has the same key. */
export function seriesKey(metric: string, labels: MetricLabels): string {
  const names = Object.keys(labels).sort();
  return `${metric}{${names.map((name) => `${name}=${JSON.stringify(labels[name])}`).join(",")}}`;
}

/** Index of the bucket a value (seconds) falls in. */
export function bucketIndex(seconds: number): number {
  const index = LATENCY_BUCKETS_SECONDS.findIndex((bound) => seconds <= bound);
  return index === -1 ? LATENCY_BUCKETS_SECONDS.length : index;
}

/** Throws RangeError on a series the aggregate must not store. */
export function assertValidSeries(metric: string, labels: MetricLabels): void {
  if (!METRIC_NAME.test(metric)) throw new RangeError(`invalid metric name: ${metric.slice(0, 100)}`);
  const names = Object.keys(labels);
  if (names.length > MAX_LABELS) throw new RangeError(`too many labels on ${metric}`);
  for (const name of names) {
    const value = labels[name];
    if (!LABEL_NAME.test(name)) throw new RangeError(`invalid label name on ${metric}`);
    if (typeof value !== "string" || value.length > MAX_LABEL_VALUE_LENGTH) {
      throw new RangeError(`invalid value of label ${name} on ${metric}`);
    }
  }
}
