import { and, asc, eq, getTableColumns, gt, gte, lt, sql } from "drizzle-orm";
import { type Database, database } from "../db/client";
import { type ArtifactRow, artifacts, jobBatches, jobs, releasedBlobs } from "../db/schema";
import type { JobProgress } from "./jobs";

/** D1 statements in one batch when writing artifact rows (each row is one statement). */
const ARTIFACT_BATCH = 50;

/** One artifact of a job as the index stores it. */
export type ArtifactRecord = Omit<ArtifactRow, "tenantId">;

/** Where a content is stored: a range of a pack blob, or (packSha256 null) the blob named by its sha256. */
export type ContentLocation = Pick<ArtifactRow, "packSha256" | "packOffset">;

/**
 * The artifact index of one tenant: every written artifact of every job, with its attestation, and
 * where the tenant stores each content. The only module that knows where the index is kept.
 */
export class ArtifactIndex {
  private readonly db: Database;

  constructor(
    env: Env,
    readonly tenantId: string,
  ) {
    this.db = database(env.DB);
  }

  /**
   * Writes artifact rows idempotently (a redelivered batch inserts nothing twice) and recomputes the
   * job's progress from the rows themselves, so counts can never drift from what is stored.
   */
  async record(
    jobId: string,
    rows: ArtifactRecord[],
    batch: { key: string; skipped: number },
    now: string,
  ): Promise<JobProgress> {
    const inserts = rows.map((row) =>
      this.db
        .insert(artifacts)
        .values({ ...row, tenantId: this.tenantId })
        .onConflictDoNothing(),
    );
    // The recount reads only the artifacts_job_progress_idx index; it runs after the last chunk of rows,
    // in the same batch (one round trip, one transaction).
    const recordBatch = this.db
      .insert(jobBatches)
      .values({ tenantId: this.tenantId, jobId, batchKey: batch.key, skipped: batch.skipped })
      .onConflictDoNothing();
    const progress = this.db
      .update(jobs)
      .set({
        done: sql`(select count(*) from ${artifacts} where ${artifacts.jobId} = ${jobId} and ${artifacts.tenantId} = ${this.tenantId})`,
        bytes: sql`(select coalesce(sum(${artifacts.size}), 0) from ${artifacts} where ${artifacts.jobId} = ${jobId} and ${artifacts.tenantId} = ${this.tenantId})`,
        skipped: sql`(select coalesce(sum(${jobBatches.skipped}), 0) from ${jobBatches} where ${jobBatches.tenantId} = ${this.tenantId} and ${jobBatches.jobId} = ${jobId})`,
        updatedAt: now,
      })
      .where(and(eq(jobs.tenantId, this.tenantId), eq(jobs.id, jobId)))
      .returning({ done: jobs.done, skipped: jobs.skipped, total: jobs.total, bytes: jobs.bytes });
    let start = 0;
    for (; start + ARTIFACT_BATCH < inserts.length; start += ARTIFACT_BATCH) {
      const [first, ...rest] = inserts.slice(start, start + ARTIFACT_BATCH);
      if (first) await this.db.batch([first, ...rest]);
    }
    const [head, ...tail] = inserts.slice(start);
    const results = await (head
      ? this.db.batch([head, ...tail, recordBatch, progress])
      : this.db.batch([recordBatch, progress]));
    const [counts] = results[results.length - 1] as JobProgress[];
    return counts ?? { done: 0, skipped: 0, total: 0, bytes: 0 };
  }

  /**
   * Where the tenant already stores each of these contents (one location per sha256 it has; absent when
   * new). A location with a null pack is the blob named by the sha256 itself (rows from before packs).
   */
  async contentLocations(sha256s: string[]): Promise<Map<string, ContentLocation>> {
    const found = new Map<string, ContentLocation>();
    if (sha256s.length === 0) return found;
    // One row per wanted sha256 through the (tenant_id, sha256) index, however many jobs share it.
    const rows = await this.db.all<{ sha256: string; pack_sha256: string | null; pack_offset: number | null }>(
      sql`select ${artifacts.sha256}, ${artifacts.packSha256}, ${artifacts.packOffset} from json_each(${JSON.stringify(sha256s)}) as wanted
        join ${artifacts} on ${artifacts}.rowid = (select rowid from ${artifacts} where ${artifacts.tenantId} = ${this.tenantId} and ${artifacts.sha256} = wanted.value limit 1)`,
    );
    for (const row of rows) found.set(row.sha256, { packSha256: row.pack_sha256, packOffset: row.pack_offset });
    return found;
  }

  /** Every output path of a job with the template that wrote it, by path (for checks across batches). */
  async outputPathsOf(jobId: string): Promise<{ path: string; templatePath: string }[]> {
    return this.db
      .select({ path: artifacts.path, templatePath: artifacts.templatePath })
      .from(artifacts)
      .where(and(eq(artifacts.tenantId, this.tenantId), eq(artifacts.jobId, jobId)))
      .orderBy(asc(artifacts.path))
      .all();
  }

  /** A job's artifacts by path; without their attestation text unless asked (a listing does not need it). */
  async list(
    jobId: string,
    limit: number,
    afterPath?: string,
    options: { withAttestation?: boolean } = {},
  ): Promise<ArtifactRecord[]> {
    const { attestation, ...summary } = getTableColumns(artifacts);
    return this.db
      .select({ ...summary, attestation: options.withAttestation ? attestation : sql<null>`null` })
      .from(artifacts)
      .where(
        and(
          eq(artifacts.tenantId, this.tenantId),
          eq(artifacts.jobId, jobId),
          afterPath === undefined ? undefined : gt(artifacts.path, afterPath),
        ),
      )
      .orderBy(asc(artifacts.path))
      .limit(limit + 1)
      .all();
  }

  async get(id: string): Promise<ArtifactRecord | undefined> {
    return this.db
      .select()
      .from(artifacts)
      .where(and(eq(artifacts.tenantId, this.tenantId), eq(artifacts.id, id)))
      .get();
  }

  /**
   * Deletes an expired job: its artifact rows, its batch rows and the job row, in one transaction, and records
   * the blobs those rows referenced as released at `now` (see releasedSince). Nothing changes when the job was
   * pinned, or is no longer completed or failed, by then. The deleted job's artifact bytes and generator, null
   * when nothing was deleted.
   */
  async expireJob(jobId: string, now: string): Promise<{ bytes: number; generator: string } | null> {
    const expirable = sql`exists (select 1 from ${jobs} where ${jobs.tenantId} = ${this.tenantId} and ${jobs.id} = ${jobId}
      and ${jobs.pinned} = 0 and ${jobs.status} in ('completed', 'failed'))`;
    const ofJob = and(eq(artifacts.tenantId, this.tenantId), eq(artifacts.jobId, jobId));
    const results = await this.db.batch([
      this.db
        .insert(releasedBlobs)
        .select(
          sql`select ${this.tenantId}, coalesce(${artifacts.packSha256}, ${artifacts.sha256}), ${now}
            from ${artifacts} where ${ofJob} and ${expirable}
          union select ${this.tenantId}, ${artifacts.attestationSha256}, ${now}
            from ${artifacts} where ${ofJob} and ${artifacts.attestation} is null and ${expirable}`,
        )
        .onConflictDoUpdate({
          target: [releasedBlobs.tenantId, releasedBlobs.sha256],
          set: { releasedAt: sql`excluded.released_at` },
        }),
      this.db.delete(artifacts).where(and(ofJob, expirable)),
      this.db
        .delete(jobBatches)
        .where(and(eq(jobBatches.tenantId, this.tenantId), eq(jobBatches.jobId, jobId), expirable)),
      this.db
        .delete(jobs)
        .where(and(eq(jobs.tenantId, this.tenantId), eq(jobs.id, jobId), expirable))
        .returning({ bytes: jobs.bytes, generator: jobs.generator }),
    ]);
    return (results[3] as { bytes: number; generator: string }[])[0] ?? null;
  }

  /**
   * Every blob the index references, at most `limit` (callers ask for one more than they can hold, to
   * notice a cut): the packs, the contents stored before packs (their own blob), and the attestations stored
   * before they moved into the rows. One query through artifacts_tenant_pack_idx.
   */
  async referencedBlobs(limit: number): Promise<{ sha256: string; kind: "packs" | "attestations" }[]> {
    return this.db.all<{ sha256: string; kind: "packs" | "attestations" }>(sql`
      select distinct coalesce(${artifacts.packSha256}, ${artifacts.sha256}) as sha256, 'packs' as kind
        from ${artifacts} where ${artifacts.tenantId} = ${this.tenantId}
      union select ${artifacts.attestationSha256}, 'attestations' from ${artifacts}
        where ${artifacts.tenantId} = ${this.tenantId} and ${artifacts.packSha256} is null and ${artifacts.attestation} is null
      limit ${limit}`);
  }

  /** Blobs released since `since` (ISO 8601), at most `limit`: a writer may still be recording rows into them. */
  async releasedSince(since: string, limit: number): Promise<string[]> {
    const rows = await this.db
      .select({ sha256: releasedBlobs.sha256 })
      .from(releasedBlobs)
      .where(and(eq(releasedBlobs.tenantId, this.tenantId), gte(releasedBlobs.releasedAt, since)))
      .limit(limit)
      .all();
    return rows.map((row) => row.sha256);
  }

  /** Forgets releases older than `before` (their grace is over). */
  async forgetReleasesBefore(before: string): Promise<void> {
    await this.db
      .delete(releasedBlobs)
      .where(and(eq(releasedBlobs.tenantId, this.tenantId), lt(releasedBlobs.releasedAt, before)));
  }

  /**
   * Tenant erasure: deletes up to `limit` of the tenant's artifact rows, in one statement, and returns
   * how many; fewer than `limit` means none are left.
   */
  async erasePage(limit: number): Promise<number> {
    const result = await this.db.run(
      sql`delete from ${artifacts} where rowid in (select rowid from ${artifacts} where ${artifacts.tenantId} = ${this.tenantId} limit ${limit})`,
    );
    return result.meta.changes ?? 0;
  }
}
