import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../workers/db/client";
import { apiKeys, tenants } from "../../workers/db/schema";
import worker from "../../workers/index";
import { pruneEventLogs } from "../../workers/maintenance/prune-event-logs";
import { runScheduledMaintenance } from "../../workers/scheduled";
import { tenantObject } from "../../workers/tenant-object-stub";
import { bearer, call, createKey, createTenant } from "./helpers";

describe("cron maintenance", () => {
  it("purges keys expired for more than 30 days and keeps the rest", async () => {
    const tenant = await createTenant();
    const old = await createKey(tenant, "viewer", { expiresAt: new Date(Date.now() + 60_000).toISOString() });
    const recent = await createKey(tenant, "viewer", { expiresAt: new Date(Date.now() + 60_000).toISOString() });
    const db = database(env.DB);
    await db.update(apiKeys).set({ expiresAt: "2000-01-01T00:00:00.000Z" }).where(eq(apiKeys.id, old.apiKey.id));

    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "*/5 * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);

    const remaining = await db.select({ id: apiKeys.id }).from(apiKeys).where(eq(apiKeys.tenantId, tenant.id)).all();
    const ids = remaining.map((r) => r.id);
    expect(ids).not.toContain(old.apiKey.id);
    expect(ids).toContain(recent.apiKey.id);
  });
});

describe("cron event retention", () => {
  const DAY = 86_400_000;
  const scheduledTime = Date.UTC(2026, 5, 1, 3, 0, 0);

  async function seed(plan: string) {
    const tenant = await createTenant({ plan });
    const stub = tenantObject(env, { id: tenant.id, jurisdiction: null });
    for (const age of [40, 10, 1]) {
      await stub.appendEvent({ type: "graph.deleted", data: { age }, createdAt: scheduledTime - age * DAY });
    }
    return { tenant, stub };
  }

  const ages = async (stub: ReturnType<typeof tenantObject>) =>
    (await stub.readEvents({})).events.map((event) => (event.data as { age: number }).age);

  it("prunes each tenant's events older than its plan's retention, a bounded page of tenants per run", async () => {
    const free = await seed("free");
    const standard = await seed("standard");
    const enterprise = await seed("enterprise");
    const total = (await database(env.DB).select({ id: tenants.id }).from(tenants).all()).length;

    const first = await pruneEventLogs(env, scheduledTime, 2);
    expect(first.tenants).toBe(Math.min(2, total));
    let runs = 1;
    let last = first;
    while (last.nextPosition !== "" && runs < 50) {
      last = await pruneEventLogs(env, scheduledTime, 2);
      expect(last.tenants).toBeLessThanOrEqual(2);
      runs++;
    }
    // Pages of two until a short page wraps the cursor around (an exact multiple needs one empty page).
    expect(runs).toBe(Math.floor(total / 2) + 1);
    expect(last.failed).toBe(0);

    expect(await ages(free.stub)).toEqual([1]);
    expect(await ages(standard.stub)).toEqual([10, 1]);
    expect(await ages(enterprise.stub)).toEqual([40, 10, 1]);
    // Reading from a cursor before the oldest kept event starts at the oldest kept one.
    const page = (await (await call("/v1/events?after=0", { headers: bearer(free.tenant.apiKey) })).json()) as {
      events: { id: string }[];
    };
    expect(page.events.map((event) => event.id)).toEqual(["3"]);
  });

  it("runs from the cron trigger with its scheduled time", async () => {
    const { stub } = await seed("free");
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime, cron: "*/5 * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    expect(await ages(stub)).toEqual([1]);
    // From an earlier scheduled time, the remaining event is within retention: nothing goes.
    expect((await runScheduledMaintenance(env, scheduledTime - 30 * DAY)).eventRetention.deleted).toBe(0);
  });
});
