import type { SchemaComponent } from "../../shared/sql/migrations";
import type { SqlDatabase } from "../../shared/sql/sql-database";

/**
 * Drift reports of the tenant: one row each (its state and counts); the report's file lists live in
 * R2 (workers/drift/drift-report-store.ts), so nothing per file is kept here.
 */
export const driftReportsSchema: SchemaComponent = {
  name: "drift-reports",
  migrations: [
    {
      version: 1,
      description: "drift report index",
      up: `
        CREATE TABLE drift_report (
          id TEXT PRIMARY KEY,
          job_id TEXT NOT NULL,
          state TEXT NOT NULL CHECK (state IN ('pending', 'done', 'failed')),
          status TEXT CHECK (status IN ('clean', 'drift')),
          summary TEXT,
          error TEXT,
          created_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX drift_report_by_job ON drift_report (job_id, created_at, id);
        CREATE INDEX drift_report_by_time ON drift_report (created_at, id);
      `,
    },
  ],
};

/** A report id as randomId("drift") makes it. */
export const DRIFT_REPORT_ID = /^drift_[a-z2-7]{26}$/;

export interface DriftReportSummary {
  expected: number;
  matched: number;
  modified: number;
  missing: number;
  unexpected: number;
}

/** A report's index row as plain data. */
export interface DriftReportRow {
  id: string;
  jobId: string;
  state: "pending" | "done" | "failed";
  status: "clean" | "drift" | null;
  summary: DriftReportSummary | null;
  error: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface DriftReportListCursor {
  createdAt: number;
  id: string;
}

type Row = {
  id: string;
  job_id: string;
  state: DriftReportRow["state"];
  status: DriftReportRow["status"];
  summary: string | null;
  error: string | null;
  created_at: number;
  updated_at: number;
};

const COLUMNS = "id, job_id, state, status, summary, error, created_at, updated_at";

function rowOf(row: Row): DriftReportRow {
  return {
    id: row.id,
    jobId: row.job_id,
    state: row.state,
    status: row.status,
    summary: row.summary === null ? null : (JSON.parse(row.summary) as DriftReportSummary),
    error: row.error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The tenant's drift report index: created pending or done, finished once (done or failed). */
export class DriftReports {
  constructor(private readonly db: SqlDatabase) {}

  /** Records a report; a second call with the same id changes nothing (a retried request). */
  create(input: {
    id: string;
    jobId: string;
    state: "pending" | "done";
    status?: "clean" | "drift";
    summary?: DriftReportSummary;
    now: number;
  }): DriftReportRow {
    this.db.run(
      `INSERT INTO drift_report (${COLUMNS}) VALUES (?, ?, ?, ?, ?, NULL, ?, ?) ON CONFLICT (id) DO NOTHING`,
      [
        input.id,
        input.jobId,
        input.state,
        input.status ?? null,
        input.summary === undefined ? null : JSON.stringify(input.summary),
        input.now,
        input.now,
      ],
    );
    return this.get(input.id) as DriftReportRow;
  }

  /** Marks a pending report done; whether it was pending (a redelivered message finds it done). */
  complete(id: string, status: "clean" | "drift", summary: DriftReportSummary, now: number): boolean {
    return (
      this.db.run(
        "UPDATE drift_report SET state = 'done', status = ?, summary = ?, updated_at = ? WHERE id = ? AND state = 'pending'",
        [status, JSON.stringify(summary), now, id],
      ).changes > 0
    );
  }

  /** Marks a pending report failed with its reason; whether it was pending. */
  fail(id: string, error: string, now: number): boolean {
    return (
      this.db.run(
        "UPDATE drift_report SET state = 'failed', error = ?, updated_at = ? WHERE id = ? AND state = 'pending'",
        [error.slice(0, 2_000), now, id],
      ).changes > 0
    );
  }

  /** Keeps the reason of a failed attempt on a pending report, for the failure the dead-letter queue records. */
  noteAttemptError(id: string, error: string, now: number): void {
    this.db.run("UPDATE drift_report SET error = ?, updated_at = ? WHERE id = ? AND state = 'pending'", [
      error.slice(0, 2_000),
      now,
      id,
    ]);
  }

  get(id: string): DriftReportRow | null {
    const [row] = this.db.query<Row>(`SELECT ${COLUMNS} FROM drift_report WHERE id = ?`, [id]);
    return row ? rowOf(row) : null;
  }

  /** Newest first, optionally of one job; limit+1 rows so the caller knows whether more follow. */
  list(limit: number, jobId?: string, before?: DriftReportListCursor): DriftReportRow[] {
    const conditions: string[] = [];
    const params: (string | number)[] = [];
    if (jobId !== undefined) {
      conditions.push("job_id = ?");
      params.push(jobId);
    }
    if (before !== undefined) {
      conditions.push("(created_at < ? OR (created_at = ? AND id < ?))");
      params.push(before.createdAt, before.createdAt, before.id);
    }
    const where = conditions.length === 0 ? "" : `WHERE ${conditions.join(" AND ")}`;
    return this.db
      .query<Row>(`SELECT ${COLUMNS} FROM drift_report ${where} ORDER BY created_at DESC, id DESC LIMIT ?`, [
        ...params,
        limit + 1,
      ])
      .map(rowOf);
  }
}
