import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { sha256Hex } from "../../shared/core/sha256";
import { processGenerateMessage } from "../../workers/jobs/generate-consumer";
import { ArtifactIndex } from "../../workers/repository/artifact-index";
import { tenantObject } from "../../workers/tenant-object-stub";
import { countedCall, tally } from "./central-calls";
import { bearer, call, createTenant, expectProblem, jsonBody, type TestTenant } from "./helpers";
import { type JobView, runJob } from "./job-helpers";

const PREFIXES = "PREFIX ex: <http://example.org/> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>";

/** Entities by label and size, in the order given. */
const model = (entities: [string, number][]) =>
  `@prefix ex: <http://example.org/> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n${entities
    .map(([label, size]) => `ex:${label} a ex:Entity ; rdfs:label "${label}" ; ex:size ${size} .`)
    .join("\n")}`;

const TEMPLATES: Record<string, string> = {
  "entity.njk": `---
to: "out/{{ e.name | kebabCase }}.ts"
sparql: "${PREFIXES} SELECT ?name ?size WHERE { ?iri a ex:Entity ; rdfs:label ?name ; ex:size ?size } ORDER BY ?name"
foreach: e
---
export const size = {{ e.size }};`,
  "index.njk": `---
to: out/index.ts
sparql: "${PREFIXES} SELECT ?name WHERE { ?iri a ex:Entity ; rdfs:label ?name } ORDER BY ?name"
---
{% for r in rows %}export * from "./{{ r.name | kebabCase }}";
{% endfor %}`,
};

interface ArtifactItem {
  id: string;
  path: string;
  sha256: string;
  size: number;
  template: { path: string; hash: string };
}

interface IncrementalJobView extends JobView {
  baseJob: string | null;
  counts: JobView["counts"] & { carried: number };
}

async function putGraph(tenant: TestTenant, body: string) {
  const res = await call("/v1/graphs/g", {
    method: "PUT",
    headers: { ...bearer(tenant.apiKey), "content-type": "text/turtle" },
    body,
  });
  expect(res.status, await res.clone().text()).toBeLessThan(300);
}

async function putTemplates(tenant: TestTenant) {
  for (const [path, source] of Object.entries(TEMPLATES)) {
    const res = await call(`/v1/templates/gen/${path}`, {
      method: "PUT",
      headers: { ...bearer(tenant.apiKey), "content-type": "text/plain" },
      body: source,
    });
    expect(res.status, await res.clone().text()).toBeLessThan(300);
  }
}

async function artifactsOf(tenant: TestTenant, jobId: string): Promise<ArtifactItem[]> {
  const res = await call(`/v1/jobs/${jobId}/artifacts`, { headers: bearer(tenant.apiKey) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { items: ArtifactItem[] }).items;
}

/** A tenant with a completed job at version 1, and version 2: one literal changed, one entity added, one deleted. */
async function baseJobAndSecondVersion(): Promise<{ tenant: TestTenant; base: JobView }> {
  const tenant = await createTenant();
  await putTemplates(tenant);
  await putGraph(
    tenant,
    model([
      ["alpha", 1],
      ["beta", 2],
      ["gamma", 3],
    ]),
  );
  const base = await runJob(tenant.apiKey, { graph: "g", generator: "gen" });
  expect(base.status).toBe("completed");
  await putGraph(
    tenant,
    model([
      ["alpha", 1],
      ["gamma", 30],
      ["delta", 4],
    ]),
  );
  return { tenant, base };
}

/** A queued job row as the tenant's object creates it, whose plan and batches the test drives itself. */
async function queuedJob(
  tenant: TestTenant,
  id: string,
  from: JobView,
  overrides: { lock?: Record<string, unknown>; lockHash?: string; baseJobId?: string | null } = {},
) {
  const at = "2026-01-01T00:00:00.000Z";
  const job = {
    id,
    status: "queued" as const,
    lock: overrides.lock ?? from.lock,
    lockHash: overrides.lockHash ?? from.lockHash,
    params: {},
    dryRun: false,
    total: 0,
    done: 0,
    skipped: 0,
    bytes: 0,
    baseJobId: overrides.baseJobId ?? null,
    carried: 0,
    generator: "gen",
    pinned: false,
    error: null,
    createdAt: at,
    updatedAt: at,
  };
  await tenantObject(env, { id: tenant.id, jurisdiction: null }).recordJobChange(
    tenant.id,
    { kind: "create", job },
    { type: "job.started", data: { jobId: id }, createdAt: 1, idempotencyKey: `${id}:started` },
  );
  return job;
}

const jobView = async (tenant: TestTenant, id: string) =>
  (await (await call(`/v1/jobs/${id}`, { headers: bearer(tenant.apiKey) })).json()) as IncrementalJobView;

const decodePayload = (envelope: { payload: string }) =>
  JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(envelope.payload), (ch) => ch.charCodeAt(0))));

describe("POST /v1/generations with only: affected", () => {
  it("re-renders only the affected units, carries the others over, and equals a full generation", async () => {
    const { tenant, base } = await baseJobAndSecondVersion();
    const impact = (await (
      await call(`/v1/jobs/${base.id}/impact?version=2`, { headers: bearer(tenant.apiKey) })
    ).json()) as { summary: Record<string, number> };
    expect(impact.summary).toMatchObject({ unchanged: 1, changed: 2, added: 1, removed: 1 });

    const incremental = (await runJob(
      tenant.apiKey,
      { job: base.id, only: "affected" },
      "/v1/generations",
    )) as IncrementalJobView;
    expect(incremental.status, incremental.error ?? "").toBe("completed");
    expect(incremental.baseJob).toBe(base.id);
    const full = (await runJob(tenant.apiKey, { graph: "g", generator: "gen" })) as IncrementalJobView;
    expect(full.status).toBe("completed");
    expect(full.baseJob).toBeNull();
    expect(full.counts.carried).toBe(0);

    // The incremental job's lock is the full generation's: base templates and params, graph pinned to 2.
    expect(incremental.lock).toEqual(full.lock);
    expect(incremental.lockHash).toBe(full.lockHash);
    expect((incremental.lock as { graph: { version: number } }).graph.version).toBe(2);

    const { carried, artifacts, total, skipped, bytes } = incremental.counts;
    expect(carried).toBe(impact.summary.unchanged);
    expect(artifacts - carried).toBe((impact.summary.changed ?? 0) + (impact.summary.added ?? 0));
    expect({ total, artifacts, skipped, bytes }).toEqual({
      total: full.counts.total,
      artifacts: full.counts.artifacts,
      skipped: full.counts.skipped,
      bytes: full.counts.bytes,
    });

    const incrementalArtifacts = await artifactsOf(tenant, incremental.id);
    const fullArtifacts = await artifactsOf(tenant, full.id);
    const byPath = (items: ArtifactItem[]) =>
      items.map(({ path, sha256, size, template }) => ({ path, sha256, size, template }));
    expect(byPath(incrementalArtifacts)).toEqual(byPath(fullArtifacts));
    expect(incrementalArtifacts.map((a) => a.path)).toEqual([
      "out/alpha.ts",
      "out/delta.ts",
      "out/gamma.ts",
      "out/index.ts",
    ]);

    const index = new ArtifactIndex(env, { id: tenant.id, jurisdiction: null });
    const baseArtifacts = await artifactsOf(tenant, base.id);
    for (const artifact of incrementalArtifacts) {
      // The bytes served are the ones the content address names.
      const content = await call(`/v1/artifacts/${artifact.id}`, { headers: bearer(tenant.apiKey) });
      expect(content.status).toBe(200);
      expect(await sha256Hex(new Uint8Array(await content.arrayBuffer()))).toBe(artifact.sha256);

      // Every attestation verifies and names the incremental job's lock and graph version.
      const verified = await call("/v1/verify", jsonBody({ artifact: artifact.id }, tenant.apiKey));
      expect(((await verified.json()) as { valid: boolean }).valid).toBe(true);
      const envelope = (await (
        await call(`/v1/artifacts/${artifact.id}/attestation`, { headers: bearer(tenant.apiKey) })
      ).json()) as { payload: string };
      const statement = decodePayload(envelope);
      expect(statement.predicate.lockHash).toBe(incremental.lockHash);
      expect(statement.predicate.graph.version).toBe(2);
    }

    // The carried artifact points at the base job's stored content: no new content was written for it.
    const alpha = incrementalArtifacts.find((a) => a.path === "out/alpha.ts") as ArtifactItem;
    const baseAlpha = baseArtifacts.find((a) => a.path === "out/alpha.ts") as ArtifactItem;
    const [carriedRow, baseRow] = [await index.get(alpha.id), await index.get(baseAlpha.id)];
    expect(carriedRow?.jobId).toBe(incremental.id);
    expect(carriedRow?.attestationSha256).not.toBe(baseRow?.attestationSha256);
    expect({ pack: carriedRow?.packSha256, offset: carriedRow?.packOffset, deps: carriedRow?.dependencies }).toEqual({
      pack: baseRow?.packSha256,
      offset: baseRow?.packOffset,
      deps: baseRow?.dependencies,
    });

    // The job.completed event says how many units were carried over.
    const { events } = (await (
      await call("/v1/events?limit=1000&types=job.completed", { headers: bearer(tenant.apiKey) })
    ).json()) as { events: { type: string; data: Record<string, unknown> }[] };
    const completed = events.find((event) => event.data.jobId === incremental.id);
    expect(completed?.data).toMatchObject({ carried: 1, artifacts: 4 });
  });

  it("at the base job's own version carries every artifact over and renders none", async () => {
    const tenant = await createTenant();
    await putTemplates(tenant);
    await putGraph(
      tenant,
      model([
        ["alpha", 1],
        ["beta", 2],
      ]),
    );
    const base = await runJob(tenant.apiKey, { graph: "g", generator: "gen" });
    const again = (await runJob(tenant.apiKey, { job: base.id, version: 1, only: "affected" })) as IncrementalJobView;
    expect(again.status).toBe("completed");
    expect(again.counts).toMatchObject({ artifacts: 3, carried: 3 });
    expect(again.lockHash).toBe(base.lockHash);
    const sums = async (id: string) => (await artifactsOf(tenant, id)).map(({ path, sha256 }) => ({ path, sha256 }));
    expect(await sums(again.id)).toEqual(await sums(base.id));
  });

  it("carries over across several unit batches on the queue", async () => {
    const tenant = await createTenant();
    await putTemplates(tenant);
    const entities = Array.from({ length: 120 }, (_, i): [string, number] => [`e${String(i).padStart(3, "0")}`, i]);
    await putGraph(tenant, model(entities));
    const base = await runJob(tenant.apiKey, { graph: "g", generator: "gen" });
    expect(base.counts.artifacts).toBe(121);
    await putGraph(tenant, model(entities.map(([label, size]) => [label, label === "e070" ? 700 : size])));
    const incremental = (await runJob(tenant.apiKey, { job: base.id, only: "affected" })) as IncrementalJobView;
    expect(incremental.status, incremental.error ?? "").toBe("completed");
    // Only e070's file changes: the index lists names, not sizes.
    expect(incremental.counts).toMatchObject({ total: 121, artifacts: 121, carried: 120 });
    const full = await runJob(tenant.apiKey, { graph: "g", generator: "gen" });
    expect(incremental.lockHash).toBe(full.lockHash);
    const sums = async (id: string) => {
      const res = await call(`/v1/jobs/${id}/artifacts?limit=1000`, { headers: bearer(tenant.apiKey) });
      return ((await res.json()) as { items: ArtifactItem[] }).items.map(({ path, sha256 }) => ({ path, sha256 }));
    };
    const [incrementalSums, fullSums, baseSums] = [
      await sums(incremental.id),
      await sums(full.id),
      await sums(base.id),
    ];
    expect(incrementalSums).toEqual(fullSums);
    expect(incrementalSums.filter((a, i) => a.sha256 !== baseSums[i]?.sha256).map((a) => a.path)).toEqual([
      "out/e070.ts",
    ]);
  });

  it("answers problems for bad requests", async () => {
    const { tenant, base } = await baseJobAndSecondVersion();
    const post = (body: unknown, key = tenant.apiKey) => call("/v1/jobs", jsonBody(body, key));
    await expectProblem(await post({ only: "affected" }), 400, "validation-error");
    await expectProblem(await post({ graph: "g", generator: "gen", only: "affected" }), 400, "validation-error");
    await expectProblem(await post({ job: base.id, only: "all" }), 400, "validation-error");
    await expectProblem(await post({ job: base.id, only: "affected", params: { x: 1 } }), 400, "validation-error");
    await expectProblem(await post({ job: "job_unknown", only: "affected" }), 404, "not-found");
    await expectProblem(await post({ job: base.id, version: 99, only: "affected" }), 404, "not-found");

    // Another tenant's job is not found.
    const other = await createTenant();
    await expectProblem(await post({ job: base.id, only: "affected" }, other.apiKey), 404, "not-found");

    // A job that has not completed cannot be the base.
    const row = await queuedJob(tenant, "job_queued_base", base);
    await expectProblem(await post({ job: row.id, only: "affected" }), 409, "job-not-completed");
  });

  it("generates in full when its base job is gone by the time it is planned", async () => {
    const { tenant } = await baseJobAndSecondVersion();
    const full = await runJob(tenant.apiKey, { graph: "g", generator: "gen" });
    const job = await queuedJob(tenant, "job_orphaned_incremental", full, { baseJobId: "job_gone" });
    await processGenerateMessage(env, { kind: "plan", tenantId: tenant.id, jobId: job.id });
    const view = await vi.waitFor(
      async () => {
        const current = await jobView(tenant, job.id);
        expect(current.status).toBe("completed");
        return current;
      },
      { timeout: 20_000, interval: 50 },
    );
    expect(view.counts).toMatchObject({ artifacts: full.counts.artifacts, carried: 0 });
    const sums = async (id: string) => (await artifactsOf(tenant, id)).map(({ path, sha256 }) => ({ path, sha256 }));
    expect(await sums(job.id)).toEqual(await sums(full.id));
  });

  it("fails the job when an artifact to carry over is no longer stored", async () => {
    const { tenant, base } = await baseJobAndSecondVersion();
    const job = await queuedJob(tenant, "job_missing_carry", base, { baseJobId: base.id });
    await processGenerateMessage(env, {
      tenantId: tenant.id,
      jobId: job.id,
      batch: { template: "entity.njk", start: 0, end: 1 },
      carryOver: { baseJobId: base.id, render: [], carry: ["out/not-in-the-base.ts"] },
    });
    const view = await jobView(tenant, job.id);
    expect(view.status).toBe("failed");
    expect(view.error).toContain("out/not-in-the-base.ts");
    expect(view.counts.artifacts).toBe(0);
  });

  it("costs one call to the tenant's object on the request path, as POST /v1/jobs does", async () => {
    const { tenant, base } = await baseJobAndSecondVersion();
    const { response, onPath } = await countedCall(
      "/v1/jobs",
      jsonBody({ job: base.id, only: "affected" }, tenant.apiKey),
    );
    expect(response.status).toBe(202);
    const calls = tally(onPath);
    expect(Object.entries(calls).filter(([name]) => name.startsWith("tenant-object:"))).toEqual([
      ["tenant-object:jobStart", 1],
    ]);
    expect(calls["queue:send"] ?? 0).toBeLessThanOrEqual(1);
  });
});
