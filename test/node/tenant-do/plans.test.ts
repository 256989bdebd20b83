import { describe, expect, it } from "vitest";
import {
  dayPeriod,
  isPlanName,
  monthPeriod,
  PLAN_NAMES,
  planLimits,
  QUOTA_COUNTERS,
  quotaLimit,
  UnknownPlanError,
} from "../../../shared/plans";

describe("planLimits", () => {
  it("gives every plan positive integer limits", () => {
    for (const plan of PLAN_NAMES) {
      const limits = planLimits(plan);
      expect(limits.plan).toBe(plan);
      const numbers = [
        limits.requestsPerMinute,
        limits.maxRequestBodyBytes,
        limits.triples,
        limits.templates,
        limits.artifactBytes,
        limits.generationsPerMonth,
        limits.queryTimeMs,
        limits.queryResultRows,
        limits.syncJobArtifacts,
        limits.eventRetentionDays,
        limits.openEventStreams,
        limits.keptJobsPerGenerator,
        limits.failedJobRetentionDays,
        limits.keptGraphVersions,
        limits.monitors,
        limits.monitorMinIntervalMinutes,
        limits.monitorRunsPerMonth,
      ];
      for (const n of numbers) {
        expect(Number.isSafeInteger(n) && n > 0).toBe(true);
      }
    }
  });

  it("never lowers a limit on a higher plan", () => {
    for (let i = 1; i < PLAN_NAMES.length; i++) {
      const lower = planLimits(PLAN_NAMES[i - 1] as string);
      const higher = planLimits(PLAN_NAMES[i] as string);
      expect(higher.requestsPerMinute).toBeGreaterThan(lower.requestsPerMinute);
      expect(higher.maxRequestBodyBytes).toBeGreaterThanOrEqual(lower.maxRequestBodyBytes);
      for (const counter of QUOTA_COUNTERS) {
        expect(quotaLimit(higher.plan, counter)).toBeGreaterThan(quotaLimit(lower.plan, counter));
      }
      expect(higher.queryTimeMs).toBeGreaterThanOrEqual(lower.queryTimeMs);
      expect(higher.queryResultRows).toBeGreaterThanOrEqual(lower.queryResultRows);
      expect(higher.syncJobArtifacts).toBeGreaterThanOrEqual(lower.syncJobArtifacts);
      expect(higher.eventRetentionDays).toBeGreaterThanOrEqual(lower.eventRetentionDays);
      expect(higher.openEventStreams).toBeGreaterThanOrEqual(lower.openEventStreams);
      expect(higher.keptJobsPerGenerator).toBeGreaterThanOrEqual(lower.keptJobsPerGenerator);
      expect(higher.failedJobRetentionDays).toBeGreaterThanOrEqual(lower.failedJobRetentionDays);
      expect(higher.keptGraphVersions).toBeGreaterThanOrEqual(lower.keptGraphVersions);
      expect(higher.monitors).toBeGreaterThan(lower.monitors);
      expect(higher.monitorMinIntervalMinutes).toBeLessThanOrEqual(lower.monitorMinIntervalMinutes);
    }
  });

  it("returns frozen limits", () => {
    const limits = planLimits("free");
    expect(Object.isFrozen(limits)).toBe(true);
  });

  it("rejects unknown plans with a typed error, including prototype keys", () => {
    for (const bad of ["gold", "", "toString", "__proto__", "FREE"]) {
      expect(() => planLimits(bad)).toThrow(UnknownPlanError);
      expect(isPlanName(bad)).toBe(false);
    }
    try {
      planLimits("gold");
    } catch (err) {
      expect((err as UnknownPlanError).plan).toBe("gold");
    }
  });

  it("maps quota counters to their plan limits", () => {
    const limits = planLimits("standard");
    expect(quotaLimit("standard", "triples")).toBe(limits.triples);
    expect(quotaLimit("standard", "templates")).toBe(limits.templates);
    expect(quotaLimit("standard", "artifactBytes")).toBe(limits.artifactBytes);
    expect(quotaLimit("standard", "generations")).toBe(limits.generationsPerMonth);
  });
});

describe("period keys", () => {
  it("uses UTC calendar months and days", () => {
    const lastMsOfNovember = Date.UTC(2026, 10, 30, 23, 59, 59, 999);
    expect(monthPeriod(lastMsOfNovember)).toBe("2026-11");
    expect(monthPeriod(lastMsOfNovember + 1)).toBe("2026-12");
    expect(dayPeriod(lastMsOfNovember)).toBe("2026-11-30");
    expect(dayPeriod(lastMsOfNovember + 1)).toBe("2026-12-01");
  });
});
