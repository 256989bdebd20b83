import { and, asc, eq, inArray, lt, ne, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { type TenantErasureRow, tenantErasures } from "../db/schema";

export type ErasurePhase = TenantErasureRow["phase"];

/** What one page of an erasure did, applied to its record. */
export interface ErasureProgress {
  phase: ErasurePhase;
  cursor: string | null;
  d1RowsDeleted?: number;
  r2ObjectsDeleted?: number;
}

/** Longest error text kept on the record: enough for the cause, never a whole stack or payload. */
const MAX_ERROR_LENGTH = 500;

const errorText = (reason: string) => reason.slice(0, MAX_ERROR_LENGTH);

/** The tenant erasure records in D1 (operator scope: an erasure outlives its tenant). */
export class TenantErasures {
  constructor(private readonly db: Database) {}

  async find(tenantId: string): Promise<TenantErasureRow | undefined> {
    return this.db.select().from(tenantErasures).where(eq(tenantErasures.tenantId, tenantId)).get();
  }

  /**
   * Records one page of work, only if the record is still at `pagesSeen`: a second delivery working on
   * the same erasure at the same time finds it moved on and stops (its deletions were harmless repeats).
   */
  async advance(record: TenantErasureRow, progress: ErasureProgress, now: string): Promise<TenantErasureRow | null> {
    const done = progress.phase === "done";
    const [updated] = await this.db
      .update(tenantErasures)
      .set({
        status: done ? "completed" : "running",
        phase: progress.phase,
        cursor: progress.cursor,
        d1RowsDeleted: sql`${tenantErasures.d1RowsDeleted} + ${progress.d1RowsDeleted ?? 0}`,
        r2ObjectsDeleted: sql`${tenantErasures.r2ObjectsDeleted} + ${progress.r2ObjectsDeleted ?? 0}`,
        pages: sql`${tenantErasures.pages} + 1`,
        updatedAt: now,
        completedAt: done ? now : null,
      })
      .where(
        and(
          eq(tenantErasures.tenantId, record.tenantId),
          eq(tenantErasures.pages, record.pages),
          ne(tenantErasures.status, "failed"),
        ),
      )
      .returning();
    return updated ?? null;
  }

  /** A delivery failed and is retried: counts the attempt and keeps its reason. */
  async recordAttemptFailure(tenantId: string, reason: string, now: string): Promise<void> {
    await this.db
      .update(tenantErasures)
      .set({ attempts: sql`${tenantErasures.attempts} + 1`, lastError: errorText(reason), updatedAt: now })
      .where(and(eq(tenantErasures.tenantId, tenantId), ne(tenantErasures.status, "completed")))
      .run();
  }

  /** The erasure's messages ran out of retries: it stops as failed, with why, until an operator restarts it. */
  async markFailed(tenantId: string, reason: string, now: string): Promise<void> {
    await this.db
      .update(tenantErasures)
      .set({ status: "failed", lastError: errorText(reason), updatedAt: now })
      .where(and(eq(tenantErasures.tenantId, tenantId), ne(tenantErasures.status, "completed")))
      .run();
  }

  /** Puts an unfinished erasure back in the queue's hands (a repeated DELETE); false when it completed. */
  async restart(tenantId: string, now: string): Promise<TenantErasureRow | null> {
    const [restarted] = await this.db
      .update(tenantErasures)
      .set({ status: "queued", updatedAt: now })
      .where(and(eq(tenantErasures.tenantId, tenantId), ne(tenantErasures.status, "completed")))
      .returning();
    return restarted ?? null;
  }

  /**
   * Unfinished erasures (queued or running) last changed before `cutoff`, oldest first, marked as
   * changed `now` so the next sweep leaves them alone while their new message runs.
   */
  async takeStale(cutoff: string, limit: number, now: string): Promise<string[]> {
    const stale = await this.db
      .select({ tenantId: tenantErasures.tenantId })
      .from(tenantErasures)
      .where(and(inArray(tenantErasures.status, ["queued", "running"]), lt(tenantErasures.updatedAt, cutoff)))
      .orderBy(asc(tenantErasures.updatedAt))
      .limit(limit)
      .all();
    const ids = stale.map((row) => row.tenantId);
    if (ids.length > 0) {
      await this.db
        .update(tenantErasures)
        .set({ updatedAt: now })
        .where(and(inArray(tenantErasures.tenantId, ids), lt(tenantErasures.updatedAt, cutoff)))
        .run();
    }
    return ids;
  }
}
