import { describe, expect, it } from "vitest";
import {
  MAX_RETRY_DELAY_SECONDS,
  parseRetryAfter,
  RETRY_DELAYS_SECONDS,
  retryDelaySeconds,
} from "../../../workers/webhooks/retry-schedule";

const HOUR = 60 * 60;

describe("webhook retry schedule", () => {
  it("spreads ten attempts over about a day and never asks Queues for more than 12 hours", () => {
    const total = RETRY_DELAYS_SECONDS.reduce((sum, delay) => sum + delay, 0);
    expect(total).toBeGreaterThan(24 * HOUR);
    expect(total).toBeLessThan(27 * HOUR);
    expect(RETRY_DELAYS_SECONDS.length + 1).toBe(10);
    expect(Math.max(...RETRY_DELAYS_SECONDS)).toBeLessThanOrEqual(MAX_RETRY_DELAY_SECONDS);
    for (let i = 1; i < RETRY_DELAYS_SECONDS.length; i++) {
      expect(RETRY_DELAYS_SECONDS[i]).toBeGreaterThan(RETRY_DELAYS_SECONDS[i - 1] as number);
    }
  });

  it("jitters each delay by at most 10 %, both ways", () => {
    expect(retryDelaySeconds(1, 0)).toBe(27);
    expect(retryDelaySeconds(1, 0.5)).toBe(30);
    expect(retryDelaySeconds(1, 0.999999)).toBe(33);
    expect(retryDelaySeconds(9, 0.5)).toBe(10 * HOUR);
    // Past the schedule (a redelivered message counted on): the last delay.
    expect(retryDelaySeconds(40, 0.5)).toBe(10 * HOUR);
    expect(retryDelaySeconds(0, 0.5)).toBe(30);
  });

  it("waits at least what Retry-After asks, capped at 12 hours", () => {
    expect(retryDelaySeconds(1, 0.5, 600)).toBe(600);
    expect(retryDelaySeconds(5, 0.5, 10)).toBe(HOUR);
    expect(retryDelaySeconds(1, 0.5, 100 * HOUR)).toBe(MAX_RETRY_DELAY_SECONDS);
    expect(retryDelaySeconds(9, 0.999999, null)).toBe(11 * HOUR);
  });

  it("reads Retry-After as delta-seconds or an HTTP date", () => {
    const now = Date.UTC(2026, 11, 6, 10, 0, 0);
    expect(parseRetryAfter(null, now)).toBeNull();
    expect(parseRetryAfter("120", now)).toBe(120);
    expect(parseRetryAfter(" 0 ", now)).toBe(0);
    expect(parseRetryAfter("99999999", now)).toBe(MAX_RETRY_DELAY_SECONDS);
    expect(parseRetryAfter("Sun, 06 Dec 2026 10:05:00 GMT", now)).toBe(300);
    expect(parseRetryAfter("Sun, 06 Dec 2026 09:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("Mon, 06 Dec 2027 10:00:00 GMT", now)).toBe(MAX_RETRY_DELAY_SECONDS);
    for (const junk of ["", "-5", "1.5", "soon", "12e3", "2026-13-45"])
      expect(parseRetryAfter(junk, now), junk).toBeNull();
  });
});
