import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { planLimits } from "../../shared/plans";
import { tenantObject } from "../../workers/tenant-object-stub";
import {
  ADMIN_TOKEN,
  bearer,
  call,
  createKey,
  createTenant,
  deleteTenantAndWait,
  expectProblem,
  jsonBody,
} from "./helpers";

describe("per-tenant rate limit", () => {
  it("counts down in RateLimit headers and answers 429 with Retry-After when the bucket is empty", async () => {
    const tenant = await createTenant();
    const capacity = planLimits("free").requestsPerMinute;
    const first = await call("/v1/me", { headers: bearer(tenant.apiKey) });
    expect(first.headers.get("ratelimit-limit")).toBe(String(capacity));
    expect(first.headers.get("ratelimit-remaining")).toBe(String(capacity - 1));
    // The bucket refills while the loop runs (free: one token a second), so count until refused.
    let sent = 1;
    let limited = first;
    while (limited.status !== 429 && sent < capacity + 30) {
      limited = await call("/v1/me", { headers: bearer(tenant.apiKey) });
      sent++;
    }
    expect(sent).toBeGreaterThan(capacity);
    await expectProblem(limited, 429, "rate-limited");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(limited.headers.get("ratelimit-remaining")).toBe("0");
    expect(Number(limited.headers.get("ratelimit-reset"))).toBeGreaterThanOrEqual(1);

    // A refused request is not metered: only the answered ones count.
    const stub = tenantObject(env, { id: tenant.id, jurisdiction: null });
    await expect
      .poll(async () => (await stub.getUsage({})).requests.find((row) => row.routeClass === "get:me")?.requests)
      .toBe(sent - 1);

    // Buckets are per tenant: another tenant is unaffected.
    const other = await createTenant();
    expect((await call("/v1/me", { headers: bearer(other.apiKey) })).status).toBe(200);
  });

  it("uses the plan's bucket: an upgraded tenant gets the bigger limit", async () => {
    const tenant = await createTenant();
    await call(`/v1/tenants/${tenant.id}`, jsonBody({ plan: "premium" }, ADMIN_TOKEN, "PATCH"));
    const res = await call("/v1/me", { headers: bearer(tenant.apiKey) });
    expect(res.headers.get("ratelimit-limit")).toBe(String(planLimits("premium").requestsPerMinute));
  });
});

describe("tenant request middleware", () => {
  it("puts RateLimit headers on problems too and meters them as client errors", async () => {
    const tenant = await createTenant();
    const viewer = await createKey(tenant, "viewer");
    const refused = await call("/v1/api-keys", { headers: bearer(viewer.secret) });
    expect(refused.headers.get("ratelimit-limit")).toBe(String(planLimits("free").requestsPerMinute));
    await expectProblem(refused, 403, "insufficient-role");
    const stub = tenantObject(env, { id: tenant.id, jurisdiction: null });
    await expect
      .poll(async () => (await stub.getUsage({})).requests.find((row) => row.routeClass === "get:api-keys"))
      .toMatchObject({ requests: 1, clientErrors: 1, serverErrors: 0 });
  });

  it("takes no token for a request that authentication refuses", async () => {
    const tenant = await createTenant();
    for (let i = 0; i < 10; i++) {
      await expectProblem(
        await call("/v1/me", { headers: bearer(tenant.apiKey, { "x-tenant-id": "someone-else" }) }),
        403,
        "tenant-mismatch",
      );
    }
    const res = await call("/v1/me", { headers: bearer(tenant.apiKey) });
    expect(res.headers.get("ratelimit-remaining")).toBe(String(planLimits("free").requestsPerMinute - 1));
  });
});

describe("plan body limit", () => {
  it("answers 413 for a body over the plan's limit on tenant routes", async () => {
    const tenant = await createTenant();
    const max = planLimits("free").maxRequestBodyBytes;
    expect(max).toBeLessThan(Number(env.MAX_BODY_BYTES));
    const res = await call("/v1/api-keys", jsonBody({ name: "x".repeat(max + 10) }, tenant.apiKey));
    await expectProblem(res, 413, "payload-too-large");
  });
});

describe("usage", () => {
  it("reports request counts per route class and quota limits of the plan", async () => {
    const tenant = await createTenant({ plan: "standard" });
    await call("/v1/me", { headers: bearer(tenant.apiKey) });
    await call("/v1/api-keys", { headers: bearer(tenant.apiKey) });
    await expect
      .poll(async () => {
        const res = await call("/v1/usage", { headers: bearer(tenant.apiKey) });
        const usage = (await res.json()) as { plan: string; requests: { routeClass: string; requests: number }[] };
        expect(usage.plan).toBe("standard");
        return usage.requests.map((r) => r.routeClass).sort();
      })
      .toEqual(expect.arrayContaining(["get:api-keys", "get:me"]));
    const usage = (await (await call("/v1/usage", { headers: bearer(tenant.apiKey) })).json()) as {
      limits: Record<string, unknown>;
    };
    expect(usage.limits.generationsPerMonth).toBe(planLimits("standard").generationsPerMonth);
    await expectProblem(
      await call("/v1/usage?period=2026-13", { headers: bearer(tenant.apiKey) }),
      400,
      "validation-error",
    );
  });
});

describe("usage quotas", () => {
  it("lists every quota of the plan with used and limit, monthly ones for the period asked, own tenant only", async () => {
    const tenant = await createTenant({ plan: "standard" });
    const other = await createTenant({ plan: "standard" });
    const stub = tenantObject(env, { id: tenant.id, jurisdiction: null });
    await stub.reserveQuota({ counter: "triples", amount: 7, limit: 100 });
    await stub.reserveQuota({ counter: "templates", amount: 2, limit: 100 });
    await stub.reserveQuota({ counter: "generations", period: "2026-01", amount: 3, limit: 100 });
    const limits = planLimits("standard");
    type Usage = { period: string; quotas: { counter: string; period: string; used: number; limit: number }[] };
    const january = (await (
      await call("/v1/usage?period=2026-01", { headers: bearer(tenant.apiKey) })
    ).json()) as Usage;
    expect(january.quotas).toEqual([
      { counter: "triples", period: "total", used: 7, limit: limits.triples },
      { counter: "templates", period: "total", used: 2, limit: limits.templates },
      { counter: "artifactBytes", period: "total", used: 0, limit: limits.artifactBytes },
      { counter: "generations", period: "2026-01", used: 3, limit: limits.generationsPerMonth },
      { counter: "monitorRuns", period: "2026-01", used: 0, limit: limits.monitorRunsPerMonth },
    ]);
    const february = (await (
      await call("/v1/usage?period=2026-02", { headers: bearer(tenant.apiKey) })
    ).json()) as Usage;
    expect(february.quotas.find((quota) => quota.counter === "generations")).toEqual({
      counter: "generations",
      period: "2026-02",
      used: 0,
      limit: limits.generationsPerMonth,
    });
    const current = (await (await call("/v1/usage", { headers: bearer(tenant.apiKey) })).json()) as Usage;
    expect(current.quotas.find((quota) => quota.counter === "generations")?.period).toBe(current.period);
    const theirs = (await (await call("/v1/usage?period=2026-01", { headers: bearer(other.apiKey) })).json()) as Usage;
    expect(theirs.quotas.map((quota) => quota.used)).toEqual([0, 0, 0, 0, 0]);
  });
});

describe("events", () => {
  it("reads the tenant's own log by cursor, never another tenant's", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const tenantRow = { id: a.id, jurisdiction: null };
    const stub = tenantObject(env, tenantRow);
    for (let i = 0; i < 3; i++)
      await stub.appendEvent({ type: "test.event", data: { i }, createdAt: 1_700_000_000_000 + i });
    const page = (await (await call("/v1/events?limit=2", { headers: bearer(a.apiKey) })).json()) as {
      events: { id: string; data: { i: number } }[];
      nextCursor: number;
      hasMore: boolean;
    };
    expect(page.events.map((e) => e.data.i)).toEqual([0, 1]);
    expect(page.events.map((e) => e.id)).toEqual(["1", "2"]);
    expect(page.hasMore).toBe(true);
    const rest = (await (await call(`/v1/events?after=${page.nextCursor}`, { headers: bearer(a.apiKey) })).json()) as {
      events: { data: { i: number } }[];
    };
    expect(rest.events.map((e) => e.data.i)).toEqual([2]);
    const other = (await (await call("/v1/events", { headers: bearer(b.apiKey) })).json()) as { events: unknown[] };
    expect(other.events).toHaveLength(0);
    await expectProblem(await call("/v1/events?after=-1", { headers: bearer(a.apiKey) }), 400, "validation-error");
  });

  it("deleting a tenant wipes its Durable Object", async () => {
    const tenant = await createTenant();
    const stub = tenantObject(env, { id: tenant.id, jurisdiction: null });
    await stub.appendEvent({ type: "test.event", data: {}, createdAt: 1 });
    expect((await stub.readEvents({})).events).toHaveLength(1);
    await deleteTenantAndWait(tenant.id);
    expect((await stub.readEvents({})).events).toHaveLength(0);
  });

  it("keeps a jurisdiction tenant in its own object", async () => {
    const tenant = await createTenant({ jurisdiction: "eu" });
    expect((await call("/v1/me", { headers: bearer(tenant.apiKey) })).status).toBe(200);
    await tenantObject(env, { id: tenant.id, jurisdiction: "eu" }).appendEvent({
      type: "test.eu",
      data: {},
      createdAt: 1,
    });
    const page = (await (await call("/v1/events", { headers: bearer(tenant.apiKey) })).json()) as {
      events: { type: string }[];
    };
    expect(page.events.map((e) => e.type)).toEqual(["dev.kgen.test.eu"]);
    expect((await tenantObject(env, { id: tenant.id, jurisdiction: null }).readEvents({})).events).toHaveLength(0);
  });
});
