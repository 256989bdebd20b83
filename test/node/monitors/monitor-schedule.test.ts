import { describe, expect, it } from "vitest";
import { checkSchedule, MonitorScheduleError, nextRunAfter } from "../../../workers/monitors/monitor-schedule";

const FROM = new Date("2026-12-06T12:07:00Z");

const refusal = (expression: string, minutes: number) => {
  try {
    checkSchedule(expression, minutes, FROM);
    return "accepted";
  } catch (error) {
    if (error instanceof MonitorScheduleError) return error.message;
    throw error;
  }
};

describe("monitor schedules", () => {
  it("accepts five-field cron expressions at least the plan's interval apart, normalized", () => {
    expect(checkSchedule("0  *  * * *", 60, FROM)).toBe("0 * * * *");
    expect(checkSchedule("*/15 * * * *", 15, FROM)).toBe("*/15 * * * *");
    expect(checkSchedule("30 2 * * 1-5", 60, FROM)).toBe("30 2 * * 1-5");
  });

  it("refuses other field counts, nonsense, and runs closer than the plan allows", () => {
    expect(refusal("* * * * * *", 5)).toContain("has 6 fields");
    expect(refusal("0 * *", 5)).toContain("has 3 fields");
    expect(refusal("61 * * * *", 5)).toContain("is not a cron expression");
    expect(refusal("*/5 * * * *", 15)).toContain("5 minutes apart");
    // Only some hours run close together: still refused.
    expect(refusal("0,10 9 * * *", 15)).toContain("10 minutes apart");
    expect(refusal("0 0 31 2 *", 5)).toMatch(/never fires|not a cron expression/);
  });

  it("computes the next run strictly after a time, in UTC", () => {
    expect(nextRunAfter("0 * * * *", FROM)?.toISOString()).toBe("2026-12-06T13:00:00.000Z");
    expect(nextRunAfter("0 * * * *", new Date("2026-12-06T13:00:00Z"))?.toISOString()).toBe("2026-12-06T14:00:00.000Z");
    expect(nextRunAfter("30 2 * * 1", FROM)?.toISOString()).toBe("2026-12-07T02:30:00.000Z");
  });
});
