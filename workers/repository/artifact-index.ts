import { and, eq, gte, lt, sql } from "drizzle-orm";
import {
  type ArtifactRecord,
  type ContentLocation,
  type JobRows,
  MAX_ARTIFACT_PAGE,
  MAX_CONTENT_LOOKUPS,
} from "../../durable-objects/tenant/artifact-index-store";
import type { BatchProgressEvent } from "../../durable-objects/tenant/job-progress-event";
import type { QuotaReservation } from "../../durable-objects/tenant/quota-counters";
import type { ReserveQuotaInput } from "../../durable-objects/tenant-object";
import { database } from "../db/client";
import { artifacts, jobBatches, jobs, releasedBlobs, type TenantRow } from "../db/schema";
import { tenantObject } from "../tenant-object-stub";
import { JobLedger, type JobProgress } from "./jobs";
import { LegacyArtifactRows } from "./legacy-artifacts";

export type { ArtifactRecord, ContentLocation } from "../../durable-objects/tenant/artifact-index-store";

/**
 * Serialized bytes of rows sent to the tenant's object in one call: a batch of artifacts with their
 * envelopes is far below it, so a batch is one call; a larger write is split, its batch record last.
 */
const MAX_RECORD_CALL_BYTES = 8 * 1024 * 1024;
/** Per-row bytes besides the envelope and dependencies (ids, hashes, paths, numbers). */
const ROW_OVERHEAD_BYTES = 1024;

/**
 * The artifact index of one tenant: every written artifact of every job, with its attestation, and
 * where the tenant stores each content. It lives in the tenant's Durable Object; rows written before it
 * moved there are read from the platform database until the migration has moved them. The only module
 * that knows where the index is kept.
 */
export class ArtifactIndex {
  constructor(
    private readonly env: Env,
    private readonly tenant: Pick<TenantRow, "id" | "jurisdiction">,
  ) {}

  get tenantId(): string {
    return this.tenant.id;
  }

  private get stub() {
    return tenantObject(this.env, this.tenant);
  }

  private get legacy(): LegacyArtifactRows {
    return new LegacyArtifactRows(database(this.env.DB), this.tenant.id);
  }

  /**
   * Writes artifact rows idempotently (a redelivered batch inserts nothing twice) in one call to the
   * tenant's object, which recounts the job's progress from the rows themselves, so counts can never drift
   * from what is stored, and appends the batch's `progress` event with them; then the job's row takes
   * those counts (one statement).
   */
  async record(
    jobId: string,
    rows: ArtifactRecord[],
    batch: { key: string; skipped: number },
    now: string,
    progress: BatchProgressEvent | null = null,
  ): Promise<JobProgress> {
    const chunks = chunksOf(rows);
    let indexed = { done: 0, skipped: 0, bytes: 0 };
    for (const [index, chunk] of chunks.entries()) {
      const last = index === chunks.length - 1;
      indexed = await this.stub.artifactRecord(jobId, chunk, last ? batch : null, last ? progress : null);
    }
    const recorded = await new JobLedger(database(this.env.DB), this.tenant.id).recordProgress(jobId, indexed, now);
    if (!recorded) return { ...indexed, total: 0 };
    if (recorded.legacyRows > 0) await this.stub.artifactMarkLegacy(jobId);
    return recorded.progress;
  }

  /**
   * Where the tenant already stores each of these contents (one location per sha256 it has; absent when
   * new). A location with a null pack is the blob named by the sha256 itself (rows from before packs).
   * Contents only legacy rows reference are not found until the migration moved them (stored once more).
   */
  async contentLocations(sha256s: string[], from = 0): Promise<Map<string, ContentLocation>> {
    const found = new Map<string, ContentLocation>();
    for (let start = from; start < sha256s.length; start += MAX_CONTENT_LOOKUPS) {
      const page = await this.stub.artifactContentLocations(sha256s.slice(start, start + MAX_CONTENT_LOOKUPS));
      for (const [sha256, location] of Object.entries(page)) found.set(sha256, location);
    }
    return found;
  }

  /**
   * A batch's artifact bytes reserved and, once granted, the locations of its contents (as
   * contentLocations): one call to the tenant's object for a batch of up to MAX_CONTENT_LOOKUPS contents.
   */
  async prepareBatch(
    reservation: ReserveQuotaInput,
    sha256s: string[],
  ): Promise<{ reservation: QuotaReservation; locations: Map<string, ContentLocation> }> {
    const first = await this.stub.artifactPrepareBatch({ reservation, sha256s: sha256s.slice(0, MAX_CONTENT_LOOKUPS) });
    if (!first.reservation.granted) return { reservation: first.reservation, locations: new Map() };
    const locations = await this.contentLocations(sha256s, MAX_CONTENT_LOOKUPS);
    for (const [sha256, location] of Object.entries(first.locations)) locations.set(sha256, location);
    return { reservation: first.reservation, locations };
  }

  /** Every output path of a job with the template that wrote it, by path (for checks across batches). */
  async outputPathsOf(jobId: string): Promise<{ path: string; templatePath: string }[]> {
    const indexed = await this.stub.artifactOutputPaths(jobId);
    if (!indexed.legacy) return indexed.rows;
    return mergeByPath(indexed.rows, await this.legacy.outputPaths(jobId), Number.POSITIVE_INFINITY);
  }

  /**
   * A job's artifacts by path, at most `limit + 1` (the extra one tells the caller there is a next page);
   * without their attestation text unless asked (a listing does not need it).
   */
  async list(
    jobId: string,
    limit: number,
    afterPath?: string,
    options: { withAttestation?: boolean } = {},
  ): Promise<ArtifactRecord[]> {
    const wanted = limit + 1;
    const withAttestation = options.withAttestation ?? false;
    const indexed = await this.indexedRows(jobId, wanted, afterPath, withAttestation);
    if (!indexed.legacy) return indexed.rows;
    return mergeByPath(indexed.rows, await this.legacy.list(jobId, wanted, afterPath, withAttestation), wanted);
  }

  async get(id: string): Promise<ArtifactRecord | undefined> {
    return (await this.stub.artifactGet(id)) ?? (await this.legacy.get(id));
  }

  /**
   * Deletes an expired job: its artifact rows, its batch rows and the job row, in one transaction, and records
   * the blobs those rows referenced as released at `now` (see releasedSince). Nothing changes when the job was
   * pinned, or is no longer completed or failed, by then. The deleted job's artifact bytes and generator, null
   * when nothing was deleted.
   * The D1 part (job row, rows still there from before the index moved, release records of every blob the
   * job's rows reference wherever they are) is one transaction that checks the pin again; the rows in the
   * tenant's object go right after. A crash between the two leaves rows no job owns: their blobs stay
   * referenced and are never collected, which costs space, not correctness.
   */
  async expireJob(jobId: string, now: string): Promise<{ bytes: number; generator: string } | null> {
    const db = database(this.env.DB);
    const indexedBlobs = await this.stub.artifactJobBlobs(jobId);
    const expirable = sql`exists (select 1 from ${jobs} where ${jobs.tenantId} = ${this.tenant.id} and ${jobs.id} = ${jobId}
      and ${jobs.pinned} = 0 and ${jobs.status} in ('completed', 'failed'))`;
    const ofJob = and(eq(artifacts.tenantId, this.tenant.id), eq(artifacts.jobId, jobId));
    const results = await db.batch([
      db
        .insert(releasedBlobs)
        .select(
          sql`select ${this.tenant.id}, blob.value, ${now} from json_each(${JSON.stringify(indexedBlobs)}) as blob where ${expirable}`,
        )
        .onConflictDoUpdate({
          target: [releasedBlobs.tenantId, releasedBlobs.sha256],
          set: { releasedAt: sql`excluded.released_at` },
        }),
      db
        .insert(releasedBlobs)
        .select(
          sql`select ${this.tenant.id}, coalesce(${artifacts.packSha256}, ${artifacts.sha256}), ${now}
            from ${artifacts} where ${ofJob} and ${expirable}
          union select ${this.tenant.id}, ${artifacts.attestationSha256}, ${now}
            from ${artifacts} where ${ofJob} and ${artifacts.attestation} is null and ${expirable}`,
        )
        .onConflictDoUpdate({
          target: [releasedBlobs.tenantId, releasedBlobs.sha256],
          set: { releasedAt: sql`excluded.released_at` },
        }),
      db.delete(artifacts).where(and(ofJob, expirable)),
      db.delete(jobBatches).where(and(eq(jobBatches.tenantId, this.tenant.id), eq(jobBatches.jobId, jobId), expirable)),
      db
        .delete(jobs)
        .where(and(eq(jobs.tenantId, this.tenant.id), eq(jobs.id, jobId), expirable))
        .returning({ bytes: jobs.bytes, generator: jobs.generator }),
    ]);
    const expired = (results[4] as { bytes: number; generator: string }[])[0] ?? null;
    if (expired) await this.stub.artifactForgetJob(jobId);
    return expired;
  }
  /**
   * Every blob the index references, at most `limit` (callers ask for one more than they can hold, to
   * notice a cut): the packs, the contents stored before packs (their own blob), and the attestations stored
   * before they moved into the rows. One query in the tenant's object, one over the rows still in D1.
   */
  async referencedBlobs(limit: number): Promise<{ sha256: string; kind: "packs" | "attestations" }[]> {
    const db = database(this.env.DB);
    const [indexed, legacy] = await Promise.all([
      this.stub.artifactReferencedBlobs(limit),
      db.all<{ sha256: string; kind: "packs" | "attestations" }>(sql`
      select distinct coalesce(${artifacts.packSha256}, ${artifacts.sha256}) as sha256, 'packs' as kind
        from ${artifacts} where ${artifacts.tenantId} = ${this.tenant.id}
      union select ${artifacts.attestationSha256}, 'attestations' from ${artifacts}
        where ${artifacts.tenantId} = ${this.tenant.id} and ${artifacts.packSha256} is null and ${artifacts.attestation} is null
      limit ${limit}`),
    ]);
    const seen = new Map<string, { sha256: string; kind: "packs" | "attestations" }>();
    for (const blob of [...indexed, ...legacy]) seen.set(`${blob.kind}:${blob.sha256}`, blob);
    return [...seen.values()].slice(0, limit);
  }
  /** Blobs released since `since` (ISO 8601), at most `limit`: a writer may still be recording rows into them. */
  async releasedSince(since: string, limit: number): Promise<string[]> {
    const db = database(this.env.DB);
    const rows = await db
      .select({ sha256: releasedBlobs.sha256 })
      .from(releasedBlobs)
      .where(and(eq(releasedBlobs.tenantId, this.tenant.id), gte(releasedBlobs.releasedAt, since)))
      .limit(limit)
      .all();
    return rows.map((row) => row.sha256);
  }
  /** Forgets releases older than `before` (their grace is over). */
  async forgetReleasesBefore(before: string): Promise<void> {
    const db = database(this.env.DB);
    await db
      .delete(releasedBlobs)
      .where(and(eq(releasedBlobs.tenantId, this.tenant.id), lt(releasedBlobs.releasedAt, before)));
  }

  /** Up to `wanted` indexed rows of the job after `afterPath`, page by page; `legacy` as the object answered. */
  private async indexedRows(
    jobId: string,
    wanted: number,
    afterPath: string | undefined,
    withAttestation: boolean,
  ): Promise<JobRows<ArtifactRecord>> {
    const rows: ArtifactRecord[] = [];
    let after = afterPath ?? null;
    let legacy = false;
    for (let first = true; rows.length < wanted; first = false) {
      const pageSize = Math.min(wanted - rows.length, MAX_ARTIFACT_PAGE);
      const page = (await this.stub.artifactList(jobId, pageSize, after, withAttestation)) as JobRows<ArtifactRecord>;
      if (first) legacy = page.legacy;
      rows.push(...page.rows);
      const last = page.rows[page.rows.length - 1];
      if (page.rows.length < pageSize || !last) break;
      after = last.path;
    }
    return { rows, legacy };
  }
}

/** Rows of both places by path, each path once (a row moved but not yet deleted is in both), at most `limit`. */
function mergeByPath<T extends { path: string }>(a: T[], b: T[], limit: number): T[] {
  const byPath = new Map<string, T>();
  for (const row of [...a, ...b]) if (!byPath.has(row.path)) byPath.set(row.path, row);
  return [...byPath.values()].sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0)).slice(0, limit);
}

/** Rows split so that no call carries more than MAX_RECORD_CALL_BYTES; at least one (possibly empty) chunk. */
function chunksOf(rows: ArtifactRecord[]): ArtifactRecord[][] {
  const chunks: ArtifactRecord[][] = [[]];
  let bytes = 0;
  for (const row of rows) {
    const rowBytes = ROW_OVERHEAD_BYTES + (row.attestation?.length ?? 0) + JSON.stringify(row.dependencies).length;
    const current = chunks[chunks.length - 1] as ArtifactRecord[];
    if (current.length > 0 && bytes + rowBytes > MAX_RECORD_CALL_BYTES) {
      chunks.push([row]);
      bytes = rowBytes;
    } else {
      current.push(row);
      bytes += rowBytes;
    }
  }
  return chunks;
}
