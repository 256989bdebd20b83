import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sqlDatabaseFromStorage } from "../../../durable-objects/durable-object-sql-database";
import { IDEMPOTENCY_KEYS_KEPT, QuotaCounters } from "../../../durable-objects/tenant/quota-counters";
import type { TenantObject } from "../../../durable-objects/tenant-object";
import { quotaLimit } from "../../../shared/plans";
import { rejection } from "./rejection";

function stubFor(name: string) {
  return env.TENANT.get(env.TENANT.idFromName(name));
}

describe("TenantObject.reserveQuota", () => {
  it("grants up to the limit and leaves the counter unchanged when denied", async () => {
    const stub = stubFor("quota-basic");
    expect(await stub.reserveQuota({ counter: "templates", amount: 30, limit: 50 })).toEqual({
      granted: true,
      used: 30,
      limit: 50,
      replayed: false,
    });
    expect(await stub.reserveQuota({ counter: "templates", amount: 20, limit: 50 })).toMatchObject({
      granted: true,
      used: 50,
    });
    expect(await stub.reserveQuota({ counter: "templates", amount: 1, limit: 50 })).toEqual({
      granted: false,
      used: 50,
      limit: 50,
      replayed: false,
    });
    expect(await stub.reserveQuota({ counter: "templates", amount: 0, limit: 50 })).toMatchObject({ granted: true });
    // A lower limit (plan downgrade) denies growth but keeps what is stored.
    expect(await stub.reserveQuota({ counter: "templates", amount: 1, limit: 10 })).toMatchObject({
      granted: false,
      used: 50,
      limit: 10,
    });
  });

  it("never over-grants to many parallel reservations", async () => {
    const stub = stubFor("quota-parallel");
    const limit = 37;
    const results = await Promise.all(
      Array.from({ length: 100 }, () => stub.reserveQuota({ counter: "triples", amount: 1, limit })),
    );
    expect(results.filter((r) => r.granted)).toHaveLength(limit);
    expect(Math.max(...results.map((r) => r.used))).toBe(limit);

    const sizes = Array.from({ length: 60 }, (_, i) => (i * 7919) % 13);
    const mixed = await Promise.all(
      sizes.map((amount) => stub.reserveQuota({ counter: "artifactBytes", amount, limit: 200 })),
    );
    const grantedSum = sizes.filter((_, i) => mixed[i]?.granted).reduce((a, b) => a + b, 0);
    expect(grantedSum).toBeLessThanOrEqual(200);
    const usage = await stub.getUsage();
    expect(usage.quotas.find((q) => q.counter === "artifactBytes")?.used).toBe(grantedSum);
  });

  it("counts a redelivered idempotency key once, even in parallel", async () => {
    const stub = stubFor("quota-idempotent");
    const input = {
      counter: "generations" as const,
      amount: 1,
      limit: quotaLimit("free", "generations"),
      period: "2026-11",
      idempotencyKey: "job-123",
    };
    const first = await stub.reserveQuota(input);
    expect(first).toMatchObject({ granted: true, used: 1, replayed: false });
    const again = await Promise.all(Array.from({ length: 20 }, () => stub.reserveQuota(input)));
    expect(again.every((r) => r.granted && r.replayed && r.used === 1)).toBe(true);
    await evictDurableObject(stub);
    expect(await stub.reserveQuota(input)).toMatchObject({ granted: true, used: 1, replayed: true });
    expect(await stub.reserveQuota({ ...input, idempotencyKey: "job-124" })).toMatchObject({ used: 2 });
  });

  it("does not remember denied reservations, so a later retry can be granted", async () => {
    const stub = stubFor("quota-denied-key");
    await stub.reserveQuota({ counter: "templates", amount: 5, limit: 5 });
    const input = { counter: "templates" as const, amount: 1, limit: 5, idempotencyKey: "upload-1" };
    expect(await stub.reserveQuota(input)).toMatchObject({ granted: false, replayed: false });
    await stub.releaseQuota({ counter: "templates", amount: 1 });
    expect(await stub.reserveQuota(input)).toMatchObject({ granted: true, used: 5, replayed: false });
  });

  it("rejects an idempotency key reused with other arguments", async () => {
    const stub = stubFor("quota-key-mismatch");
    await stub.reserveQuota({ counter: "triples", amount: 10, limit: 100, idempotencyKey: "k" });
    const err = await rejection(() =>
      stub.reserveQuota({ counter: "triples", amount: 11, limit: 100, idempotencyKey: "k" }),
    );
    expect(err).toBeInstanceOf(RangeError);
    expect((await stub.getUsage()).quotas).toEqual([{ counter: "triples", period: "total", used: 10 }]);
  });

  it("keeps monthly periods apart", async () => {
    const stub = stubFor("quota-periods");
    await stub.reserveQuota({ counter: "generations", amount: 2, limit: 2, period: "2026-11" });
    expect(await stub.reserveQuota({ counter: "generations", amount: 1, limit: 2, period: "2026-11" })).toMatchObject({
      granted: false,
    });
    expect(await stub.reserveQuota({ counter: "generations", amount: 1, limit: 2, period: "2026-12" })).toMatchObject({
      granted: true,
      used: 1,
    });
    expect((await stub.getUsage({ period: "2026-12" })).quotas).toEqual([
      { counter: "generations", period: "2026-12", used: 1 },
    ]);
    expect((await stub.getUsage()).quotas.map((q) => `${q.counter}@${q.period}=${q.used}`)).toEqual([
      "generations@2026-11=2",
      "generations@2026-12=1",
    ]);
  });

  it("rejects unknown counters, bad periods and bad amounts", async () => {
    const stub = stubFor("quota-invalid");
    const bad = [
      { counter: "widgets", amount: 1, limit: 1 },
      { counter: "triples", amount: 1, limit: 1, period: "2026-13" },
      { counter: "triples", amount: 1, limit: 1, period: "November" },
      { counter: "triples", amount: -1, limit: 1 },
      { counter: "triples", amount: 1.5, limit: 1 },
      { counter: "triples", amount: 1, limit: "10" },
      { counter: "triples", amount: 1, limit: 1, idempotencyKey: "" },
    ];
    for (const input of bad) {
      // @ts-expect-error deliberately invalid input
      expect(await rejection(() => stub.reserveQuota(input))).toBeInstanceOf(RangeError);
    }
    expect((await stub.getUsage()).quotas).toEqual([]);
  });
});

describe("TenantObject.releaseQuota", () => {
  it("refunds, never goes below zero, and applies a release key once", async () => {
    const stub = stubFor("quota-release");
    await stub.reserveQuota({ counter: "artifactBytes", amount: 1000, limit: 5000, idempotencyKey: "job-9" });
    const refund = { counter: "artifactBytes" as const, amount: 400, idempotencyKey: "job-9" };
    expect(await stub.releaseQuota(refund)).toEqual({ released: 400, used: 600, replayed: false });
    expect(await stub.releaseQuota(refund)).toEqual({ released: 0, used: 600, replayed: true });
    expect(await stub.releaseQuota({ counter: "artifactBytes", amount: 10_000 })).toEqual({
      released: 600,
      used: 0,
      replayed: false,
    });
  });
});

describe("TenantObject.reserveQuotas", () => {
  const generation = (key?: string) => ({
    counter: "generations" as const,
    amount: 1,
    limit: 2,
    period: "2026-11",
    ...(key === undefined ? {} : { idempotencyKey: key }),
  });
  const bytes = (amount: number, key?: string) => ({
    counter: "artifactBytes" as const,
    amount,
    limit: 1000,
    ...(key === undefined ? {} : { idempotencyKey: key }),
  });

  it("counts every reservation when all fit", async () => {
    const stub = stubFor("quota-batch-ok");
    expect(await stub.reserveQuotas({ reservations: [generation("g1"), bytes(600, "b1")] })).toEqual({
      granted: true,
      reservations: [
        { counter: "generations", period: "2026-11", granted: true, used: 1, limit: 2, replayed: false },
        { counter: "artifactBytes", period: "total", granted: true, used: 600, limit: 1000, replayed: false },
      ],
    });
    const replay = await stub.reserveQuotas({ reservations: [generation("g1"), bytes(600, "b1")] });
    expect(replay.granted).toBe(true);
    expect(replay.reservations.map((r) => [r.used, r.replayed])).toEqual([
      [1, true],
      [600, true],
    ]);
  });

  it("counts nothing when one does not fit, and names it", async () => {
    const stub = stubFor("quota-batch-denied");
    await stub.reserveQuota(bytes(900));
    const denied = await stub.reserveQuotas({ reservations: [generation("g1"), bytes(200, "b1")] });
    expect(denied.granted).toBe(false);
    expect(denied.reservations.map((r) => [r.counter, r.granted, r.used])).toEqual([
      ["generations", true, 0],
      ["artifactBytes", false, 900],
    ]);
    const usage = await stub.getUsage();
    expect(usage.quotas).toEqual([{ counter: "artifactBytes", period: "total", used: 900 }]);
    // Nothing was remembered either: the same keys succeed once there is room.
    await stub.releaseQuota({ counter: "artifactBytes", amount: 900 });
    expect((await stub.reserveQuotas({ reservations: [generation("g1"), bytes(200, "b1")] })).granted).toBe(true);
  });

  it("sums several reservations of one counter within the batch", async () => {
    const stub = stubFor("quota-batch-same-counter");
    const denied = await stub.reserveQuotas({ reservations: [bytes(600), bytes(600)] });
    expect(denied.granted).toBe(false);
    expect(denied.reservations.map((r) => r.granted)).toEqual([true, false]);
    expect((await stub.getUsage()).quotas).toEqual([]);
  });

  it("never over-grants to parallel batches", async () => {
    const stub = stubFor("quota-batch-parallel");
    const results = await Promise.all(
      Array.from({ length: 30 }, () => stub.reserveQuotas({ reservations: [generation(), bytes(100)] })),
    );
    // generations allow 2 per month, bytes 10 × 100: generations run out first.
    expect(results.filter((r) => r.granted)).toHaveLength(2);
    const usage = await stub.getUsage();
    expect(usage.quotas.map((q) => `${q.counter}=${q.used}`)).toEqual(["artifactBytes=200", "generations=2"]);
  });

  it("rejects empty or oversized batches and a key repeated in one batch", async () => {
    const stub = stubFor("quota-batch-invalid");
    expect(await rejection(() => stub.reserveQuotas({ reservations: [] }))).toBeInstanceOf(RangeError);
    const many = Array.from({ length: 17 }, () => bytes(1));
    expect(await rejection(() => stub.reserveQuotas({ reservations: many }))).toBeInstanceOf(RangeError);
    const repeated = [bytes(1, "same"), bytes(1, "same")];
    expect(await rejection(() => stub.reserveQuotas({ reservations: repeated }))).toBeInstanceOf(RangeError);
    expect((await stub.getUsage()).quotas).toEqual([]);
  });
});

describe("QuotaCounters idempotency retention", () => {
  it("keeps the newest keys and forgets the oldest", async () => {
    const stub = stubFor("quota-retention");
    const outcome = await runInDurableObject(stub, (_instance: TenantObject, state) => {
      const counters = new QuotaCounters(sqlDatabaseFromStorage(state.storage));
      const total = IDEMPOTENCY_KEYS_KEPT + 200;
      for (let i = 1; i <= total; i++) counters.reserve("triples", "total", 1, Number.MAX_SAFE_INTEGER, `k${i}`);
      const kept = state.storage.sql.exec("SELECT COUNT(*) AS n FROM quota_operation").one().n as number;
      return {
        kept,
        newest: counters.reserve("triples", "total", 1, Number.MAX_SAFE_INTEGER, `k${total}`).replayed,
        oldest: counters.reserve("triples", "total", 1, Number.MAX_SAFE_INTEGER, "k1").replayed,
      };
    });
    expect(outcome.kept).toBeGreaterThanOrEqual(IDEMPOTENCY_KEYS_KEPT);
    expect(outcome.kept).toBeLessThan(IDEMPOTENCY_KEYS_KEPT + 100);
    expect(outcome.newest).toBe(true);
    expect(outcome.oldest).toBe(false);
  });
});
