import { and, desc, eq, inArray, lt, or } from "drizzle-orm";
import type { Database } from "../db/client";
import { type JobRow, jobs } from "../db/schema";

/** A job's counts after a written batch (cumulative over every batch written so far). */
export type JobProgress = Pick<JobRow, "done" | "skipped" | "total" | "bytes">;

/** Jobs, one row each, scoped to one tenant (their artifacts are in the ArtifactIndex). */
export class JobLedger {
  constructor(
    private readonly db: Database,
    readonly tenantId: string,
  ) {}

  async create(job: Omit<JobRow, "tenantId">): Promise<JobRow> {
    const row: JobRow = { ...job, tenantId: this.tenantId };
    await this.db.insert(jobs).values(row);
    return row;
  }

  async find(id: string): Promise<JobRow | undefined> {
    return this.db
      .select()
      .from(jobs)
      .where(and(eq(jobs.tenantId, this.tenantId), eq(jobs.id, id)))
      .get();
  }

  async list(limit: number, before?: { createdAt: string; id: string }): Promise<JobRow[]> {
    return this.db
      .select()
      .from(jobs)
      .where(
        and(
          eq(jobs.tenantId, this.tenantId),
          before
            ? or(
                lt(jobs.createdAt, before.createdAt),
                and(eq(jobs.createdAt, before.createdAt), lt(jobs.id, before.id)),
              )
            : undefined,
        ),
      )
      .orderBy(desc(jobs.createdAt), desc(jobs.id))
      .limit(limit + 1)
      .all();
  }

  async update(
    id: string,
    changes: Partial<Pick<JobRow, "status" | "total" | "carried" | "error" | "updatedAt">>,
  ): Promise<void> {
    await this.db
      .update(jobs)
      .set(changes)
      .where(and(eq(jobs.tenantId, this.tenantId), eq(jobs.id, id)));
  }

  /** Applies `changes` only while the job's status is one of `from`; whether it did (one writer wins a race). */
  async transition(
    id: string,
    from: readonly JobRow["status"][],
    changes: Partial<Pick<JobRow, "status" | "error" | "updatedAt">>,
  ): Promise<boolean> {
    const result = await this.db
      .update(jobs)
      .set(changes)
      .where(and(eq(jobs.tenantId, this.tenantId), eq(jobs.id, id), inArray(jobs.status, [...from])));
    return (result.meta.changes ?? 0) > 0;
  }
}
