import { describe, expect, it } from "vitest";
import { LATENCY_BUCKETS_SECONDS, seriesKey } from "../../../workers/observability/metric-series";
import { MAX_SERIES_PER_CALL, MetricsBatch } from "../../../workers/observability/metrics-batch";
import { METRIC_DEFINITIONS, observeRequest, queueRole } from "../../../workers/observability/operator-metrics";
import { renderPrometheusText } from "../../../workers/observability/prometheus-text";
import { parseExposition, sampleValue } from "../../workers/observability/prometheus-format";

const env = { METRICS: { writeDataPoint: () => {} } } as unknown as Env;

function snapshotOf(batch: MetricsBatch) {
  const taken = batch.take() ?? { counters: [], histograms: [] };
  return taken;
}

describe("Prometheus text from the metrics aggregate", () => {
  it("renders counters, cumulative histograms and the queue depth in the exposition format", () => {
    const batch = new MetricsBatch();
    for (const ms of [3, 40, 40, 700, 120_000]) {
      observeRequest(
        env,
        { method: "GET", route: "/v1/jobs/:id", status: 200, durationMs: ms, responseBytes: 10, traceId: "t" },
        batch,
      );
    }
    observeRequest(
      env,
      {
        method: "POST",
        route: "/v1/jobs",
        status: 403,
        durationMs: 5,
        responseBytes: 0,
        problemType: "quota-exceeded",
        traceId: "t",
      },
      batch,
    );
    batch.count("kgen_queue_messages_sent_total", { queue: "generate" }, 7);
    batch.count("kgen_queue_messages_total", { queue: "generate", outcome: "acked" }, 4);
    batch.count("kgen_queue_dead_letters_total", { queue: "generate" }, 1);
    const exposition = parseExposition(renderPrometheusText(snapshotOf(batch)));

    for (const [name, definition] of Object.entries(METRIC_DEFINITIONS))
      expect(exposition.types.get(name)).toBe(definition.type);
    const route = { route: "/v1/jobs/:id", method: "GET" };
    expect(sampleValue(exposition, "kgen_http_requests_total", { ...route, status: "200" })).toBe(5);
    expect(sampleValue(exposition, "kgen_http_request_duration_seconds_count", route)).toBe(5);
    expect(sampleValue(exposition, "kgen_http_request_duration_seconds_sum", route)).toBeCloseTo(120.783, 6);
    expect(sampleValue(exposition, "kgen_http_request_duration_seconds_bucket", { ...route, le: "0.005" })).toBe(1);
    expect(sampleValue(exposition, "kgen_http_request_duration_seconds_bucket", { ...route, le: "0.05" })).toBe(3);
    expect(sampleValue(exposition, "kgen_http_request_duration_seconds_bucket", { ...route, le: "1" })).toBe(4);
    expect(sampleValue(exposition, "kgen_http_request_duration_seconds_bucket", { ...route, le: "60" })).toBe(4);
    expect(sampleValue(exposition, "kgen_http_request_duration_seconds_bucket", { ...route, le: "+Inf" })).toBe(5);
    const buckets = LATENCY_BUCKETS_SECONDS.map((le) =>
      sampleValue(exposition, "kgen_http_request_duration_seconds_bucket", { ...route, le: String(le) }),
    );
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
    expect(sampleValue(exposition, "kgen_quota_rejections_total", { route: "/v1/jobs", type: "quota-exceeded" })).toBe(
      1,
    );
    expect(sampleValue(exposition, "kgen_queue_depth", { queue: "generate" })).toBe(2);
  });

  it("escapes label values so a hostile route name cannot break a line", () => {
    const batch = new MetricsBatch();
    batch.count("kgen_http_requests_total", { route: 'a"b\\c\nd', method: "GET", status: "200" });
    const text = renderPrometheusText(snapshotOf(batch));
    expect(text).toContain('route="a\\"b\\\\c\\nd"');
    const exposition = parseExposition(text);
    expect(
      sampleValue(exposition, "kgen_http_requests_total", { route: 'a"b\\c\nd', method: "GET", status: "200" }),
    ).toBe(1);
  });

  it("the strict reader refuses what the format forbids", () => {
    expect(() => parseExposition("kgen_x_total 1\n")).toThrow(/outside its family/);
    expect(() => parseExposition('# HELP a_total x\n# TYPE a_total counter\na_total{l="v" 1\n')).toThrow();
    expect(() => parseExposition("# HELP a_total x\n# TYPE a_total counter\na_total one\n")).toThrow(/not a number/);
    expect(() => parseExposition("# HELP a x\n# TYPE a counter\na 1\n")).toThrow(/_total/);
    expect(() => parseExposition("# HELP a_total x\n# TYPE a_total counter\na_total 1")).toThrow(/line feed/);
  });
});

describe("the isolate's metrics batch", () => {
  it("sums observations of one series and hands them out at most MAX_SERIES_PER_CALL at a time", () => {
    const batch = new MetricsBatch();
    for (let i = 0; i < MAX_SERIES_PER_CALL + 10; i += 1) batch.count("kgen_jobs_total", { state: `s${i}` });
    batch.count("kgen_jobs_total", { state: "s0" }, 2);
    const first = batch.take();
    expect(first?.counters).toHaveLength(MAX_SERIES_PER_CALL);
    expect(first?.counters.find((c) => c.labels.state === "s0")?.value).toBe(3);
    expect(batch.take()?.counters).toHaveLength(10);
    expect(batch.take()).toBeUndefined();
  });

  it("puts a failed write back, and stops taking new series when full", () => {
    const batch = new MetricsBatch();
    batch.observe("kgen_job_duration_seconds", {}, 2);
    const taken = batch.take();
    if (!taken) throw new Error("nothing taken");
    batch.observe("kgen_job_duration_seconds", {}, 0.001);
    batch.restore(taken);
    const merged = batch.take()?.histograms[0];
    expect(merged?.count).toBe(2);
    expect(merged?.sum).toBeCloseTo(2.001, 9);
    const full = new MetricsBatch();
    for (let i = 0; i < 6000; i += 1) full.count("kgen_jobs_total", { state: `s${i}` });
    expect(full.size).toBe(5000);
  });

  it("names series canonically and queues by their role in every environment", () => {
    expect(seriesKey("m", { b: "1", a: "2" })).toBe(seriesKey("m", { a: "2", b: "1" }));
    expect(queueRole("kgen-generate-staging-dlq")).toBe("generate");
    expect(queueRole("kgen-deliver-production")).toBe("deliver");
    expect(queueRole("kgen-erase")).toBe("erase");
  });
});
