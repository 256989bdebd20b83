import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, bearer, call, createTenant, expectProblem } from "../helpers";
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
