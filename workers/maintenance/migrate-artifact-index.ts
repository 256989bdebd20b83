import type { ArtifactRecord, LegacyImport } from "../../durable-objects/tenant/artifact-index-store";
import { type Database, database } from "../db/client";
import { tenantObject } from "../tenant-object-stub";
import { readCursor, writeCursor } from "./tenant-cursor";

/** Legacy artifact rows one cron run moves (a few MB read from D1 and sent to tenant objects). */
export const LEGACY_ROWS_PER_RUN = 500;
/** Legacy batch records (skipped counts) one cron run moves. */
export const LEGACY_BATCHES_PER_RUN = 1000;
const ARTIFACTS_TASK = "artifact-index-migration";
const BATCHES_TASK = "artifact-index-migration-batches";

export interface ArtifactMigrationRun {
  /** Artifact rows moved into tenant objects and deleted from D1 by this run. */
  movedArtifacts: number;
  /** Batch records moved and deleted by this run. */
  movedBatches: number;
  /** Tenants whose import failed (their rows stay in D1, readable there, for a later run). */
  failed: number;
  /** Where the next run starts in the artifacts table: at this job id, or at the start when empty. */
  nextPosition: string;
}

interface LegacyArtifactRow {
  id: string;
  tenant_id: string;
  jurisdiction: string | null;
  job_id: string;
  path: string;
  sha256: string;
  size: number;
  mode: string;
  chmod: string | null;
  template_path: string;
  template_hash: string;
  dependencies: string;
  attestation_sha256: string;
  attestation: string | null;
  pack_sha256: string | null;
  pack_offset: number | null;
  created_at: string;
}

interface LegacyBatchRow {
  tenant_id: string;
  jurisdiction: string | null;
  job_id: string;
  batch_key: string;
  skipped: number;
}

/**
 * Moves artifact rows written before the index lived in the tenant's object out of D1 (`artifacts`, then
 * `job_batches`), a bounded page per run: each tenant's rows go to its object in one idempotent call, and
 * only then are deleted from D1. Until a job's last row has moved its object marks it as read from both
 * places, so every artifact stays readable whatever run fails where. Only rows of finished jobs move (a
 * running job's counters still add its legacy rows, see JobLedger.recordProgress).
 */
export async function migrateArtifactIndex(
  env: Env,
  scheduledTime: number,
  limits: { rows?: number; batches?: number } = {},
): Promise<ArtifactMigrationRun> {
  const db = database(env.DB);
  const now = new Date(scheduledTime).toISOString();
  const artifacts = await moveArtifactRows(env, db, limits.rows ?? LEGACY_ROWS_PER_RUN, now);
  const batches = await moveBatchRows(env, db, limits.batches ?? LEGACY_BATCHES_PER_RUN, now);
  return {
    movedArtifacts: artifacts.moved,
    movedBatches: batches.moved,
    failed: artifacts.failed + batches.failed,
    nextPosition: artifacts.nextPosition,
  };
}

async function moveArtifactRows(
  env: Env,
  db: Database,
  limit: number,
  now: string,
): Promise<{ moved: number; failed: number; nextPosition: string }> {
  const after = await readCursor(db, ARTIFACTS_TASK);
  // One row more than the page: it tells whether the page's last job has rows left after it.
  const rows = await env.DB.prepare(
    `SELECT a.*, t.jurisdiction FROM artifacts a
       JOIN jobs j ON j.id = a.job_id
       JOIN tenants t ON t.id = a.tenant_id
      WHERE a.job_id >= ? AND j.status IN ('completed', 'failed')
      ORDER BY a.job_id, a.path LIMIT ?`,
  )
    .bind(after, limit + 1)
    .all<LegacyArtifactRow>();
  const page = rows.results.slice(0, limit);
  const following = rows.results[limit];
  const byTenant = new Map<string, { jurisdiction: string | null; imports: Map<string, LegacyImport> }>();
  for (const row of page) {
    let tenant = byTenant.get(row.tenant_id);
    if (!tenant) {
      tenant = { jurisdiction: row.jurisdiction, imports: new Map() };
      byTenant.set(row.tenant_id, tenant);
    }
    let job = tenant.imports.get(row.job_id);
    if (!job) {
      job = { jobId: row.job_id, rows: [], batches: [], complete: following?.job_id !== row.job_id };
      tenant.imports.set(row.job_id, job);
    }
    job.rows.push(recordOf(row));
  }
  let moved = 0;
  let failed = 0;
  for (const [tenantId, { jurisdiction, imports }] of byTenant) {
    try {
      await tenantObject(env, { id: tenantId, jurisdiction }).artifactImportLegacy([...imports.values()]);
      const ids = [...imports.values()].flatMap((job) => job.rows.map((row) => row.id));
      await env.DB.prepare("DELETE FROM artifacts WHERE tenant_id = ? AND id IN (SELECT value FROM json_each(?))")
        .bind(tenantId, JSON.stringify(ids))
        .run();
      moved += ids.length;
    } catch (error) {
      failed += 1;
      logFailure(tenantId, error);
    }
  }
  // A full page goes on at the job of the row after it (its moved rows are gone); a short one wraps around.
  const nextPosition = following?.job_id ?? "";
  await writeCursor(db, ARTIFACTS_TASK, nextPosition, Date.parse(now));
  return { moved, failed, nextPosition };
}

async function moveBatchRows(
  env: Env,
  db: Database,
  limit: number,
  now: string,
): Promise<{ moved: number; failed: number }> {
  const after = await readCursor(db, BATCHES_TASK);
  // Batches of finished jobs whose artifact rows have all moved.
  const rows = await env.DB.prepare(
    `SELECT b.tenant_id, t.jurisdiction, b.job_id, b.batch_key, b.skipped FROM job_batches b
       JOIN jobs j ON j.id = b.job_id
       JOIN tenants t ON t.id = b.tenant_id
      WHERE b.tenant_id >= ? AND j.status IN ('completed', 'failed')
        AND NOT EXISTS (SELECT 1 FROM artifacts a WHERE a.job_id = b.job_id)
      ORDER BY b.tenant_id, b.job_id, b.batch_key LIMIT ?`,
  )
    .bind(after, limit + 1)
    .all<LegacyBatchRow>();
  const page = rows.results.slice(0, limit);
  const byTenant = new Map<string, { jurisdiction: string | null; jobs: Map<string, LegacyImport> }>();
  for (const row of page) {
    let tenant = byTenant.get(row.tenant_id);
    if (!tenant) {
      tenant = { jurisdiction: row.jurisdiction, jobs: new Map() };
      byTenant.set(row.tenant_id, tenant);
    }
    let job = tenant.jobs.get(row.job_id);
    if (!job) {
      job = { jobId: row.job_id, rows: [], batches: [], complete: true };
      tenant.jobs.set(row.job_id, job);
    }
    job.batches.push({ key: row.batch_key, skipped: row.skipped });
  }
  let moved = 0;
  let failed = 0;
  for (const [tenantId, { jurisdiction, jobs }] of byTenant) {
    try {
      await tenantObject(env, { id: tenantId, jurisdiction }).artifactImportLegacy([...jobs.values()]);
      await env.DB.batch(
        [...jobs.values()].map((job) =>
          env.DB.prepare(
            "DELETE FROM job_batches WHERE tenant_id = ? AND job_id = ? AND batch_key IN (SELECT value FROM json_each(?))",
          ).bind(tenantId, job.jobId, JSON.stringify(job.batches.map((batch) => batch.key))),
        ),
      );
      moved += [...jobs.values()].reduce((sum, job) => sum + job.batches.length, 0);
    } catch (error) {
      failed += 1;
      logFailure(tenantId, error);
    }
  }
  await writeCursor(db, BATCHES_TASK, rows.results[limit]?.tenant_id ?? "", Date.parse(now));
  return { moved, failed };
}

function recordOf(row: LegacyArtifactRow): ArtifactRecord {
  return {
    id: row.id,
    jobId: row.job_id,
    path: row.path,
    sha256: row.sha256,
    size: row.size,
    mode: row.mode,
    chmod: row.chmod,
    templatePath: row.template_path,
    templateHash: row.template_hash,
    dependencies: JSON.parse(row.dependencies) as ArtifactRecord["dependencies"],
    attestationSha256: row.attestation_sha256,
    attestation: row.attestation,
    packSha256: row.pack_sha256,
    packOffset: row.pack_offset,
    createdAt: row.created_at,
  };
}

function logFailure(tenantId: string, error: unknown): void {
  console.error(
    JSON.stringify({ level: "error", msg: "artifact index migration failed", tenant: tenantId, reason: String(error) }),
  );
}
