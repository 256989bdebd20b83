import { describe, expect, it } from "vitest";
import { type TokenBucketState, takeToken } from "../../../shared/token-bucket";
import { rateLimitedError, rateLimitHeaders } from "../../../workers/middleware/rate-limit-headers";
import { HttpError } from "../../../workers/problems/http-error";

const rate = { capacity: 3, refillPerMinute: 60 }; // one token per second

function drain(count: number, now: number, start?: TokenBucketState) {
  let state = start;
  const decisions = [];
  for (let i = 0; i < count; i++) {
    const step = takeToken(state, rate, now);
    state = step.state;
    decisions.push(step.decision);
  }
  return { state: state as TokenBucketState, decisions };
}

describe("takeToken", () => {
  it("starts full, allows a burst of capacity, then denies", () => {
    const { decisions } = drain(4, 1_000);
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, false]);
    expect(decisions.map((d) => d.remaining)).toEqual([2, 1, 0, 0]);
    expect(decisions[3]).toEqual({ allowed: false, limit: 3, remaining: 0, resetSeconds: 3, retryAfterSeconds: 1 });
  });

  it("refills at the plan rate from the supplied clock", () => {
    const { state } = drain(3, 1_000);
    expect(takeToken(state, rate, 1_999).decision.allowed).toBe(false);
    const later = takeToken(state, rate, 2_000);
    expect(later.decision.allowed).toBe(true);
    expect(later.decision.remaining).toBe(0);
    const muchLater = takeToken(state, rate, 1_000_000_000);
    expect(muchLater.decision.remaining).toBe(2);
  });

  it("reports Retry-After for a partly refilled token", () => {
    const slow = { capacity: 2, refillPerMinute: 6 }; // one token per 10 s
    let state = takeToken(undefined, slow, 0).state;
    state = takeToken(state, slow, 0).state;
    const denied = takeToken(state, slow, 2_500);
    expect(denied.decision).toMatchObject({ allowed: false, retryAfterSeconds: 8, resetSeconds: 18 });
  });

  it("never credits refill for a clock that goes backwards", () => {
    const { state } = drain(3, 10_000);
    const skewed = takeToken(state, rate, 5_000);
    expect(skewed.decision.allowed).toBe(false);
    expect(skewed.state.updatedAt).toBe(10_000);
    expect(takeToken(skewed.state, rate, 10_999).decision.allowed).toBe(false);
    expect(takeToken(skewed.state, rate, 11_000).decision.allowed).toBe(true);
  });

  it("clamps a fuller bucket to a lower capacity after a plan downgrade", () => {
    const big = { capacity: 100, refillPerMinute: 100 };
    const full = takeToken(undefined, big, 0).state;
    const downgraded = takeToken(full, rate, 0);
    expect(downgraded.decision).toMatchObject({ allowed: true, limit: 3, remaining: 2 });
  });
});

describe("rateLimitHeaders", () => {
  it("sends the RateLimit fields and no Retry-After when allowed", () => {
    expect(
      rateLimitHeaders({ allowed: true, limit: 60, remaining: 59, resetSeconds: 1, retryAfterSeconds: 0 }),
    ).toEqual({ "RateLimit-Limit": "60", "RateLimit-Remaining": "59", "RateLimit-Reset": "1" });
  });

  it("adds Retry-After when denied", () => {
    expect(
      rateLimitHeaders({ allowed: false, limit: 60, remaining: 0, resetSeconds: 60, retryAfterSeconds: 1 }),
    ).toEqual({
      "RateLimit-Limit": "60",
      "RateLimit-Remaining": "0",
      "RateLimit-Reset": "60",
      "Retry-After": "1",
    });
  });
});

describe("rateLimitedError", () => {
  it("is a 429 rate-limited problem carrying the headers", () => {
    const err = rateLimitedError({ allowed: false, limit: 60, remaining: 0, resetSeconds: 60, retryAfterSeconds: 2 });
    expect(err).toBeInstanceOf(HttpError);
    expect(err.status).toBe(429);
    expect(err.type).toBe("rate-limited");
    expect(err.headers["Retry-After"]).toBe("2");
    expect(err.headers["RateLimit-Limit"]).toBe("60");
    expect(err.extensions).toEqual({ retryAfterSeconds: 2 });
  });
});
