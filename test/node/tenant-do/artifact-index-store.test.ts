import { describe, expect, it } from "vitest";
import { nodeSqlDatabase } from "../../../cli/node-sql-database";
import {
  ArtifactIndexStore,
  type ArtifactRecord,
  MAX_ARTIFACT_PAGE,
  MAX_CONTENT_LOOKUPS,
} from "../../../durable-objects/tenant/artifact-index-store";
import { TENANT_SCHEMA } from "../../../durable-objects/tenant/tenant-schema";
import { applySchemaMigrations } from "../../../shared/sql/migrations";

function store(): { index: ArtifactIndexStore; db: ReturnType<typeof nodeSqlDatabase> } {
  const db = nodeSqlDatabase();
  applySchemaMigrations(db, TENANT_SCHEMA);
  return { index: new ArtifactIndexStore(db), db };
}

function row(jobId: string, path: string, size = 10, sha256 = `sha-${path}`): ArtifactRecord {
  return {
    id: `art_${jobId}_${path}`,
    jobId,
    path,
    sha256,
    size,
    mode: "write",
    chmod: null,
    templatePath: "t.njk",
    templateHash: "h",
    dependencies: [{ query: "SELECT ?s", resultSha256: "r" }],
    attestationSha256: `att-${path}`,
    attestation: `{"envelope":"${path}"}`,
    packSha256: "pack",
    packOffset: 0,
    createdAt: "2026-01-01T00:00:00.000Z",
  };
}

describe("ArtifactIndexStore", () => {
  it("records a batch once: a redelivered batch adds no row and no skipped unit", () => {
    const { index } = store();
    const rows = [row("job1", "a", 3), row("job1", "b", 4)];
    expect(index.record("job1", rows, { key: "k1", skipped: 2 })).toEqual({ done: 2, skipped: 2, bytes: 7 });
    expect(index.record("job1", rows, { key: "k1", skipped: 2 })).toEqual({ done: 2, skipped: 2, bytes: 7 });
    expect(index.record("job1", [row("job1", "c", 5)], { key: "k2", skipped: 1 })).toEqual({
      done: 3,
      skipped: 3,
      bytes: 12,
    });
    // Another job's rows never count for this one.
    expect(index.record("job2", [row("job2", "a", 100)], null)).toEqual({ done: 1, skipped: 0, bytes: 100 });
    expect(index.progress("job1")).toEqual({ done: 3, skipped: 3, bytes: 12 });
  });

  it("forgets a job's totals with its rows: a job written again counts from zero", () => {
    const { index } = store();
    index.record("job1", [row("job1", "a", 3), row("job1", "b", 4)], { key: "k1", skipped: 2 });
    index.record("job2", [row("job2", "a", 9)], { key: "k1", skipped: 1 });
    expect(index.forgetJob("job1")).toBe(2);
    expect(index.progress("job1")).toEqual({ done: 0, skipped: 0, bytes: 0 });
    expect(index.progress("job2")).toEqual({ done: 1, skipped: 1, bytes: 9 });
    expect(index.record("job1", [row("job1", "a", 3)], { key: "k1", skipped: 2 })).toEqual({
      done: 1,
      skipped: 2,
      bytes: 3,
    });
  });

  it("starts each job's totals from the rows a tenant stored before they existed", () => {
    const db = nodeSqlDatabase();
    // The tenant database as the code before the totals left it: the artifact index at version 2.
    applySchemaMigrations(
      db,
      TENANT_SCHEMA.map((component) =>
        component.name === "artifact-index"
          ? { ...component, migrations: component.migrations.slice(0, 2) }
          : component,
      ),
    );
    const insert = (jobId: string, path: string, size: number) =>
      db.run(
        `INSERT INTO artifact (id, job_id, path, sha256, size, mode, chmod, template_path, template_hash, dependencies,
           attestation_sha256, attestation, pack_sha256, pack_offset, created_at)
         VALUES (?, ?, ?, ?, ?, 'write', NULL, 't.njk', 'h', '[]', ?, NULL, 'pack', 0, '2026-01-01T00:00:00.000Z')`,
        [`art_${jobId}_${path}`, jobId, path, `sha-${path}`, size, `att-${path}`],
      );
    insert("job1", "a", 3);
    insert("job1", "b", 4);
    insert("job1", "c", 5);
    insert("job2", "a", 100);
    for (const [jobId, key, skipped] of [
      ["job1", "k1", 2],
      ["job1", "k2", 1],
      ["job3", "k1", 4],
    ] as const) {
      db.run("INSERT INTO artifact_batch (job_id, batch_key, skipped) VALUES (?, ?, ?)", [jobId, key, skipped]);
    }
    expect(applySchemaMigrations(db, TENANT_SCHEMA).versions["artifact-index"]).toBe(3);
    const index = new ArtifactIndexStore(db);
    expect(index.progress("job1")).toEqual({ done: 3, skipped: 3, bytes: 12 });
    expect(index.progress("job2")).toEqual({ done: 1, skipped: 0, bytes: 100 });
    expect(index.progress("job3")).toEqual({ done: 0, skipped: 4, bytes: 0 });
    // It counts on from there, and a batch written before the totals counts once when redelivered.
    expect(index.record("job1", [row("job1", "a", 3)], { key: "k1", skipped: 2 })).toEqual({
      done: 3,
      skipped: 3,
      bytes: 12,
    });
    expect(index.record("job1", [row("job1", "d", 6)], { key: "k3", skipped: 1 })).toEqual({
      done: 4,
      skipped: 4,
      bytes: 18,
    });
    // The index that served the recount is gone.
    expect(db.all("SELECT name FROM sqlite_master WHERE name = 'artifact_job_size'")).toEqual([]);
  });

  it("refuses a row of another job, writing nothing of the call", () => {
    const { index } = store();
    expect(() => index.record("job1", [row("job1", "a"), row("job2", "b")], { key: "k", skipped: 0 })).toThrow(
      RangeError,
    );
    expect(index.progress("job1")).toEqual({ done: 0, skipped: 0, bytes: 0 });
  });

  it("keeps the data of a row as written, reads it by id, and lists without envelopes unless asked", () => {
    const { index } = store();
    const written = row("job1", "src/a.ts");
    index.record("job1", [written, row("job1", "src/b.ts")], { key: "k", skipped: 0 });
    expect(index.get(written.id)).toEqual(written);
    expect(index.get("art_missing")).toBeNull();
    const summary = index.list("job1", 10, null, false);
    expect(summary.legacy).toBe(false);
    expect(summary.rows.map((r) => [r.path, r.attestation])).toEqual([
      ["src/a.ts", null],
      ["src/b.ts", null],
    ]);
    expect(index.list("job1", 10, "src/a.ts", true).rows).toEqual([row("job1", "src/b.ts")]);
  });

  it("caps a page, and a page past the end of a known job is not a legacy job", () => {
    const { index } = store();
    const rows = Array.from({ length: MAX_ARTIFACT_PAGE + 5 }, (_, i) => row("job1", `p${String(i).padStart(5, "0")}`));
    index.record("job1", rows, { key: "k", skipped: 0 });
    expect(index.list("job1", MAX_ARTIFACT_PAGE * 10, null, false).rows).toHaveLength(MAX_ARTIFACT_PAGE);
    expect(index.list("job1", 10, "zzz", false)).toEqual({ rows: [], legacy: false });
  });

  it("tells which jobs may have rows in the platform database: unknown, marked, or being imported", () => {
    const { index } = store();
    expect(index.list("unknown", 10, null, false).legacy).toBe(true);
    expect(index.outputPaths("unknown").legacy).toBe(true);
    // A job that only skipped units is known by its batch record.
    index.record("skipped-only", [], { key: "k", skipped: 3 });
    expect(index.list("skipped-only", 10, null, false)).toEqual({ rows: [], legacy: false });
    index.record("both", [row("both", "a")], { key: "k", skipped: 0 });
    expect(index.outputPaths("both")).toEqual({ rows: [{ path: "a", templatePath: "t.njk" }], legacy: false });
    index.markLegacy("both");
    index.markLegacy("both");
    expect(index.list("both", 10, null, false).legacy).toBe(true);

    index.importLegacy([{ jobId: "moved", rows: [row("moved", "a")], batches: [], complete: false }]);
    expect(index.list("moved", 10, null, false).legacy).toBe(true);
    index.importLegacy([
      {
        jobId: "moved",
        rows: [row("moved", "a"), row("moved", "b")],
        batches: [{ key: "k", skipped: 1 }],
        complete: true,
      },
    ]);
    expect(index.list("moved", 10, null, true)).toEqual({
      rows: [row("moved", "a"), row("moved", "b")],
      legacy: false,
    });
    expect(index.progress("moved")).toEqual({ done: 2, skipped: 1, bytes: 20 });
  });

  it("finds where each content is stored, bounded per call", () => {
    const { index } = store();
    index.record(
      "job1",
      [row("job1", "a", 1, "s1"), { ...row("job1", "b", 1, "s2"), packSha256: null, packOffset: null }],
      null,
    );
    expect(index.contentLocations(["s1", "s2", "s3"])).toEqual({
      s1: { packSha256: "pack", packOffset: 0 },
      s2: { packSha256: null, packOffset: null },
    });
    expect(() => index.contentLocations(Array.from({ length: MAX_CONTENT_LOOKUPS + 1 }, (_, i) => `s${i}`))).toThrow(
      RangeError,
    );
  });
});
