import { evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { planLimits } from "../../../shared/plans";
import { rateLimitHeaders } from "../../../workers/middleware/rate-limit-headers";
import { rejection } from "./rejection";

function stubFor(name: string) {
  return env.TENANT.get(env.TENANT.idFromName(name));
}

describe("TenantObject.consumeRequest", () => {
  it("exhausts the free plan's bucket and refills it with the supplied clock", async () => {
    const stub = stubFor("rate-exhaust");
    const { capacity, refillPerMinute } = planLimits("free").requests;
    const now = Date.UTC(2026, 10, 26, 12, 0, 0);
    const results = [];
    for (let i = 0; i < capacity; i++) results.push(await stub.consumeRequest({ plan: "free", now }));
    expect(results.every((r) => r.allowed)).toBe(true);
    expect(results.map((r) => r.remaining)).toEqual(Array.from({ length: capacity }, (_, i) => capacity - 1 - i));

    const denied = await stub.consumeRequest({ plan: "free", now });
    expect(denied).toEqual({
      allowed: false,
      limit: capacity,
      remaining: 0,
      resetSeconds: Math.ceil((capacity * 60) / refillPerMinute),
      retryAfterSeconds: Math.ceil(60 / refillPerMinute),
    });
    expect(rateLimitHeaders(denied)["Retry-After"]).toBe(String(Math.ceil(60 / refillPerMinute)));

    const msPerToken = 60_000 / refillPerMinute;
    expect((await stub.consumeRequest({ plan: "free", now: now + msPerToken - 1 })).allowed).toBe(false);
    expect(await stub.consumeRequest({ plan: "free", now: now + msPerToken })).toMatchObject({
      allowed: true,
      remaining: 0,
    });
    const refilled = await stub.consumeRequest({ plan: "free", now: now + 10 * 60_000 });
    expect(refilled).toMatchObject({ allowed: true, remaining: capacity - 1, resetSeconds: 1 });
  });

  it("keeps the bucket across eviction", async () => {
    const stub = stubFor("rate-evict");
    const { capacity } = planLimits("free").requests;
    const now = 1_800_000_000_000;
    for (let i = 0; i < capacity; i++) await stub.consumeRequest({ plan: "free", now });
    await evictDurableObject(stub);
    expect((await stub.consumeRequest({ plan: "free", now })).allowed).toBe(false);
  });

  it("uses the limit of the plan passed on each call", async () => {
    const stub = stubFor("rate-plan");
    const result = await stub.consumeRequest({ plan: "premium", now: 0 });
    expect(result).toMatchObject({ allowed: true, limit: planLimits("premium").requests.capacity });
  });

  it("grants no more tokens than the bucket holds to parallel callers", async () => {
    const stub = stubFor("rate-parallel");
    const { capacity } = planLimits("free").requests;
    const results = await Promise.all(
      Array.from({ length: capacity + 40 }, () => stub.consumeRequest({ plan: "free", now: 5_000 })),
    );
    expect(results.filter((r) => r.allowed)).toHaveLength(capacity);
  });

  it("rejects an unknown plan and a bad clock", async () => {
    const stub = stubFor("rate-invalid");
    // @ts-expect-error deliberately invalid plan
    expect(await rejection(() => stub.consumeRequest({ plan: "gold", now: 0 }))).toBeInstanceOf(RangeError);
    expect(await rejection(() => stub.consumeRequest({ plan: "free", now: -1 }))).toBeInstanceOf(RangeError);
    expect(await rejection(() => stub.consumeRequest({ plan: "free", now: Number.NaN }))).toBeInstanceOf(RangeError);
  });
});
