import type { MonitorRun, MonitorRunStatus } from "../../shared/contracts/monitors";
import type { SchemaComponent } from "../../shared/sql/migrations";
import type { SqlDatabase } from "../../shared/sql/sql-database";
import type { EventLog } from "./event-log";
import type { QuotaCounters } from "./quota-counters";

/** How long run history is kept; the trend route reaches back at most this far. */
export const MONITOR_RUN_RETENTION_MS = 90 * 86_400_000;
/** Old runs one finishing run deletes at most (history shrinks a bounded bite at a time). */
const PRUNE_PER_FINISH = 100;

export const monitorRunsSchema: SchemaComponent = {
  name: "monitor-runs",
  migrations: [
    {
      version: 1,
      description: "monitor run history, and the graph-version dispatch cursor",
      up: `
        CREATE TABLE monitor_run (
          id TEXT PRIMARY KEY,
          monitor_id TEXT NOT NULL,
          run_trigger TEXT NOT NULL,
          status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'clean', 'drift', 'failed')),
          scheduled_for INTEGER NOT NULL,
          started_at INTEGER,
          finished_at INTEGER,
          counts TEXT,
          report_id TEXT,
          job_id TEXT,
          regenerated_job_id TEXT,
          error TEXT,
          attempts INTEGER NOT NULL DEFAULT 0
        ) WITHOUT ROWID;
        CREATE INDEX monitor_run_by_monitor ON monitor_run (monitor_id, scheduled_for, id);
        CREATE INDEX monitor_run_by_age ON monitor_run (scheduled_for);
        CREATE TABLE monitor_dispatch (
          id INTEGER PRIMARY KEY CHECK (id = 1),
          tenant_id TEXT NOT NULL,
          cursor INTEGER NOT NULL
        );
      `,
    },
  ],
};

type RunRow = {
  id: string;
  monitor_id: string;
  run_trigger: string;
  status: MonitorRunStatus;
  scheduled_for: number;
  started_at: number | null;
  finished_at: number | null;
  counts: string | null;
  report_id: string | null;
  job_id: string | null;
  regenerated_job_id: string | null;
  error: string | null;
};

export interface RunStartInput {
  runId: string;
  monitorId: string;
  trigger: string;
  scheduledFor: number;
  now: number;
  /** The plan's monthly run quota: a run that does not fit is recorded failed. */
  quota: { period: string; limit: number };
}

export type RunStart =
  | { start: true; attempts: number }
  | { start: false; reason: "finished" | "quota-exceeded"; status: MonitorRunStatus };

export interface RunFinishInput {
  runId: string;
  monitorId: string;
  trigger: string;
  scheduledFor: number;
  now: number;
  status: "clean" | "drift" | "failed";
  kind: "drift" | "impact";
  counts?: Record<string, number>;
  reportId?: string | null;
  jobId?: string | null;
  regeneratedJobId?: string | null;
  error?: string | null;
}

const toIso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function runView(row: RunRow): MonitorRun {
  return {
    id: row.id,
    monitorId: row.monitor_id,
    trigger: row.run_trigger,
    status: row.status,
    scheduledFor: new Date(row.scheduled_for).toISOString(),
    startedAt: toIso(row.started_at),
    finishedAt: toIso(row.finished_at),
    durationMs:
      row.started_at !== null && row.finished_at !== null ? Math.max(0, row.finished_at - row.started_at) : null,
    counts: row.counts === null ? null : (JSON.parse(row.counts) as Record<string, number>),
    reportId: row.report_id,
    jobId: row.job_id,
    regeneratedJobId: row.regenerated_job_id,
    error: row.error,
  };
}

const FINISHED: readonly MonitorRunStatus[] = ["clean", "drift", "failed"];

/**
 * The run history of the tenant's monitors. A run's id comes from its monitor and what started it, so a
 * redelivered message finds its run instead of making a second one; its end appends the events that
 * describe it in the same transaction.
 */
export class MonitorRuns {
  constructor(
    private readonly db: SqlDatabase,
    private readonly events: EventLog,
    private readonly quotas: QuotaCounters,
  ) {}

  /** Records the run as running (creating it, and counting it against the quota, on its first attempt). */
  start(input: RunStartInput): RunStart {
    return this.db.transaction(() => {
      const existing = this.find(input.runId);
      if (existing && FINISHED.includes(existing.status)) {
        return { start: false, reason: "finished", status: existing.status } as const;
      }
      if (!existing) {
        const reservation = this.quotas.reserve(
          "monitorRuns",
          input.quota.period,
          1,
          input.quota.limit,
          `monitor-run:${input.runId}`,
        );
        if (!reservation.granted) {
          this.finishInTransaction({
            ...input,
            status: "failed",
            kind: "drift",
            error: `quota-exceeded: ${reservation.used} of ${reservation.limit} monitor runs this month`,
          });
          return { start: false, reason: "quota-exceeded", status: "failed" } as const;
        }
        this.db.run(
          "INSERT INTO monitor_run (id, monitor_id, run_trigger, status, scheduled_for, started_at, attempts) VALUES (?, ?, ?, 'running', ?, ?, 1)",
          [input.runId, input.monitorId, input.trigger, input.scheduledFor, input.now],
        );
        return { start: true, attempts: 1 } as const;
      }
      this.db.run("UPDATE monitor_run SET status = 'running', attempts = attempts + 1 WHERE id = ?", [input.runId]);
      return { start: true, attempts: this.attemptsOf(input.runId) } as const;
    });
  }

  /**
   * Records how the run ended (once: a finished run is left as it is) and appends its events:
   * `drift.detected` for drift, `drift.resolved` for the first clean run after a drift, `monitor.failed`
   * for a failure, `impact.computed` for an impact run that finished.
   */
  finish(input: RunFinishInput): MonitorRun {
    return this.db.transaction(() => {
      const existing = this.find(input.runId);
      if (existing && FINISHED.includes(existing.status)) return runView(existing);
      this.finishInTransaction(input);
      this.db.run(
        "DELETE FROM monitor_run WHERE id IN (SELECT id FROM monitor_run WHERE scheduled_for < ? AND id <> ? ORDER BY scheduled_for LIMIT ?)",
        [input.now - MONITOR_RUN_RETENTION_MS, input.runId, PRUNE_PER_FINISH],
      );
      return runView(this.find(input.runId) as RunRow);
    });
  }

  private finishInTransaction(input: RunFinishInput): void {
    const previous = this.db.query<{ status: MonitorRunStatus }>(
      "SELECT status FROM monitor_run WHERE monitor_id = ? AND id <> ? AND status IN ('clean', 'drift') ORDER BY finished_at DESC, id DESC LIMIT 1",
      [input.monitorId, input.runId],
    )[0];
    this.db.run(
      `INSERT INTO monitor_run (id, monitor_id, run_trigger, status, scheduled_for, started_at, finished_at, counts, report_id, job_id, regenerated_job_id, error)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET status = excluded.status, finished_at = excluded.finished_at,
         counts = excluded.counts, report_id = excluded.report_id, job_id = excluded.job_id,
         regenerated_job_id = excluded.regenerated_job_id, error = excluded.error,
         started_at = coalesce(monitor_run.started_at, excluded.started_at)`,
      [
        input.runId,
        input.monitorId,
        input.trigger,
        input.status,
        input.scheduledFor,
        input.now,
        input.now,
        input.counts ? JSON.stringify(input.counts) : null,
        input.reportId ?? null,
        input.jobId ?? null,
        input.regeneratedJobId ?? null,
        input.error ? input.error.slice(0, 2000) : null,
      ],
    );
    const data = {
      monitorId: input.monitorId,
      runId: input.runId,
      jobId: input.jobId ?? null,
      reportId: input.reportId ?? null,
      ...(input.counts ?? {}),
    };
    const append = (type: string, extra: Record<string, unknown> = {}) =>
      this.events.append(type, JSON.stringify({ ...data, ...extra }), input.now, `${type}:${input.runId}`);
    if (input.status === "failed") append("monitor.failed", { reason: input.error ?? null });
    else {
      if (input.kind === "impact") append("impact.computed", { regeneratedJobId: input.regeneratedJobId ?? null });
      if (input.status === "drift") append("drift.detected");
      else if (previous?.status === "drift") append("drift.resolved");
    }
  }

  /** A monitor's runs, newest first; `before` is the cursor of the previous page. */
  list(monitorId: string, limit: number, before?: { scheduledFor: number; id: string }): MonitorRun[] {
    const rows = before
      ? this.db.query<RunRow>(
          "SELECT * FROM monitor_run WHERE monitor_id = ? AND (scheduled_for < ? OR (scheduled_for = ? AND id < ?)) ORDER BY scheduled_for DESC, id DESC LIMIT ?",
          [monitorId, before.scheduledFor, before.scheduledFor, before.id, limit + 1],
        )
      : this.db.query<RunRow>(
          "SELECT * FROM monitor_run WHERE monitor_id = ? ORDER BY scheduled_for DESC, id DESC LIMIT ?",
          [monitorId, limit + 1],
        );
    return rows.map(runView);
  }

  /** Finished runs per UTC day since `since` (epoch ms), oldest day first. */
  trend(monitorId: string, since: number): { day: string; clean: number; drift: number; failed: number }[] {
    return this.db.query<{ day: string; clean: number; drift: number; failed: number }>(
      `SELECT strftime('%Y-%m-%d', scheduled_for / 1000, 'unixepoch') AS day,
         sum(status = 'clean') AS clean, sum(status = 'drift') AS drift, sum(status = 'failed') AS failed
       FROM monitor_run WHERE monitor_id = ? AND scheduled_for >= ? AND status IN ('clean', 'drift', 'failed')
       GROUP BY day ORDER BY day`,
      [monitorId, since],
    );
  }

  /** Forgets a deleted monitor's history (a bounded bite; the rest goes with retention). */
  forget(monitorId: string, maxRows: number): number {
    return this.db.run(
      "DELETE FROM monitor_run WHERE id IN (SELECT id FROM monitor_run WHERE monitor_id = ? LIMIT ?)",
      [monitorId, maxRows],
    ).changes;
  }

  private find(id: string): RunRow | undefined {
    return this.db.query<RunRow>("SELECT * FROM monitor_run WHERE id = ?", [id])[0];
  }

  private attemptsOf(id: string): number {
    return Number(
      this.db.query<{ attempts: number }>("SELECT attempts FROM monitor_run WHERE id = ?", [id])[0]?.attempts,
    );
  }
}
