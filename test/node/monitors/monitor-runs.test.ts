import { describe, expect, it } from "vitest";
import { nodeSqlDatabase } from "../../../cli/node-sql-database";
import { EventLog } from "../../../durable-objects/tenant/event-log";
import { MONITOR_RUN_RETENTION_MS, MonitorRuns } from "../../../durable-objects/tenant/monitor-runs";
import { QuotaCounters } from "../../../durable-objects/tenant/quota-counters";
import { TENANT_SCHEMA } from "../../../durable-objects/tenant/tenant-schema";
import { applySchemaMigrations } from "../../../shared/sql/migrations";

function setup() {
  const db = nodeSqlDatabase();
  applySchemaMigrations(db, TENANT_SCHEMA);
  const events = new EventLog(db);
  return { runs: new MonitorRuns(db, events, new QuotaCounters(db)), events };
}

const HOUR = 3_600_000;
const T0 = Date.parse("2026-12-01T00:00:00Z");
const quota = { period: "2026-12", limit: 100 };

function run(
  runs: MonitorRuns,
  index: number,
  status: "clean" | "drift" | "failed",
  kind: "drift" | "impact" = "drift",
) {
  const base = { runId: `run${index}`, monitorId: "mon_a", trigger: `t${index}`, scheduledFor: T0 + index * HOUR };
  expect(runs.start({ ...base, now: base.scheduledFor, quota })).toEqual({ start: true, attempts: 1 });
  return runs.finish({
    ...base,
    now: base.scheduledFor + 1500,
    status,
    kind,
    counts: { modified: status === "drift" ? 1 : 0 },
    error: status === "failed" ? "manifest URL answered 500" : null,
  });
}

describe("MonitorRuns", () => {
  it("records each run once, with the events that describe how it ended", () => {
    const { runs, events } = setup();
    expect(run(runs, 1, "clean")).toMatchObject({ status: "clean", durationMs: 1500, counts: { modified: 0 } });
    run(runs, 2, "drift");
    run(runs, 3, "drift");
    run(runs, 4, "failed");
    run(runs, 5, "clean");
    run(runs, 6, "clean");
    run(runs, 7, "clean", "impact");
    const types = events.read(0, 100).events.map((event) => [event.type, (event.data as { runId: string }).runId]);
    expect(types).toEqual([
      ["drift.detected", "run2"],
      ["drift.detected", "run3"],
      ["monitor.failed", "run4"],
      // The first clean run after a drift resolves it; a failure in between does not count as clean.
      ["drift.resolved", "run5"],
      ["impact.computed", "run7"],
    ]);
    // A finished run is not started or finished again (a redelivered message).
    const again = { runId: "run2", monitorId: "mon_a", trigger: "t2", scheduledFor: T0 + 2 * HOUR, now: T0 + 9 * HOUR };
    expect(runs.start({ ...again, quota })).toEqual({ start: false, reason: "finished", status: "drift" });
    expect(runs.finish({ ...again, status: "clean", kind: "drift" }).status).toBe("drift");
    expect(events.read(0, 100).events).toHaveLength(5);
  });

  it("counts runs against the monthly quota once per run, and fails the one that does not fit", () => {
    const { runs, events } = setup();
    const small = { period: "2026-12", limit: 1 };
    const base = { monitorId: "mon_a", scheduledFor: T0, now: T0 };
    expect(runs.start({ ...base, runId: "a", trigger: "a", quota: small }).start).toBe(true);
    expect(runs.start({ ...base, runId: "a", trigger: "a", quota: small })).toEqual({ start: true, attempts: 2 });
    expect(runs.start({ ...base, runId: "b", trigger: "b", quota: small })).toEqual({
      start: false,
      reason: "quota-exceeded",
      status: "failed",
    });
    const [failed] = runs.list("mon_a", 10).filter((entry) => entry.id === "b");
    expect(failed?.error).toContain("quota-exceeded: 1 of 1");
    expect(events.read(0, 10).events.map((event) => event.type)).toEqual(["monitor.failed"]);
  });

  it("pages newest first, counts per day, forgets old history and deleted monitors", () => {
    const { runs } = setup();
    for (let i = 1; i <= 30; i++) run(runs, i, i % 3 === 0 ? "drift" : "clean");
    const first = runs.list("mon_a", 10);
    expect(first).toHaveLength(11);
    expect(first[0]?.id).toBe("run30");
    const last = first[9] as { scheduledFor: string; id: string };
    const next = runs.list("mon_a", 10, { scheduledFor: Date.parse(last.scheduledFor), id: last.id });
    expect(next[0]?.id).toBe("run20");
    const trend = runs.trend("mon_a", T0);
    expect(trend).toEqual([
      { day: "2026-12-01", clean: 16, drift: 7, failed: 0 },
      { day: "2026-12-02", clean: 4, drift: 3, failed: 0 },
    ]);
    // A run finishing 90 days later prunes what is older than the retention.
    const late = T0 + MONITOR_RUN_RETENTION_MS + 10 * HOUR;
    const base = { runId: "late", monitorId: "mon_a", trigger: "late", scheduledFor: late };
    runs.start({ ...base, now: late, quota: { period: "2027-03", limit: 10 } });
    runs.finish({ ...base, now: late, status: "clean", kind: "drift" });
    expect(runs.list("mon_a", 100).map((entry) => entry.id)).toEqual([
      "late",
      ...Array.from({ length: 21 }, (_, i) => `run${30 - i}`),
    ]);
    expect(runs.forget("mon_a", 5)).toBe(5);
    expect(runs.forget("mon_a", 100)).toBe(17);
    expect(runs.list("mon_a", 100)).toEqual([]);
  });
});
