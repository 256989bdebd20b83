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

describe("TenantObject.recordRequest", () => {
  it("counts requests per UTC day and route class, with 4xx and 5xx apart", async () => {
    const stub = stubFor("usage-basic");
    await stub.recordRequest({ now: nov26, routeClass: "graphs.read", status: 200 });
    await stub.recordRequest({ now: nov26 + 1000, routeClass: "graphs.read", status: 429 });
    await stub.recordRequest({ now: nov26 + 2000, routeClass: "graphs.read", status: 503 });
    expect(await stub.recordRequest({ now: nov26 + 3000, routeClass: "graphs.read", status: 404 })).toEqual({
      day: "2026-11-26",
      routeClass: "graphs.read",
      requests: 4,
      clientErrors: 2,
      serverErrors: 1,
    });
    await stub.recordRequest({ now: nov26, routeClass: "generations.create", status: 201 });
    await stub.recordRequest({ now: Date.UTC(2026, 10, 27, 0, 0, 0), routeClass: "graphs.read", status: 200 });
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

  it("counts every one of many parallel requests", async () => {
    const stub = stubFor("usage-parallel");
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => stub.recordRequest({ now: nov26 + i, routeClass: "me", status: 200 })),
    );
    expect((await stub.getUsage()).requests).toEqual([
      { day: "2026-11-26", routeClass: "me", requests: 50, clientErrors: 0, serverErrors: 0 },
    ]);
  });

  it("drops days older than the retention window", async () => {
    const stub = stubFor("usage-retention");
    await stub.recordRequest({ now: nov26, routeClass: "me", status: 200 });
    const lastDayKeepingIt = nov26 + (REQUEST_USAGE_RETENTION_DAYS - 1) * DAY_MS;
    await stub.recordRequest({ now: lastDayKeepingIt, routeClass: "me", status: 200 });
    expect((await stub.getUsage()).requests).toHaveLength(2);
    await stub.recordRequest({ now: lastDayKeepingIt + DAY_MS, routeClass: "me", status: 200 });
    expect((await stub.getUsage()).requests.map((r) => r.day)).not.toContain("2026-11-26");
  });

  it("rejects bad route classes, statuses and day filters", async () => {
    const stub = stubFor("usage-invalid");
    for (const input of [
      { now: nov26, routeClass: "/v1/graphs/123", status: 200 },
      { now: nov26, routeClass: "", status: 200 },
      { now: nov26, routeClass: "me", status: 99 },
      { now: nov26, routeClass: "me", status: 600 },
    ]) {
      expect(await rejection(() => stub.recordRequest(input))).toBeInstanceOf(RangeError);
    }
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
    await stub.recordRequest({ now: nov26, routeClass: "post:render", status: 200 });
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
