import { describe, expect, it } from "vitest";
import { LocalRequestWindow, RATE_WINDOW_MS } from "../../../workers/middleware/tenant-rate-limit";

const minute = Date.UTC(2026, 11, 6, 10, 0, 0);

describe("LocalRequestWindow", () => {
  it("counts this location's allowed requests down from the limit within the current minute", () => {
    const window = new LocalRequestWindow();
    expect(window.decide("t1", 3, true, minute)).toEqual({
      allowed: true,
      limit: 3,
      remaining: 2,
      resetSeconds: 60,
      retryAfterSeconds: 0,
    });
    expect(window.decide("t1", 3, true, minute + 20_500)).toMatchObject({ remaining: 1, resetSeconds: 40 });
    expect(window.decide("t1", 3, true, minute + 30_000)).toMatchObject({ remaining: 0, resetSeconds: 30 });
    // Beyond the limit (the binding counts across isolates and may still allow): never negative.
    expect(window.decide("t1", 3, true, minute + 31_000).remaining).toBe(0);
    // Other tenants have windows of their own.
    expect(window.decide("t2", 3, true, minute + 31_000).remaining).toBe(2);
  });

  it("a refusal is remaining 0 with Retry-After until the minute ends, and takes nothing", () => {
    const window = new LocalRequestWindow();
    window.decide("t1", 10, true, minute);
    expect(window.decide("t1", 10, false, minute + 59_500)).toEqual({
      allowed: false,
      limit: 10,
      remaining: 0,
      resetSeconds: 1,
      retryAfterSeconds: 1,
    });
    expect(window.decide("t1", 10, true, minute + 59_600).remaining).toBe(8);
  });

  it("starts again at the next minute", () => {
    const window = new LocalRequestWindow();
    for (let i = 0; i < 5; i++) window.decide("t1", 5, true, minute + i);
    expect(window.decide("t1", 5, true, minute + RATE_WINDOW_MS)).toMatchObject({ remaining: 4, resetSeconds: 60 });
  });
});
