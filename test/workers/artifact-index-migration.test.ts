import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { unzipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../shared/core/sha256";
import worker from "../../workers/index";
import { processGenerateMessage } from "../../workers/jobs/generate-consumer";
import { migrateArtifactIndex } from "../../workers/maintenance/migrate-artifact-index";
import { contentKey } from "../../workers/storage/content-store";
import { bearer, call, createTenant, expectProblem, jsonBody, type TestTenant } from "./helpers";
import { runJob } from "./job-helpers";
import { tenantSql } from "./tenant-sql";

const PREFIXES = "PREFIX ex: <http://example.org/> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>";
const MODEL = `@prefix ex: <http://example.org/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ex:A a ex:Entity ; rdfs:label "alpha" .
ex:B a ex:Entity ; rdfs:label "beta" .
ex:C a ex:Entity ; rdfs:label "gamma" .
ex:D a ex:Entity ; rdfs:label "delta" .
`;
const TEMPLATE = `---
to: "out/{{ e.name }}.txt"
sparql: "${PREFIXES} SELECT ?name WHERE { ?x a ex:Entity ; rdfs:label ?name } ORDER BY ?name"
foreach: e
---
{{ e.name }}`;

type Artifact = { id: string; path: string; sha256: string };

const COLUMNS =
  "id, job_id, path, sha256, size, mode, chmod, template_path, template_hash, dependencies, attestation_sha256, attestation, pack_sha256, pack_offset, created_at";

async function tenantWithJob(): Promise<{ tenant: TestTenant; jobId: string; artifacts: Artifact[] }> {
  // Every route is read several times over: a plan whose rate limit allows it.
  const tenant = await createTenant({ plan: "enterprise" });
  expect(
    (
      await call("/v1/graphs/model", {
        method: "PUT",
        headers: { ...bearer(tenant.apiKey), "content-type": "text/turtle" },
        body: MODEL,
      })
    ).status,
  ).toBe(201);
  const put = await call("/v1/templates/gen/e.njk", {
    method: "PUT",
    headers: { ...bearer(tenant.apiKey), "content-type": "text/plain" },
    body: TEMPLATE,
  });
  expect(put.status).toBe(201);
  const job = await runJob(tenant.apiKey, { graph: "model", generator: "gen" });
  expect(job.status).toBe("completed");
  return { tenant, jobId: job.id, artifacts: await listed(tenant, job.id) };
}

async function listed(tenant: TestTenant, jobId: string, limit = 100): Promise<Artifact[]> {
  const items: Artifact[] = [];
  let cursor: string | null = null;
  do {
    const res = await call(`/v1/jobs/${jobId}/artifacts?limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`, {
      headers: bearer(tenant.apiKey),
    });
    expect(res.status).toBe(200);
    const page = (await res.json()) as { items: Artifact[]; nextCursor: string | null };
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

/**
 * Turns a job's rows into rows written before the index moved: into D1's `artifacts` and `job_batches`
 * (today's schema, by SQL) and out of the tenant's object. The first row becomes one from before packs:
 * no envelope nor pack in the row, both kept as the R2 blobs named by their sha256.
 */
async function makeLegacy(tenant: TestTenant, jobId: string): Promise<void> {
  const rows = await tenantSql<Record<string, string | number | null>>(
    tenant.id,
    `SELECT ${COLUMNS} FROM artifact WHERE job_id = ? ORDER BY path`,
    jobId,
  );
  const batches = await tenantSql<{ batch_key: string; skipped: number }>(
    tenant.id,
    "SELECT batch_key, skipped FROM artifact_batch WHERE job_id = ?",
    jobId,
  );
  const [first] = rows;
  if (!first) throw new Error("the job has no rows");
  const bytes = await (
    await env.ARTIFACTS.get(contentKey(tenant.id, first.pack_sha256 as string), {
      range: { offset: first.pack_offset as number, length: first.size as number },
    })
  )?.arrayBuffer();
  await env.ARTIFACTS.put(contentKey(tenant.id, first.sha256 as string), bytes as ArrayBuffer);
  await env.ARTIFACTS.put(contentKey(tenant.id, first.attestation_sha256 as string), first.attestation as string);
  first.attestation = null;
  first.pack_sha256 = null;
  first.pack_offset = null;
  await env.DB.batch([
    ...rows.map((row) =>
      env.DB.prepare(`INSERT INTO artifacts (tenant_id, ${COLUMNS}) VALUES (${Array(16).fill("?").join(", ")})`).bind(
        tenant.id,
        ...COLUMNS.split(", ").map((column) => row[column] ?? null),
      ),
    ),
    ...batches.map((batch) =>
      env.DB.prepare("INSERT INTO job_batches (tenant_id, job_id, batch_key, skipped) VALUES (?, ?, ?, ?)").bind(
        tenant.id,
        jobId,
        batch.batch_key,
        batch.skipped,
      ),
    ),
  ]);
  await tenantSql(tenant.id, "DELETE FROM artifact WHERE job_id = ?", jobId);
  await tenantSql(tenant.id, "DELETE FROM artifact_batch WHERE job_id = ?", jobId);
  await tenantSql(tenant.id, "DELETE FROM artifact_job_total WHERE job_id = ?", jobId);
}

const legacyRows = async (tenant: TestTenant) =>
  (
    await env.DB.prepare("SELECT count(*) AS n FROM artifacts WHERE tenant_id = ?")
      .bind(tenant.id)
      .first<{ n: number }>()
  )?.n;
const indexedRows = async (tenant: TestTenant, jobId: string) =>
  (await tenantSql<{ n: number }>(tenant.id, "SELECT count(*) AS n FROM artifact WHERE job_id = ?", jobId))[0]?.n;

/** Every read route serves every artifact of the job, verifiably, and the bundle holds them all. */
async function expectEveryRouteReads(tenant: TestTenant, jobId: string, expected: Artifact[]): Promise<void> {
  expect(await listed(tenant, jobId)).toEqual(expected);
  // Paged by one: the merge of both places keeps the order and never repeats a path.
  expect(await listed(tenant, jobId, 1)).toEqual(expected);
  for (const artifact of expected) {
    const content = await call(`/v1/artifacts/${artifact.id}`, { headers: bearer(tenant.apiKey) });
    expect(content.status).toBe(200);
    expect(await sha256Hex(new Uint8Array(await content.arrayBuffer()))).toBe(artifact.sha256);
    const attestation = await call(`/v1/artifacts/${artifact.id}/attestation`, { headers: bearer(tenant.apiKey) });
    expect(attestation.status).toBe(200);
    const envelope = await attestation.json();
    const explain = (await (
      await call(`/v1/artifacts/${artifact.id}/explain`, { headers: bearer(tenant.apiKey) })
    ).json()) as { valid: boolean; jobId: string };
    expect(explain).toMatchObject({ valid: true, jobId });
    const verified = (await (await call("/v1/verify", jsonBody({ artifact: artifact.id }, tenant.apiKey))).json()) as {
      valid: boolean;
    };
    expect(verified.valid).toBe(true);
    const withEnvelope = (await (
      await call("/v1/verify", jsonBody({ artifact: artifact.id, envelope }, tenant.apiKey))
    ).json()) as { valid: boolean };
    expect(withEnvelope.valid).toBe(true);
  }
  const bundle = await call(`/v1/jobs/${jobId}/bundle`, { headers: bearer(tenant.apiKey) });
  expect(bundle.status).toBe(200);
  const entries = unzipSync(new Uint8Array(await bundle.arrayBuffer()));
  for (const artifact of expected) {
    const entry = entries[`artifacts/${artifact.path}`];
    if (!entry) throw new Error(`${artifact.path} missing from the bundle`);
    expect(await sha256Hex(entry)).toBe(artifact.sha256);
  }
}

async function expectHiddenFrom(other: TestTenant, jobId: string, artifacts: Artifact[]): Promise<void> {
  for (const path of [
    `/v1/jobs/${jobId}/artifacts`,
    `/v1/jobs/${jobId}/bundle`,
    ...artifacts.flatMap((a) => [`/v1/artifacts/${a.id}`, `/v1/artifacts/${a.id}/attestation`]),
  ]) {
    await expectProblem(await call(path, { headers: bearer(other.apiKey) }), 404, "not-found");
  }
  await expectProblem(
    await call("/v1/verify", jsonBody({ artifact: artifacts[0]?.id }, other.apiKey)),
    404,
    "not-found",
  );
}

async function runCron(): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "*/5 * * * *" }), env, ctx);
  await waitOnExecutionContext(ctx);
}

describe("a job's artifact listing from the tenant's object", () => {
  it("pages from any cursor: empty, between paths, past the end, at its longest", async () => {
    const { tenant, jobId, artifacts } = await tenantWithJob();
    const page = async (cursor: string) => {
      const res = await call(`/v1/jobs/${jobId}/artifacts?limit=2&cursor=${encodeURIComponent(cursor)}`, {
        headers: bearer(tenant.apiKey),
      });
      expect(res.status).toBe(200);
      return ((await res.json()) as { items: Artifact[] }).items.map((a) => a.path);
    };
    const paths = artifacts.map((a) => a.path);
    expect(await page("")).toEqual(paths.slice(0, 2));
    expect(await page("out/b")).toEqual(paths.slice(1, 3));
    expect(await page("zzz")).toEqual([]);
    expect(await page("z".repeat(1024))).toEqual([]);
    expect(await indexedRows(tenant, jobId)).toBe(4);
  }, 30_000);
});

describe("artifact rows written before the index moved into the tenant's object", () => {
  it("read through every route from D1, move on the cron, and read the same afterwards", async () => {
    const { tenant, jobId, artifacts } = await tenantWithJob();
    expect(artifacts).toHaveLength(4);
    await makeLegacy(tenant, jobId);
    expect(await legacyRows(tenant)).toBe(4);
    expect(await indexedRows(tenant, jobId)).toBe(0);
    const other = await createTenant();

    await expectEveryRouteReads(tenant, jobId, artifacts);
    await expectHiddenFrom(other, jobId, artifacts);

    for (let run = 0; run < 20 && (await legacyRows(tenant)) !== 0; run++) await runCron();
    expect(await legacyRows(tenant)).toBe(0);
    const batchesLeft = await env.DB.prepare("SELECT count(*) AS n FROM job_batches WHERE job_id = ?")
      .bind(jobId)
      .first<{ n: number }>();
    expect(batchesLeft?.n).toBe(0);
    expect(await indexedRows(tenant, jobId)).toBe(4);
    expect(await tenantSql(tenant.id, "SELECT job_id FROM artifact_legacy_job")).toEqual([]);
    // The pre-pack row moved as it was: still no envelope or pack in it.
    const [prePack] = await tenantSql<{ attestation: string | null; pack_sha256: string | null }>(
      tenant.id,
      "SELECT attestation, pack_sha256 FROM artifact WHERE id = ?",
      artifacts[0]?.id as string,
    );
    expect(prePack).toEqual({ attestation: null, pack_sha256: null });

    await expectEveryRouteReads(tenant, jobId, artifacts);
    await expectHiddenFrom(other, jobId, artifacts);
    const job = (await (await call(`/v1/jobs/${jobId}`, { headers: bearer(tenant.apiKey) })).json()) as {
      counts: { artifacts: number };
    };
    expect(job.counts.artifacts).toBe(4);
  }, 30_000);

  it("a partial or interrupted migration leaves every artifact readable, and moving twice moves nothing twice", async () => {
    const { tenant, jobId, artifacts } = await tenantWithJob();
    await makeLegacy(tenant, jobId);
    const position = (value: string) =>
      env.DB.prepare(
        "INSERT INTO maintenance_cursors (task, position, updated_at) VALUES ('artifact-index-migration', ?, '') ON CONFLICT (task) DO UPDATE SET position = excluded.position",
      )
        .bind(value)
        .run();

    // A page that ends inside the job: two rows move, the job is read from both places.
    await position(jobId);
    const partial = await migrateArtifactIndex(env, Date.now(), { rows: 2 });
    expect(partial).toMatchObject({ movedArtifacts: 2, failed: 0, nextPosition: jobId });
    expect(await legacyRows(tenant)).toBe(2);
    expect(await indexedRows(tenant, jobId)).toBe(2);
    expect(await tenantSql(tenant.id, "SELECT job_id FROM artifact_legacy_job")).toEqual([{ job_id: jobId }]);
    await expectEveryRouteReads(tenant, jobId, artifacts);

    // Interrupted after the object took the rows and before D1 dropped them: rows in both places.
    const [kept] = await env.DB.prepare(`SELECT ${COLUMNS} FROM artifacts WHERE tenant_id = ? ORDER BY path LIMIT 1`)
      .bind(tenant.id)
      .raw();
    await tenantSql(
      tenant.id,
      `INSERT INTO artifact (${COLUMNS}) VALUES (${Array(15).fill("?").join(", ")})`,
      ...(kept as (string | number | null)[]),
    );
    await expectEveryRouteReads(tenant, jobId, artifacts);

    await position(jobId);
    const rest = await migrateArtifactIndex(env, Date.now(), { rows: 10 });
    expect(rest.failed).toBe(0);
    expect(await legacyRows(tenant)).toBe(0);
    expect(await indexedRows(tenant, jobId)).toBe(4);
    expect(await tenantSql(tenant.id, "SELECT job_id FROM artifact_legacy_job")).toEqual([]);
    await expectEveryRouteReads(tenant, jobId, artifacts);
  }, 30_000);

  it("a job in flight when the index moved counts its rows in both places and reads them all", async () => {
    const { tenant, jobId, artifacts } = await tenantWithJob();
    await makeLegacy(tenant, jobId);
    const before = (await (await call(`/v1/jobs/${jobId}`, { headers: bearer(tenant.apiKey) })).json()) as {
      counts: { artifacts: number; total: number; bytes: number; skipped: number };
    };
    // Its first batch (alpha, beta) was written before the move; its second (delta, gamma) is written after.
    await env.DB.prepare("DELETE FROM artifacts WHERE tenant_id = ? AND path > 'out/beta.txt'").bind(tenant.id).run();
    await env.DB.prepare("UPDATE job_batches SET batch_key = ? WHERE job_id = ?").bind(`${jobId}:e.njk:0`, jobId).run();
    await env.DB.prepare("UPDATE jobs SET status = 'running', done = 2, bytes = 0 WHERE id = ?").bind(jobId).run();
    await processGenerateMessage(env, { tenantId: tenant.id, jobId, batch: { template: "e.njk", start: 2, end: 4 } });
    const job = (await (await call(`/v1/jobs/${jobId}`, { headers: bearer(tenant.apiKey) })).json()) as {
      status: string;
      counts: { artifacts: number; total: number; bytes: number; skipped: number };
    };
    expect(job.status).toBe("completed");
    expect(job.counts).toEqual(before.counts);
    expect(await indexedRows(tenant, jobId)).toBe(2);
    expect(await tenantSql(tenant.id, "SELECT job_id FROM artifact_legacy_job")).toEqual([{ job_id: jobId }]);
    await expectEveryRouteReads(tenant, jobId, artifacts);
  }, 30_000);
});
