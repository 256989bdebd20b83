import type { SqlDatabase, SqlValue } from "../../shared/sql/sql-database";
import type { ArtifactRow } from "../../workers/db/schema";

/** One artifact of a job as the index stores it. */
export type ArtifactRecord = Omit<ArtifactRow, "tenantId">;

/** Where a content is stored: a range of a pack blob, or (packSha256 null) the blob named by its sha256. */
export type ContentLocation = Pick<ArtifactRecord, "packSha256" | "packOffset">;

/** A job's cumulative counts from its stored rows (the job's total is the ledger's). */
export interface IndexedProgress {
  done: number;
  skipped: number;
  bytes: number;
}

/** A written unit batch: its key, and how many of its units were skipped. */
export interface BatchRecord {
  key: string;
  skipped: number;
}

/**
 * A read of one job's rows. `legacy`: the platform database may hold rows of this job too (the index has
 * nothing for it, or it is marked as having rows there), so the caller merges those in.
 */
export interface JobRows<T> {
  rows: T[];
  legacy: boolean;
}

/** One job's legacy rows moved here by the migration; `complete` when no row of the job is left behind. */
export interface LegacyImport {
  jobId: string;
  rows: ArtifactRecord[];
  batches: BatchRecord[];
  complete: boolean;
}

/** Rows per page of a listing (a page with envelopes stays a few MB across the RPC boundary). */
export const MAX_ARTIFACT_PAGE = 1000;
/** Distinct contents looked up in one call (a batch's contents). */
export const MAX_CONTENT_LOOKUPS = 5000;

const COLUMNS =
  "id, job_id, path, sha256, size, mode, chmod, template_path, template_hash, dependencies, attestation_sha256, attestation, pack_sha256, pack_offset, created_at";
const SUMMARY_COLUMNS =
  "id, job_id, path, sha256, size, mode, chmod, template_path, template_hash, dependencies, attestation_sha256, NULL, pack_sha256, pack_offset, created_at";

/** The artifact index in the tenant's SQLite (see artifactIndexSchema). */
export class ArtifactIndexStore {
  constructor(private readonly db: SqlDatabase) {}

  /**
   * Inserts rows idempotently (a redelivered batch inserts nothing twice) and the batch's skipped count
   * once per key, in one transaction, then reads the job's totals of what is stored. `onInserted` sees the
   * rows that were new (a redelivered batch inserts none), in the same transaction.
   */
  record(
    jobId: string,
    rows: ArtifactRecord[],
    batch: BatchRecord | null,
    onInserted?: (inserted: ArtifactRecord[]) => void,
  ): IndexedProgress {
    for (const row of rows) {
      if (row.jobId !== jobId) throw new RangeError(`artifact ${row.id} belongs to job ${row.jobId}, not ${jobId}`);
    }
    return this.db.transaction(() => {
      const inserted = this.insertRows(jobId, rows);
      onInserted?.(inserted);
      if (batch) this.insertBatches(jobId, [batch]);
      return this.progress(jobId);
    });
  }

  /** Whether the batch's rows were recorded (its batch record is written last, with its final rows). */
  hasBatch(jobId: string, batchKey: string): boolean {
    return this.db.all("SELECT 1 FROM artifact_batch WHERE job_id = ? AND batch_key = ?", [jobId, batchKey]).length > 0;
  }

  /**
   * The job's counts of what is stored: artifacts, their bytes, skipped units of every written batch. Kept
   * as running totals by every write and delete of this store, so reading them costs the same at any size.
   */
  progress(jobId: string): IndexedProgress {
    const [total] = this.db.all("SELECT done, skipped, bytes FROM artifact_job_total WHERE job_id = ?", [jobId]);
    if (!total) return { done: 0, skipped: 0, bytes: 0 };
    const [done, skipped, bytes] = total as [number, number, number];
    return { done, skipped, bytes };
  }

  /** Where the tenant already stores each content (absent when it has none), through the sha256 index. */
  contentLocations(sha256s: string[]): Record<string, ContentLocation> {
    if (sha256s.length > MAX_CONTENT_LOOKUPS) throw new RangeError(`at most ${MAX_CONTENT_LOOKUPS} contents per call`);
    const found: Record<string, ContentLocation> = {};
    for (const sha256 of sha256s) {
      const [row] = this.db.all("SELECT pack_sha256, pack_offset FROM artifact WHERE sha256 = ? LIMIT 1", [sha256]);
      if (row) found[sha256] = { packSha256: row[0] as string | null, packOffset: row[1] as number | null };
    }
    return found;
  }

  /** Every output path of the job with the template that wrote it, by path. */
  outputPaths(jobId: string): JobRows<{ path: string; templatePath: string }> {
    const rows = this.db
      .all("SELECT path, template_path FROM artifact WHERE job_id = ? ORDER BY path", [jobId])
      .map(([path, templatePath]) => ({ path: path as string, templatePath: templatePath as string }));
    return { rows, legacy: this.mayHaveLegacyRows(jobId, rows.length > 0) };
  }

  /** A page of the job's rows by path after `afterPath`: at most `limit` rows (capped at MAX_ARTIFACT_PAGE). */
  list(jobId: string, limit: number, afterPath: string | null, withAttestation: boolean): JobRows<ArtifactRecord> {
    const params: SqlValue[] = [jobId];
    let where = "job_id = ?";
    if (afterPath !== null) {
      where += " AND path > ?";
      params.push(afterPath);
    }
    params.push(Math.min(Math.max(limit, 0), MAX_ARTIFACT_PAGE));
    const rows = this.db
      .all(
        `SELECT ${withAttestation ? COLUMNS : SUMMARY_COLUMNS} FROM artifact WHERE ${where} ORDER BY path LIMIT ?`,
        params,
      )
      .map(recordOf);
    return { rows, legacy: this.mayHaveLegacyRows(jobId, rows.length > 0) };
  }

  get(id: string): ArtifactRecord | null {
    const [row] = this.db.all(`SELECT ${COLUMNS} FROM artifact WHERE id = ?`, [id]);
    return row ? recordOf(row) : null;
  }

  /**
   * Every blob the rows reference, at most `limit` (callers ask for one more than they can hold, to notice
   * a cut): packs, contents stored before packs (their own blob), and attestations stored before they moved
   * into the rows. One pass over the artifact_pack index.
   */
  referencedBlobs(limit: number): { sha256: string; kind: "packs" | "attestations" }[] {
    return this.db.query<{ sha256: string; kind: "packs" | "attestations" }>(
      `SELECT DISTINCT coalesce(pack_sha256, sha256) AS sha256, 'packs' AS kind FROM artifact
       UNION SELECT attestation_sha256, 'attestations' FROM artifact WHERE pack_sha256 IS NULL AND attestation IS NULL
       LIMIT ?`,
      [limit],
    );
  }

  /** The blobs one job's rows reference (what expiring the job releases). */
  jobBlobs(jobId: string): string[] {
    return this.db
      .query<{ sha256: string }>(
        `SELECT coalesce(pack_sha256, sha256) AS sha256 FROM artifact WHERE job_id = ?
         UNION SELECT attestation_sha256 FROM artifact WHERE job_id = ? AND pack_sha256 IS NULL AND attestation IS NULL`,
        [jobId, jobId],
      )
      .map((row) => row.sha256);
  }

  /** Deletes a job's rows and batch records (retention); how many rows went. */
  forgetJob(jobId: string): number {
    return this.db.transaction(() => {
      const { changes } = this.db.run("DELETE FROM artifact WHERE job_id = ?", [jobId]);
      this.db.run("DELETE FROM artifact_batch WHERE job_id = ?", [jobId]);
      this.db.run("DELETE FROM artifact_job_total WHERE job_id = ?", [jobId]);
      this.db.run("DELETE FROM artifact_legacy_job WHERE job_id = ?", [jobId]);
      return changes;
    });
  }

  /** Records that the platform database holds rows of this job too (a job written on both sides of the move). */
  markLegacy(jobId: string): void {
    this.db.run("INSERT OR IGNORE INTO artifact_legacy_job (job_id) VALUES (?)", [jobId]);
  }

  /**
   * Moves legacy rows in: inserted idempotently, the job marked as having rows left in the platform database
   * until the import that carries its last row (`complete`). One transaction for every job of the call.
   */
  importLegacy(imports: LegacyImport[]): void {
    this.db.transaction(() => {
      for (const { jobId, rows, batches, complete } of imports) {
        for (const row of rows) {
          if (row.jobId !== jobId) throw new RangeError(`artifact ${row.id} belongs to job ${row.jobId}, not ${jobId}`);
        }
        this.insertRows(jobId, rows);
        this.insertBatches(jobId, batches);
        if (complete) this.db.run("DELETE FROM artifact_legacy_job WHERE job_id = ?", [jobId]);
        else this.markLegacy(jobId);
      }
    });
  }

  /** Whether a read of the job must also look in the platform database. */
  private mayHaveLegacyRows(jobId: string, hasRows: boolean): boolean {
    if (this.db.all("SELECT 1 FROM artifact_legacy_job WHERE job_id = ?", [jobId]).length > 0) return true;
    if (hasRows) return false;
    const known =
      this.db.all("SELECT 1 FROM artifact WHERE job_id = ? LIMIT 1", [jobId]).length > 0 ||
      this.db.all("SELECT 1 FROM artifact_batch WHERE job_id = ? LIMIT 1", [jobId]).length > 0;
    return !known;
  }

  /** Inserts the job's rows not stored yet and adds them to its totals; returns the ones inserted. */
  private insertRows(jobId: string, rows: ArtifactRecord[]): ArtifactRecord[] {
    const inserted = rows.filter(
      (row) =>
        this.db.run(
          `INSERT OR IGNORE INTO artifact (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [
            row.id,
            row.jobId,
            row.path,
            row.sha256,
            row.size,
            row.mode,
            row.chmod,
            row.templatePath,
            row.templateHash,
            JSON.stringify(row.dependencies),
            row.attestationSha256,
            row.attestation,
            row.packSha256,
            row.packOffset,
            row.createdAt,
          ],
        ).changes > 0,
    );
    if (inserted.length > 0) {
      const bytes = inserted.reduce((sum, row) => sum + row.size, 0);
      this.addToTotal(jobId, inserted.length, bytes, 0);
    }
    return inserted;
  }

  /** Inserts the batch records not stored yet and adds their skipped units to the job's total. */
  private insertBatches(jobId: string, batches: BatchRecord[]): void {
    let skipped = 0;
    for (const batch of batches) {
      const { changes } = this.db.run(
        "INSERT OR IGNORE INTO artifact_batch (job_id, batch_key, skipped) VALUES (?, ?, ?)",
        [jobId, batch.key, batch.skipped],
      );
      if (changes > 0) skipped += batch.skipped;
    }
    if (skipped > 0) this.addToTotal(jobId, 0, 0, skipped);
  }

  private addToTotal(jobId: string, done: number, bytes: number, skipped: number): void {
    this.db.run(
      `INSERT INTO artifact_job_total (job_id, done, bytes, skipped) VALUES (?, ?, ?, ?)
       ON CONFLICT (job_id) DO UPDATE SET
         done = done + excluded.done, bytes = bytes + excluded.bytes, skipped = skipped + excluded.skipped`,
      [jobId, done, bytes, skipped],
    );
  }
}

function recordOf(row: unknown[]): ArtifactRecord {
  const [
    id,
    jobId,
    path,
    sha256,
    size,
    mode,
    chmod,
    templatePath,
    templateHash,
    dependencies,
    attestationSha256,
    attestation,
    packSha256,
    packOffset,
    createdAt,
  ] = row;
  return {
    id: id as string,
    jobId: jobId as string,
    path: path as string,
    sha256: sha256 as string,
    size: size as number,
    mode: mode as string,
    chmod: chmod as string | null,
    templatePath: templatePath as string,
    templateHash: templateHash as string,
    dependencies: JSON.parse(dependencies as string) as ArtifactRecord["dependencies"],
    attestationSha256: attestationSha256 as string,
    attestation: attestation as string | null,
    packSha256: packSha256 as string | null,
    packOffset: packOffset as number | null,
    createdAt: createdAt as string,
  };
}
