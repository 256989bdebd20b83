import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MAX_REQUEST_COUNTS } from "../../durable-objects/tenant-object";
import { RequestUsageBatch } from "../../workers/middleware/request-usage-batch";
import { tenantObject } from "../../workers/tenant-object-stub";

const nov26 = Date.UTC(2026, 10, 26, 10, 0, 0);
const DAY_MS = 86_400_000;

function tenantAddress(name: string) {
  return { id: `${name}-${crypto.randomUUID()}`, jurisdiction: null };
}

/** Bindings whose tenant objects fail every call the way an unreachable object does. */
function unreachableTenants(): Env {
  const namespace = {
    idFromName: (name: string) => env.TENANT.idFromName(name),
    get: () => ({
      recordRequests: async () => {
        throw new Error("Durable Object unreachable");
      },
    }),
    jurisdiction: () => namespace,
  };
  return { ...env, TENANT: namespace } as unknown as Env;
}

describe("RequestUsageBatch", () => {
  it("sums counts per day and route class and writes them in one call", async () => {
    const batch = new RequestUsageBatch();
    const tenant = tenantAddress("sum");
    batch.add(tenant, "get:graphs", 200, nov26);
    batch.add(tenant, "get:graphs", 404, nov26 + 1);
    batch.add(tenant, "get:graphs", 503, nov26 + 2);
    batch.add(tenant, "get:graphs", 200, nov26 + DAY_MS);
    await batch.flush(env, nov26 + DAY_MS);
    expect((await tenantObject(env, tenant).getUsage({})).requests).toEqual([
      { day: "2026-11-26", routeClass: "get:graphs", requests: 3, clientErrors: 1, serverErrors: 1 },
      { day: "2026-11-27", routeClass: "get:graphs", requests: 1, clientErrors: 0, serverErrors: 0 },
    ]);
    expect(batch.take(tenant.id, nov26)).toBeUndefined();
  });

  it("carries SPARQL and render work with the day's count into the month's usage, rounded and never negative", async () => {
    const batch = new RequestUsageBatch();
    const tenant = tenantAddress("work");
    batch.add(tenant, "get:graphs", 200, nov26);
    batch.addWork(tenant, "get:graphs", nov26, { sparqlQueries: 1, sparqlMs: 12.6 });
    batch.addWork(tenant, "get:graphs", nov26 + 1, { sparqlQueries: 1, sparqlMs: -3 });
    batch.addWork(tenant, "post:render", nov26 + DAY_MS, { renderMs: 7 });
    expect(batch.take(tenant.id, nov26)?.counts).toEqual([
      {
        day: "2026-11-26",
        routeClass: "get:graphs",
        requests: 1,
        clientErrors: 0,
        serverErrors: 0,
        sparqlQueries: 2,
        sparqlMs: 13,
      },
      { day: "2026-11-27", routeClass: "post:render", requests: 0, clientErrors: 0, serverErrors: 0, renderMs: 7 },
    ]);
    batch.addWork(tenant, "get:graphs", nov26, { sparqlQueries: 1, sparqlMs: 5 });
    await batch.flush(env, nov26);
    const [month] = await tenantObject(env, tenant).usageRollup({ now: nov26, months: ["2026-11"] });
    expect(month?.figures).toMatchObject({ requests: 0, sparqlQueries: 1, sparqlMs: 5, renderMs: 0 });
  });

  it("hands out at most MAX_REQUEST_COUNTS counts per call and flushes all of them", async () => {
    const batch = new RequestUsageBatch();
    const tenant = tenantAddress("many");
    const classes = MAX_REQUEST_COUNTS + 20;
    for (let i = 0; i < classes; i++) batch.add(tenant, `get:c${i}`, 200, nov26);
    const first = batch.take(tenant.id, nov26);
    expect(first?.counts).toHaveLength(MAX_REQUEST_COUNTS);
    batch.restore(tenant, first?.counts ?? []);
    await batch.flush(env, nov26);
    expect((await tenantObject(env, tenant).getUsage({})).requests).toHaveLength(classes);
  });

  it("keeps the counts when the tenant object cannot be reached, for the next flush", async () => {
    const batch = new RequestUsageBatch();
    const tenant = tenantAddress("retry");
    batch.add(tenant, "post:render", 200, nov26);
    await batch.flush(unreachableTenants(), nov26);
    expect(batch.take(tenant.id, nov26)?.counts).toEqual([
      { day: "2026-11-26", routeClass: "post:render", requests: 1, clientErrors: 0, serverErrors: 0 },
    ]);
  });

  it("drops a batch the tenant object refuses instead of retrying it forever, and never admits malformed counts", async () => {
    const batch = new RequestUsageBatch();
    const tenant = tenantAddress("refused");
    batch.add(tenant, "/v1/not-a-class", 200, nov26);
    batch.add(tenant, "get:me", 99, nov26);
    expect(batch.take(tenant.id, nov26)).toBeUndefined();
    batch.restore(tenant, [{ day: "26/11/2026", routeClass: "get:me", requests: 1, clientErrors: 0, serverErrors: 0 }]);
    await batch.flush(env, nov26);
    expect(batch.take(tenant.id, nov26)).toBeUndefined();
    expect((await tenantObject(env, tenant).getUsage({})).requests).toEqual([]);
  });
});
