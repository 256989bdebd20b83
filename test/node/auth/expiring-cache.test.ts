import { describe, expect, it } from "vitest";
import { ExpiringCache } from "../../../workers/auth/expiring-cache";

describe("ExpiringCache", () => {
  it("keeps an entry for less than its ttl on the caller's clock", () => {
    const cache = new ExpiringCache<string>(60_000, 10);
    cache.set("k", "v", 1_000);
    expect(cache.get("k", 1_000)).toEqual({ value: "v", storedAtMs: 1_000 });
    expect(cache.get("k", 60_999)?.value).toBe("v");
    expect(cache.get("k", 61_000)).toBeUndefined();
    // Gone for good once expired.
    expect(cache.get("k", 1_000)).toBeUndefined();
  });

  it("treats a clock that went backwards as expired rather than trusting the entry longer", () => {
    const cache = new ExpiringCache<string>(60_000, 10);
    cache.set("k", "v", 100_000);
    expect(cache.get("k", 99_999)).toBeUndefined();
  });

  it("holds at most maxEntries, dropping the oldest first, whatever is inserted", () => {
    const cache = new ExpiringCache<number>(60_000, 3);
    for (let i = 0; i < 10_000; i++) cache.set(`k${i}`, i, 0);
    expect(cache.get("k9999", 0)?.value).toBe(9999);
    expect(cache.get("k9997", 0)?.value).toBe(9997);
    expect(cache.get("k9996", 0)).toBeUndefined();
    // Storing again makes an entry the newest.
    cache.set("k9997", 1, 0);
    cache.set("new", 2, 0);
    expect(cache.get("k9997", 0)?.value).toBe(1);
    expect(cache.get("k9998", 0)).toBeUndefined();
  });

  it("deletes by key and by value", () => {
    const cache = new ExpiringCache<{ tenant: string }>(60_000, 10);
    cache.set("a", { tenant: "t1" }, 0);
    cache.set("b", { tenant: "t2" }, 0);
    cache.set("c", { tenant: "t1" }, 0);
    cache.deleteWhere((value) => value.tenant === "t1");
    expect([cache.get("a", 0), cache.get("b", 0)?.value, cache.get("c", 0)]).toEqual([
      undefined,
      { tenant: "t2" },
      undefined,
    ]);
    cache.delete("b");
    expect(cache.get("b", 0)).toBeUndefined();
  });
});
