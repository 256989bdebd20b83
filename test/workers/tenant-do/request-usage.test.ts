import { evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { REQUEST_USAGE_RETENTION_DAYS } from "../../../durable-objects/tenant/request-usage";
import { rejection } from "./rejection";

function stubFor(name: string) {
  return env.TENANT.get(env.TENANT.idFromName(name));
}

const DAY_MS = 86_400_000;
const nov26 = Date.UTC(2026, 10, 26, 10, 0, 0);

/** One response counted as an isolate's batch carries it. */
function served(now: number, routeClass: string, status: number) {
  return {
    now,
    counts: [
      {
        day: new Date(now).toISOString().slice(0, 10),
        routeClass,
        requests: 1,
        clientErrors: status >= 400 && status < 500 ? 1 : 0,
        serverErrors: status >= 500 ? 1 : 0,
      },
    ],
  };
}

describe("TenantObject request counters", () => {
  it("counts requests per UTC day and route class, with 4xx and 5xx apart, across evictions", async () => {
    const stub = stubFor("usage-basic");
    await stub.recordRequests(served(nov26, "graphs.read", 200));
    await stub.recordRequests(served(nov26 + 1000, "graphs.read", 429));
    await stub.recordRequests(served(nov26 + 2000, "graphs.read", 503));
    await stub.recordRequests(served(nov26 + 3000, "graphs.read", 404));
    await stub.recordRequests(served(nov26, "generations.create", 201));
    await stub.recordRequests(served(Date.UTC(2026, 10, 27, 0, 0, 0), "graphs.read", 200));
    await evictDurableObject(stub);

    const usage = await stub.getUsage();
    expect(usage.requests).toEqual([
      { day: "2026-11-26", routeClass: "generations.create", requests: 1, clientErrors: 0, serverErrors: 0 },
      { day: "2026-11-26", routeClass: "graphs.read", requests: 4, clientErrors: 2, serverErrors: 1 },
      { day: "2026-11-27", routeClass: "graphs.read", requests: 1, clientErrors: 0, serverErrors: 0 },
    ]);
    const range = await stub.getUsage({ fromDay: "2026-11-27", toDay: "2026-11-27" });
    expect(range.requests.map((r) => r.day)).toEqual(["2026-11-27"]);
  });

  it("counts every one of many parallel batches", async () => {
    const stub = stubFor("usage-parallel");
    await Promise.all(Array.from({ length: 50 }, (_, i) => stub.recordRequests(served(nov26 + i, "me", 200))));
    expect((await stub.getUsage()).requests).toEqual([
      { day: "2026-11-26", routeClass: "me", requests: 50, clientErrors: 0, serverErrors: 0 },
    ]);
  });

  it("drops days older than the retention window", async () => {
    const stub = stubFor("usage-retention");
    await stub.recordRequests(served(nov26, "me", 200));
    const lastDayKeepingIt = nov26 + (REQUEST_USAGE_RETENTION_DAYS - 1) * DAY_MS;
    await stub.recordRequests(served(lastDayKeepingIt, "me", 200));
    expect((await stub.getUsage()).requests).toHaveLength(2);
    await stub.recordRequests(served(lastDayKeepingIt + DAY_MS, "me", 200));
    expect((await stub.getUsage()).requests.map((r) => r.day)).not.toContain("2026-11-26");
  });

  it("rejects bad day filters", async () => {
    const stub = stubFor("usage-invalid");
    expect(await rejection(() => stub.getUsage({ fromDay: "26/11/2026" }))).toBeInstanceOf(RangeError);
    expect((await stub.getUsage()).requests).toEqual([]);
  });
});

describe("TenantObject.recordRequests", () => {
  const count = (routeClass: string, requests: number, clientErrors = 0, serverErrors = 0) => ({
    day: "2026-11-26",
    routeClass,
    requests,
    clientErrors,
    serverErrors,
  });

  it("adds a batch of counts in one call, onto what is already counted", async () => {
    const stub = stubFor("usage-batch");
    await stub.recordRequests(served(nov26, "post:render", 200));
    await stub.recordRequests({ now: nov26, counts: [count("post:render", 4, 1, 1), count("get:me", 2)] });
    expect((await stub.getUsage()).requests).toEqual([
      { day: "2026-11-26", routeClass: "get:me", requests: 2, clientErrors: 0, serverErrors: 0 },
      { day: "2026-11-26", routeClass: "post:render", requests: 5, clientErrors: 1, serverErrors: 1 },
    ]);
  });

  it("getUsage adds the counts it carries before reading", async () => {
    const stub = stubFor("usage-batch-read");
    const usage = await stub.getUsage({ record: { now: nov26, counts: [count("get:graphs", 3, 2)] } });
    expect(usage.requests).toEqual([
      { day: "2026-11-26", routeClass: "get:graphs", requests: 3, clientErrors: 2, serverErrors: 0 },
    ]);
  });

  it("rejects a malformed or oversized batch and writes none of it", async () => {
    const stub = stubFor("usage-batch-invalid");
    const bad = [
      { now: nov26, counts: [count("post:render", 1), { ...count("x", 1), day: "2026-13-01" }] },
      { now: nov26, counts: [count("/v1/render", 1)] },
      { now: nov26, counts: [count("post:render", 1, 1, 1)] },
      { now: nov26, counts: [count("post:render", -1)] },
      { now: nov26, counts: Array.from({ length: 501 }, () => count("post:render", 1)) },
      { now: nov26, counts: "all of them" },
      { now: -1, counts: [] },
    ];
    for (const input of bad) {
      expect(await rejection(() => stub.recordRequests(input as never))).toBeInstanceOf(RangeError);
    }
    expect((await stub.getUsage()).requests).toEqual([]);
  });
});
