import { and, desc, eq, inArray, lt, or, sql } from "drizzle-orm";
import type { IndexedProgress } from "../../durable-objects/tenant/artifact-index-store";
import type { Database } from "../db/client";
import { artifacts, type JobRow, jobBatches, jobs } from "../db/schema";

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
    return this.findQuery(id).get();
  }

  /** The query of find, to send in one batch with others (one round trip); its rows hold the job or nothing. */
  findQuery(id: string) {
    return this.db
      .select()
      .from(jobs)
      .where(and(eq(jobs.tenantId, this.tenantId), eq(jobs.id, id)));
  }

  /** The newest completed job with this lock hash: what a lock stands for once generated (same lock, same bytes). */
  async latestCompletedWithLockHash(lockHash: string): Promise<JobRow | undefined> {
    return this.db
      .select()
      .from(jobs)
      .where(
        and(
          eq(jobs.tenantId, this.tenantId),
          eq(jobs.lockHash, lockHash),
          eq(jobs.status, "completed"),
          eq(jobs.dryRun, false),
        ),
      )
      .orderBy(desc(jobs.createdAt), desc(jobs.id))
      .limit(1)
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

  /**
   * Sets the job's counters from the artifact index's counts after a written batch, in one statement.
   * Counters only grow (batches of a job may report out of order). Rows of the job still in the legacy
   * `artifacts`/`job_batches` tables (a job in flight when the index moved) are added, and reported, so the
   * index can mark the job as read from both places.
   */
  async recordProgress(
    id: string,
    indexed: IndexedProgress,
    now: string,
  ): Promise<{ progress: JobProgress; legacyRows: number } | undefined> {
    const legacyArtifacts = sql`from ${artifacts} where ${artifacts.jobId} = ${id} and ${artifacts.tenantId} = ${this.tenantId}`;
    const legacyBatches = sql`from ${jobBatches} where ${jobBatches.tenantId} = ${this.tenantId} and ${jobBatches.jobId} = ${id}`;
    const [row] = await this.db.all<JobProgress & { legacy_rows: number }>(sql`
      update ${jobs} set
        done = max(done, ${indexed.done} + (select count(*) ${legacyArtifacts})),
        bytes = max(bytes, ${indexed.bytes} + (select coalesce(sum(${artifacts.size}), 0) ${legacyArtifacts})),
        skipped = max(skipped, ${indexed.skipped} + (select coalesce(sum(${jobBatches.skipped}), 0) ${legacyBatches})),
        updated_at = ${now}
      where ${jobs.tenantId} = ${this.tenantId} and ${jobs.id} = ${id}
      returning done, skipped, total, bytes,
        (select count(*) ${legacyArtifacts}) + (select count(*) ${legacyBatches}) as legacy_rows`);
    if (!row) return undefined;
    const { legacy_rows, ...progress } = row;
    return { progress, legacyRows: legacy_rows };
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

  /** Pins or unpins a job (a pinned job never expires); the updated row, undefined when the tenant has no such job. */
  async setPinned(id: string, pinned: boolean): Promise<JobRow | undefined> {
    return this.db
      .update(jobs)
      .set({ pinned })
      .where(and(eq(jobs.tenantId, this.tenantId), eq(jobs.id, id)))
      .returning()
      .get();
  }

  /**
   * Jobs retention may expire, oldest first, at most `limit`: unpinned completed jobs beyond the newest
   * `keptPerGenerator` of their generator (pinned ones count among the newest), and unpinned failed jobs last
   * changed before `failedBefore`. Queued and running jobs never expire.
   */
  async expired(
    policy: { keptPerGenerator: number; failedBefore: string },
    limit: number,
  ): Promise<{ id: string; artifacts: number }[]> {
    return this.db.all<{ id: string; artifacts: number }>(sql`
      select id, artifacts, created_at from (
        select ${jobs.id} as id, ${jobs.done} as artifacts, ${jobs.pinned} as pinned, ${jobs.createdAt} as created_at,
          row_number() over (partition by ${jobs.generator} order by ${jobs.createdAt} desc, ${jobs.id} desc) as newest
        from ${jobs} where ${jobs.tenantId} = ${this.tenantId} and ${jobs.status} = 'completed'
      ) where pinned = 0 and newest > ${policy.keptPerGenerator}
      union all
      select ${jobs.id}, ${jobs.done}, ${jobs.createdAt} from ${jobs}
        where ${jobs.tenantId} = ${this.tenantId} and ${jobs.status} = 'failed' and ${jobs.pinned} = 0
          and ${jobs.updatedAt} < ${policy.failedBefore}
      order by 3, 1
      limit ${limit}`);
  }

  /** Every template hash the locks of the tenant's jobs name (the sources a retained job can be replayed from). */
  async lockedTemplateHashes(limit: number): Promise<string[]> {
    const rows = await this.db.all<{ hash: string }>(sql`
      select distinct template.value as hash from ${jobs}, json_each(${jobs.lock}, '$.generator.templates') as template
      where ${jobs.tenantId} = ${this.tenantId} limit ${limit}`);
    return rows.map((row) => row.hash);
  }

  /** Every graph version the locks of the tenant's jobs pin, at most `limit` (numbered versions only). */
  async lockedGraphVersions(limit: number): Promise<{ graph: string; version: number }[]> {
    return this.db.all<{ graph: string; version: number }>(sql`
      select distinct json_extract(${jobs.lock}, '$.graph.name') as graph, json_extract(${jobs.lock}, '$.graph.version') as version
      from ${jobs} where ${jobs.tenantId} = ${this.tenantId} and json_type(${jobs.lock}, '$.graph.version') = 'integer'
      limit ${limit}`);
  }
  /** The newest completed job of `generator` over `graph` with these params (by the hash its lock records). */
  async latestCompleted(graph: string, generator: string, paramsHash: string): Promise<JobRow | undefined> {
    return this.db
      .select()
      .from(jobs)
      .where(
        and(
          eq(jobs.tenantId, this.tenantId),
          eq(jobs.status, "completed"),
          eq(jobs.dryRun, false),
          sql`json_extract(${jobs.lock}, '$.graph.name') = ${graph}`,
          sql`json_extract(${jobs.lock}, '$.generator.name') = ${generator}`,
          sql`json_extract(${jobs.lock}, '$.paramsHash') = ${paramsHash}`,
        ),
      )
      .orderBy(desc(jobs.createdAt), desc(jobs.id))
      .limit(1)
      .get();
  }
}
