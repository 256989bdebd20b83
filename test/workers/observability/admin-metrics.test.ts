import { createExecutionContext, createMessageBatch, getQueueResult, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { app } from "../../../workers/app";
import worker from "../../../workers/index";
import { LATENCY_BUCKETS_SECONDS } from "../../../workers/observability/metric-series";
import { metricsBatch, metricsObject } from "../../../workers/observability/metrics-batch";
import { ADMIN_TOKEN, BASE, bearer, call, createTenant, expectProblem } from "../helpers";
import { type Exposition, parseExposition, sampleValue } from "./prometheus-format";

async function scrape(): Promise<Exposition> {
  const res = await call("/v1/admin/metrics", { headers: bearer(ADMIN_TOKEN) });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  return parseExposition(await res.text());
}

describe("GET /v1/admin/metrics", () => {
  it("counts requests by route template and status, exactly", async () => {
    const tenant = await createTenant();
    const before = await scrape();
    const jobIds = ["job_metrics_a", "job_metrics_b", "job_metrics_c"];
    for (const id of jobIds) {
      expect((await call(`/v1/jobs/${id}`, { headers: bearer(tenant.apiKey) })).status).toBe(404);
    }
    expect((await call("/v1/me", { headers: bearer(tenant.apiKey) })).status).toBe(200);
    const after = await scrape();

    const jobs404 = { route: "/v1/jobs/:id", method: "GET", status: "404" };
    const me200 = { route: "/v1/me", method: "GET", status: "200" };
    const scrape200 = { route: "/v1/admin/metrics", method: "GET", status: "200" };
    const delta = (labels: Record<string, string>) =>
      sampleValue(after, "kgen_http_requests_total", labels) - sampleValue(before, "kgen_http_requests_total", labels);
    expect(delta(jobs404)).toBe(3);
    expect(delta(me200)).toBe(1);
    // The scrape before this one is counted; the one being answered is not yet.
    expect(delta(scrape200)).toBe(1);
    const count = (e: Exposition) =>
      sampleValue(e, "kgen_http_request_duration_seconds_count", { route: "/v1/jobs/:id", method: "GET" });
    expect(count(after) - count(before)).toBe(3);
    // Route templates, never raw URLs: the ids are nowhere in the output.
    const text = JSON.stringify(after.samples);
    for (const id of jobIds) expect(text).not.toContain(id);
  });

  it("declares every family and keeps histogram buckets cumulative", async () => {
    await call("/v1/health");
    const exposition = await scrape();
    expect(exposition.types.get("kgen_http_requests_total")).toBe("counter");
    expect(exposition.types.get("kgen_http_request_duration_seconds")).toBe("histogram");
    expect(exposition.types.get("kgen_queue_depth")).toBe("gauge");
    for (const family of [
      "kgen_quota_rejections_total",
      "kgen_queue_messages_total",
      "kgen_queue_dead_letters_total",
      "kgen_jobs_total",
    ]) {
      expect(exposition.types.has(family)).toBe(true);
    }
    const histograms = new Map<string, { name: string; series: Record<string, string>; buckets: number[][] }>();
    for (const sample of exposition.samples.filter((s) => s.name.endsWith("_bucket"))) {
      const { le, ...series } = sample.labels;
      const key = `${sample.name}${JSON.stringify(series)}`;
      const entry = histograms.get(key) ?? { name: sample.name, series, buckets: [] };
      entry.buckets.push([le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le), sample.value]);
      histograms.set(key, entry);
    }
    expect(histograms.size).toBeGreaterThan(0);
    for (const [key, { name, series, buckets }] of histograms) {
      const bounds = buckets.map(([le]) => le);
      expect(
        bounds.every((le) => !Number.isNaN(le)),
        key,
      ).toBe(true);
      expect(bounds, key).toEqual([...bounds].sort((a, b) => (a ?? 0) - (b ?? 0)));
      expect(bounds.at(-1), key).toBe(Number.POSITIVE_INFINITY);
      for (let i = 1; i < buckets.length; i++) {
        expect(buckets[i]?.[1], key).toBeGreaterThanOrEqual(buckets[i - 1]?.[1] ?? 0);
      }
      const count = sampleValue(exposition, name.replace(/_bucket$/, "_count"), series);
      expect(count, key).toBe(buckets.at(-1)?.[1]);
      expect(count, key).toBeGreaterThan(0);
    }
  });

  it("counts a tenant's requests refused by its plan's rate limit as quota rejections", async () => {
    const tenant = await createTenant();
    const before = await scrape();
    const refusing = { limit: async () => ({ success: false }) };
    const ctx = createExecutionContext();
    const res = await app.fetch(
      new Request(`${BASE}/v1/me`, { headers: bearer(tenant.apiKey) }),
      { ...env, RATE_LIMIT_FREE: refusing } as unknown as Env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    await expectProblem(res, 429, "rate-limited");
    const after = await scrape();
    const rejected = { route: "/v1/me", type: "rate-limited" };
    expect(
      sampleValue(after, "kgen_quota_rejections_total", rejected) -
        sampleValue(before, "kgen_quota_rejections_total", rejected),
    ).toBe(1);
    const answered = { route: "/v1/me", method: "GET", status: "429" };
    expect(
      sampleValue(after, "kgen_http_requests_total", answered) -
        sampleValue(before, "kgen_http_requests_total", answered),
    ).toBe(1);
  });

  it("names every unmatched URL `unmatched`, however many and however long", async () => {
    const before = await scrape();
    const paths = Array.from({ length: 5 }, (_, i) => `/v1/${"x".repeat(1000)}-${i}-${crypto.randomUUID()}`);
    for (const path of paths) expect((await call(path)).status).toBe(404);
    const after = await scrape();
    const unmatched = { route: "unmatched", method: "GET", status: "404" };
    expect(
      sampleValue(after, "kgen_http_requests_total", unmatched) -
        sampleValue(before, "kgen_http_requests_total", unmatched),
    ).toBe(5);
    // At most one new counter and one new histogram (16 lines) for the five, plus the first scrape's own series.
    expect(after.samples.length - before.samples.length).toBeLessThanOrEqual(34);
    for (const sample of after.samples)
      for (const value of Object.values(sample.labels)) expect(value.length).toBeLessThan(129);
  });

  it("answers 403 operator-disabled when no operator token is configured", async () => {
    const ctx = createExecutionContext();
    const res = await app.fetch(
      new Request(`${BASE}/v1/admin/metrics`, { headers: bearer(ADMIN_TOKEN) }),
      { ...env, ADMIN_TOKEN: undefined } as unknown as Env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    await expectProblem(res, 403, "operator-disabled");
  });

  it("refuses tenant credentials and anonymous callers", async () => {
    const tenant = await createTenant();
    await expectProblem(await call("/v1/admin/metrics", { headers: bearer(tenant.apiKey) }), 401, "unauthorized");
    await expectProblem(await call("/v1/admin/metrics"), 401, "unauthorized");
    await expectProblem(
      await call("/v1/admin/metrics", { method: "POST", headers: bearer(ADMIN_TOKEN) }),
      405,
      "method-not-allowed",
    );
  });
});

describe("request data points", () => {
  it("writes one Analytics Engine data point per request in the documented layout", async () => {
    const tenant = await createTenant();
    const writes: AnalyticsEngineDataPoint[] = [];
    const METRICS = { writeDataPoint: (point: AnalyticsEngineDataPoint) => writes.push(point) };
    const ctx = createExecutionContext();
    const res = await app.fetch(
      new Request(`${BASE}/v1/jobs/job_layout_check`, { headers: bearer(tenant.apiKey) }),
      { ...env, METRICS } as Env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(404);
    expect(writes).toHaveLength(1);
    const [point] = writes;
    expect(point?.indexes).toEqual([tenant.id]);
    expect(point?.blobs?.slice(0, 6)).toEqual(["request", tenant.id, "free", "/v1/jobs/:id", "404", "GET"]);
    expect(point?.blobs?.[6]).toMatch(/^[0-9a-f]{32}$/);
    expect(point?.doubles?.[2]).toBe(404);
    expect(point?.doubles?.[3]).toBe(0);
    expect(JSON.stringify(point)).not.toContain("job_layout_check");
  });

  it("never fails or delays a request when the dataset throws", async () => {
    const METRICS = {
      writeDataPoint: () => {
        throw new Error("dataset unavailable");
      },
    };
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const ctx = createExecutionContext();
    const res = await app.fetch(new Request(`${BASE}/v1/health`), { ...env, METRICS } as Env, ctx);
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(200);
    expect(errors.mock.calls.some(([line]) => String(line).includes("metrics data point dropped"))).toBe(true);
    errors.mockRestore();
  });
});

describe("the metrics object", () => {
  const stub = () => metricsObject(env) as unknown as { record(batch: unknown): Promise<Record<string, unknown>> };
  const histogram = (overrides: Record<string, unknown>) => ({
    counters: [],
    histograms: [
      {
        metric: "kgen_job_duration_seconds",
        labels: {},
        buckets: new Array(LATENCY_BUCKETS_SECONDS.length + 1).fill(0).map((_, i) => (i === 0 ? 1 : 0)),
        sum: 0.001,
        count: 1,
        ...overrides,
      },
    ],
  });

  it("refuses a malformed or hostile batch whole, writing nothing", async () => {
    const before = await scrape();
    const hostile = [
      { counters: [{ metric: "Bad-Name", labels: {}, value: 1 }], histograms: [] },
      { counters: [{ metric: "kgen_jobs_total", labels: { state: "x".repeat(129) }, value: 1 }], histograms: [] },
      { counters: [{ metric: "kgen_jobs_total", labels: { state: "completed" }, value: -1 }], histograms: [] },
      {
        counters: [{ metric: "kgen_jobs_total", labels: { a: "1", b: "2", c: "3", d: "4", e: "5", f: "6" }, value: 1 }],
        histograms: [],
      },
      {
        counters: Array.from({ length: 501 }, (_, i) => ({
          metric: "kgen_jobs_total",
          labels: { state: `s${i}` },
          value: 1,
        })),
        histograms: [],
      },
      histogram({ count: 2 }),
      histogram({ buckets: [1] }),
      histogram({ sum: Number.NaN }),
      // A valid increment next to an invalid one: neither is written.
      {
        counters: [
          { metric: "kgen_jobs_total", labels: { state: "completed" }, value: 1 },
          { metric: "kgen_jobs_total", labels: { state: "completed" }, value: Number.POSITIVE_INFINITY },
        ],
        histograms: [],
      },
    ];
    for (const batch of hostile) {
      expect(await stub().record(batch)).toMatchObject({ recorded: false, refused: expect.any(String) });
    }
    const after = await scrape();
    const completed = { state: "completed" };
    expect(sampleValue(after, "kgen_jobs_total", completed)).toBe(sampleValue(before, "kgen_jobs_total", completed));
    expect(after.samples.some((sample) => sample.labels.state === "s0")).toBe(false);
    expect(
      sampleValue(after, "kgen_job_duration_seconds_count", {}) -
        sampleValue(before, "kgen_job_duration_seconds_count", {}),
    ).toBe(0);
    expect(await stub().record(histogram({}))).toEqual({ recorded: true });
    const recorded = await scrape();
    expect(
      sampleValue(recorded, "kgen_job_duration_seconds_count", {}) -
        sampleValue(before, "kgen_job_duration_seconds_count", {}),
    ).toBe(1);
  });
});

describe("queue metrics", () => {
  async function runQueue(queue: string, bodies: unknown[]) {
    const batch = createMessageBatch<unknown>(
      queue,
      bodies.map((body, i) => ({
        id: `${queue}-${i}-${crypto.randomUUID()}`,
        timestamp: new Date(),
        attempts: 1,
        body,
      })),
    );
    const ctx = createExecutionContext();
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    await worker.queue(batch, env, ctx);
    await waitOnExecutionContext(ctx);
    errors.mockRestore();
    return getQueueResult(batch, ctx);
  }

  it("counts dead letters per queue, and messages a consumer retried", async () => {
    const before = await scrape();
    // Malformed erase dead letters are dropped (acked) by their consumer: still two dead letters.
    await runQueue("kgen-erase-staging-dlq", [{}, { nope: true }]);
    // A queue nobody consumes: every message is retried, none dropped.
    const unknown = await runQueue("kgen-mystery", [{}, {}, {}]);
    expect(unknown.retryBatch.retry).toBe(true);
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string>) =>
      sampleValue(after, name, labels) - sampleValue(before, name, labels);
    expect(delta("kgen_queue_dead_letters_total", { queue: "erase" })).toBe(2);
    expect(delta("kgen_queue_messages_total", { queue: "mystery", outcome: "retried" })).toBe(3);
    expect(delta("kgen_queue_messages_total", { queue: "mystery", outcome: "acked" })).toBe(0);
    expect(delta("kgen_queue_batch_duration_seconds_count", { queue: "mystery" })).toBe(1);
  });

  it("flushes a batch's observations as the invocation ends, not after the metrics delay", async () => {
    const before = await scrape();
    // No flush pending (the scrape's own included) that would carry this batch's observations instead.
    await metricsBatch.idle();
    const batch = createMessageBatch<unknown>("kgen-mystery", [
      { id: `slow-${crypto.randomUUID()}`, timestamp: new Date(), attempts: 1, body: {} },
    ]);
    const ctx = createExecutionContext();
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    // A delay far longer than this test may wait: an invocation held for it would hold the queue's next delivery.
    await worker.queue(batch, { ...env, METRICS_FLUSH_DELAY_MS: "600000" } as unknown as Env, ctx);
    const settled = await Promise.race([
      waitOnExecutionContext(ctx).then(() => "settled"),
      new Promise((resolve) => setTimeout(() => resolve("held"), 3_000)),
    ]);
    errors.mockRestore();
    expect(settled).toBe("settled");
    const after = await scrape();
    expect(
      sampleValue(after, "kgen_queue_batch_duration_seconds_count", { queue: "mystery" }) -
        sampleValue(before, "kgen_queue_batch_duration_seconds_count", { queue: "mystery" }),
    ).toBe(1);
  });
});
