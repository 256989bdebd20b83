import { describe, expect, it } from "vitest";
import { monthBounds, planPeriods, previousMonth, usageQuota } from "../../../shared/contracts/usage";
import { csvRecord } from "../../../shared/core/csv";
import { planLimits } from "../../../shared/plans";

describe("plan periods of a month", () => {
  it("is the whole month on one plan without a change", () => {
    expect(planPeriods("2026-02", "free", [])).toEqual([
      { plan: "free", from: "2026-02-01T00:00:00.000Z", to: "2026-03-01T00:00:00.000Z", share: 1 },
    ]);
  });

  it("splits the month at each change, shares adding up to one", () => {
    const periods = planPeriods("2026-04", "premium", [
      { fromPlan: "free", toPlan: "standard", changedAt: "2026-04-11T00:00:00.000Z" },
      { fromPlan: "standard", toPlan: "premium", changedAt: "2026-04-21T00:00:00.000Z" },
    ]);
    expect(periods).toEqual([
      { plan: "free", from: "2026-04-01T00:00:00.000Z", to: "2026-04-11T00:00:00.000Z", share: 0.333333 },
      { plan: "standard", from: "2026-04-11T00:00:00.000Z", to: "2026-04-21T00:00:00.000Z", share: 0.333333 },
      { plan: "premium", from: "2026-04-21T00:00:00.000Z", to: "2026-05-01T00:00:00.000Z", share: 0.333333 },
    ]);
  });

  it("takes the plan of a past month from the first change after it, not the plan now", () => {
    expect(
      planPeriods("2026-04", "enterprise", [
        { fromPlan: "standard", toPlan: "enterprise", changedAt: "2026-06-02T10:00:00.000Z" },
      ]),
    ).toEqual([{ plan: "standard", from: "2026-04-01T00:00:00.000Z", to: "2026-05-01T00:00:00.000Z", share: 1 }]);
  });

  it("drops an empty period of a change at the month's first instant", () => {
    expect(
      planPeriods("2026-04", "standard", [
        { fromPlan: "free", toPlan: "standard", changedAt: "2026-04-01T00:00:00.000Z" },
      ]).map((period) => period.plan),
    ).toEqual(["standard"]);
  });

  it("knows month bounds across a year end and the plan's quota of each figure", () => {
    expect(monthBounds("2026-12")).toEqual({ start: Date.UTC(2026, 11, 1), end: Date.UTC(2027, 0, 1) });
    expect(previousMonth("2026-01")).toBe("2025-12");
    expect(usageQuota("free", "triplesPeak")).toBe(planLimits("free").triples);
    expect(usageQuota("free", "jobs")).toBe(planLimits("free").generationsPerMonth);
    expect(usageQuota("free", "requests")).toBeNull();
  });
});

describe("CSV records (RFC 4180)", () => {
  it("quotes fields with a comma, a quote or a line break, doubles quotes, ends with CRLF", () => {
    expect(csvRecord(["plain", 42, "a,b", 'say "hi"', "two\nlines", "cr\rhere", ""])).toBe(
      'plain,42,"a,b","say ""hi""","two\nlines","cr\rhere",\r\n',
    );
  });
});
