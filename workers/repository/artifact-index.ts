import {
  type ArtifactRecord,
  type ContentLocation,
  type JobRows,
  MAX_ARTIFACT_PAGE,
  MAX_CONTENT_LOOKUPS,
} from "../../durable-objects/tenant/artifact-index-store";
import { database } from "../db/client";
import type { TenantRow } from "../db/schema";
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
   * from what is stored; then the job's row takes those counts (one statement).
   */
  async record(
    jobId: string,
    rows: ArtifactRecord[],
    batch: { key: string; skipped: number },
    now: string,
  ): Promise<JobProgress> {
    const chunks = chunksOf(rows);
    let indexed = { done: 0, skipped: 0, bytes: 0 };
    for (const [index, chunk] of chunks.entries()) {
      indexed = await this.stub.artifactRecord(jobId, chunk, index === chunks.length - 1 ? batch : null);
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
  async contentLocations(sha256s: string[]): Promise<Map<string, ContentLocation>> {
    const found = new Map<string, ContentLocation>();
    for (let start = 0; start < sha256s.length; start += MAX_CONTENT_LOOKUPS) {
      const page = await this.stub.artifactContentLocations(sha256s.slice(start, start + MAX_CONTENT_LOOKUPS));
      for (const [sha256, location] of Object.entries(page)) found.set(sha256, location);
    }
    return found;
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
