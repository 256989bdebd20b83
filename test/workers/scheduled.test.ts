import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../workers/db/client";
import { apiKeys } from "../../workers/db/schema";
import worker from "../../workers/index";
import { createKey, createTenant } from "./helpers";

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
