import type { SchemaComponent } from "../../shared/sql/migrations";

/**
 * The tenant's artifact index: one row per written artifact (with its attestation envelope), the skipped
 * count of every written unit batch, each job's totals of both, and the jobs whose rows are still partly in
 * the platform database (written there before the index moved here, or being moved).
 */
export const artifactIndexSchema: SchemaComponent = {
  name: "artifact-index",
  migrations: [
    {
      version: 1,
      description: "artifact rows, per-batch skipped counts, jobs with rows left in the platform database",
      up: `
        CREATE TABLE artifact (
          id TEXT PRIMARY KEY,
          job_id TEXT NOT NULL,
          path TEXT NOT NULL,
          sha256 TEXT NOT NULL,
          size INTEGER NOT NULL,
          mode TEXT NOT NULL,
          chmod TEXT,
          template_path TEXT NOT NULL,
          template_hash TEXT NOT NULL,
          dependencies TEXT NOT NULL,
          attestation_sha256 TEXT NOT NULL,
          attestation TEXT,
          pack_sha256 TEXT,
          pack_offset INTEGER,
          created_at TEXT NOT NULL
        );
        CREATE UNIQUE INDEX artifact_job_path ON artifact (job_id, path);
        CREATE INDEX artifact_sha256 ON artifact (sha256);
        CREATE INDEX artifact_job_size ON artifact (job_id, size);

        CREATE TABLE artifact_batch (
          job_id TEXT NOT NULL,
          batch_key TEXT NOT NULL,
          skipped INTEGER NOT NULL,
          PRIMARY KEY (job_id, batch_key)
        ) WITHOUT ROWID;

        CREATE TABLE artifact_legacy_job (
          job_id TEXT PRIMARY KEY
        ) WITHOUT ROWID;
      `,
    },
    {
      version: 2,
      description: "the blobs artifact rows reference, for the blob collector's mark phase",
      up: "CREATE INDEX artifact_pack ON artifact (pack_sha256, sha256);",
    },
    {
      version: 3,
      description: "each job's running totals instead of a recount of its rows after every batch",
      // The recount read every index entry of the job after every batch: quadratic in the job's size. The
      // totals start from what is stored, and the index that only served the recount goes.
      up: `
        CREATE TABLE artifact_job_total (
          job_id TEXT PRIMARY KEY,
          done INTEGER NOT NULL,
          bytes INTEGER NOT NULL,
          skipped INTEGER NOT NULL
        ) WITHOUT ROWID;
        INSERT INTO artifact_job_total (job_id, done, bytes, skipped)
          SELECT job_id, sum(done), sum(bytes), sum(skipped) FROM (
            SELECT job_id, count(*) AS done, sum(size) AS bytes, 0 AS skipped FROM artifact GROUP BY job_id
            UNION ALL
            SELECT job_id, 0, 0, sum(skipped) FROM artifact_batch GROUP BY job_id
          ) GROUP BY job_id;
        DROP INDEX artifact_job_size;
      `,
    },
  ],
};
