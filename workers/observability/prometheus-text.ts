import type { MetricsSnapshot } from "../../durable-objects/metrics-object";
import { LATENCY_BUCKETS_SECONDS, type MetricLabels } from "./metric-series";
import { METRIC_DEFINITIONS, type MetricName } from "./operator-metrics";

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Label values escaped as the text exposition format requires: backslash, double quote, line feed. */
function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function labelText(labels: MetricLabels, extra: MetricLabels = {}): string {
  const all = { ...labels, ...extra };
  const names = Object.keys(all).sort();
  if (names.length === 0) return "";
  return `{${names.map((name) => `${name}="${escapeLabelValue(all[name] ?? "")}"`).join(",")}}`;
}

function numberText(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(15)));
}

/**
 * The aggregate as Prometheus text exposition (version 0.0.4): `# HELP` and `# TYPE` per metric,
 * every metric in METRIC_DEFINITIONS present (with no samples until something is observed),
 * histograms as cumulative `_bucket{le}` series plus `_sum` and `_count`, and the queue depth
 * gauge derived from the queue counters.
 */
export function renderPrometheusText(snapshot: MetricsSnapshot): string {
  const lines: string[] = [];
  const samples = new Map<MetricName, string[]>();
  const push = (metric: MetricName, line: string) => {
    const list = samples.get(metric) ?? [];
    list.push(line);
    samples.set(metric, list);
  };
  for (const counter of snapshot.counters) {
    if (!(counter.metric in METRIC_DEFINITIONS)) continue;
    push(counter.metric as MetricName, `${counter.metric}${labelText(counter.labels)} ${numberText(counter.value)}`);
  }
  for (const histogram of snapshot.histograms) {
    if (!(histogram.metric in METRIC_DEFINITIONS)) continue;
    const metric = histogram.metric as MetricName;
    let cumulative = 0;
    LATENCY_BUCKETS_SECONDS.forEach((bound, i) => {
      cumulative += histogram.buckets[i] ?? 0;
      push(metric, `${metric}_bucket${labelText(histogram.labels, { le: numberText(bound) })} ${cumulative}`);
    });
    push(metric, `${metric}_bucket${labelText(histogram.labels, { le: "+Inf" })} ${histogram.count}`);
    push(metric, `${metric}_sum${labelText(histogram.labels)} ${numberText(histogram.sum)}`);
    push(metric, `${metric}_count${labelText(histogram.labels)} ${histogram.count}`);
  }
  for (const [queue, depth] of queueDepths(snapshot)) {
    push("kgen_queue_depth", `kgen_queue_depth${labelText({ queue })} ${depth}`);
  }
  for (const [metric, definition] of Object.entries(METRIC_DEFINITIONS)) {
    lines.push(`# HELP ${metric} ${definition.help}`);
    lines.push(`# TYPE ${metric} ${definition.type}`);
    lines.push(...(samples.get(metric as MetricName) ?? []));
  }
  return `${lines.join("\n")}\n`;
}

/** Per queue: sent − acked − dead-lettered, never below zero (sends before the counters existed). */
function queueDepths(snapshot: MetricsSnapshot): Map<string, number> {
  const depths = new Map<string, number>();
  const add = (queue: string | undefined, delta: number) => {
    if (queue === undefined) return;
    depths.set(queue, (depths.get(queue) ?? 0) + delta);
  };
  for (const counter of snapshot.counters) {
    if (counter.metric === "kgen_queue_messages_sent_total") add(counter.labels.queue, counter.value);
    else if (counter.metric === "kgen_queue_dead_letters_total") add(counter.labels.queue, -counter.value);
    else if (counter.metric === "kgen_queue_messages_total" && counter.labels.outcome === "acked") {
      add(counter.labels.queue, -counter.value);
    }
  }
  return new Map([...depths].sort(([a], [b]) => a.localeCompare(b)).map(([queue, n]) => [queue, Math.max(0, n)]));
}
