import { strToU8, unzipSync, zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../shared/core/sha256";
import { emptyArchiveManifest } from "../support/empty-archive-manifest";
import { bearer, call, createKey, createTenant, expectProblem, jsonBody, type TestTenant } from "./helpers";
import { runJob } from "./job-helpers";

const PREFIXES = "PREFIX ex: <http://example.org/> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>";
const MODEL_V1 = `@prefix ex: <http://example.org/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ex:Order a ex:Entity ; rdfs:label "order" .
_:b1 a ex:Entity ; rdfs:label "anonymous" .
`;
const MODEL_V2 = `${MODEL_V1}ex:Customer a ex:Entity ; rdfs:label "customer" .
`;
const TEMPLATES: Record<string, string> = {
  "entity.ts.njk": `---
to: "src/{{ entity.name | pascalCase }}.ts"
sparql: "${PREFIXES} SELECT ?name WHERE { ?iri a ex:Entity ; rdfs:label ?name } ORDER BY ?name"
foreach: entity
---
export interface {{ entity.name | pascalCase }} { id: string }
`,
  "readme.md.njk": `---
to: README.md
sparql: "${PREFIXES} SELECT ?name WHERE { ?e a ex:Entity ; rdfs:label ?name } ORDER BY ?name"
---
# {{ title }}
{% for r in rows %}- {{ r.name }}
{% endfor %}`,
};

type Manifest = {
  format: string;
  formatVersion: number;
  tenantId: string;
  counts: Record<string, number>;
  graphs: { graph: string; version: number; hash: string; entry: string }[];
  entries: { name: string; sha256: string; size: number }[];
};
type ImportReport = {
  counts: Record<string, number>;
  graphs: { graph: string; archivedVersion: number; version: number; hash: string }[];
  monitors: { archivedId: string; id: string }[];
  webhooks: { archivedId: string; id: string; secret: string }[];
  jobsNotRestored: number;
  skipped: { kind: string; archivedId: string; reason: string }[];
};

async function put(tenant: TestTenant, path: string, contentType: string, body: string) {
  const res = await call(path, {
    method: "PUT",
    headers: { ...bearer(tenant.apiKey), "content-type": contentType },
    body,
  });
  expect(res.status, await res.clone().text()).toBeLessThan(300);
}

const get = async <T>(tenant: TestTenant, path: string): Promise<T> => {
  const res = await call(path, { headers: bearer(tenant.apiKey) });
  expect(res.status, `${path}: ${await res.clone().text()}`).toBe(200);
  return (await res.json()) as T;
};

/** A tenant with two versions of a graph, templates, generator settings, a job, two monitors and a webhook. */
async function populatedTenant() {
  const tenant = await createTenant();
  await put(tenant, "/v1/graphs/model", "text/turtle", MODEL_V1);
  await put(tenant, "/v1/graphs/model", "text/turtle", MODEL_V2);
  for (const [path, source] of Object.entries(TEMPLATES))
    await put(tenant, `/v1/templates/ts/${path}`, "text/plain", source);
  const settings = await call(
    "/v1/generators/ts",
    jsonBody({ options: { throwOnUndefined: true } }, tenant.apiKey, "PATCH"),
  );
  expect(settings.status).toBe(200);
  const job = await runJob(tenant.apiKey, { graph: "model", generator: "ts", params: { title: "Shop" } });
  expect(job.status).toBe("completed");
  for (const body of [
    { name: "by-graph", target: { graph: "model", generator: "ts" }, source: { kind: "graph" } },
    { name: "by-job", target: { job: job.id }, source: { kind: "graph" } },
  ]) {
    const res = await call("/v1/monitors", jsonBody(body, tenant.apiKey));
    expect(res.status, await res.clone().text()).toBe(201);
  }
  const webhook = await call(
    "/v1/webhooks",
    jsonBody({ url: "http://localhost:9/hook", events: ["job.*"] }, tenant.apiKey),
  );
  expect(webhook.status).toBe(201);
  return { tenant, jobId: job.id };
}

async function exportOf(tenant: TestTenant): Promise<Uint8Array> {
  const res = await call("/v1/export", { headers: bearer(tenant.apiKey) });
  expect(res.status, await res.clone().text()).toBe(200);
  expect(res.headers.get("content-type")).toBe("application/zip");
  return new Uint8Array(await res.arrayBuffer());
}

const importInto = (tenant: TestTenant, body: Uint8Array, contentType = "application/zip") =>
  call("/v1/import", { method: "POST", headers: { ...bearer(tenant.apiKey), "content-type": contentType }, body });

const manifestOf = (files: Record<string, Uint8Array>) =>
  JSON.parse(new TextDecoder().decode(files["manifest.json"])) as Manifest;

const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);

/** Whether the tenant still has nothing an import writes. */
async function expectEmpty(tenant: TestTenant) {
  expect((await get<{ items: unknown[] }>(tenant, "/v1/graphs")).items).toEqual([]);
  expect((await get<{ items: unknown[] }>(tenant, "/v1/templates")).items).toEqual([]);
  expect((await get<{ items: unknown[] }>(tenant, "/v1/monitors")).items).toEqual([]);
  expect((await get<{ items: unknown[] }>(tenant, "/v1/webhooks")).items).toEqual([]);
}

/** The archive with `change` applied to its entries, the manifest kept as it was unless changed too. */
function rezipped(archive: Uint8Array, change: (files: Record<string, Uint8Array>) => void): Uint8Array {
  const files = unzipSync(archive);
  change(files);
  return zipSync(files);
}

describe("tenant export and import", () => {
  it("exports every graph version, template, generator, job, monitor, webhook and key, each entry hashed in the manifest", async () => {
    const { tenant, jobId } = await populatedTenant();
    const files = unzipSync(await exportOf(tenant));
    const manifest = manifestOf(files);
    expect(manifest).toMatchObject({ format: "kgen-tenant-archive", formatVersion: 1, tenantId: tenant.id });
    expect(manifest.counts).toMatchObject({
      graphs: 1,
      graphVersions: 2,
      templates: 2,
      generators: 1,
      jobs: 1,
      monitors: 2,
      webhooks: 1,
    });
    expect(Object.keys(files).sort()).toEqual(
      [
        "generators/ts.json",
        "graphs/model/1.nq",
        "graphs/model/2.nq",
        `jobs/${jobId}/artifacts.jsonl`,
        `jobs/${jobId}/job.json`,
        "keys/jwks.json",
        "manifest.json",
        "monitors.json",
        "templates/ts/entity.ts.njk",
        "templates/ts/readme.md.njk",
        "webhooks.json",
      ].sort(),
    );
    for (const entry of manifest.entries) {
      expect(await sha256Hex(files[entry.name] as Uint8Array), entry.name).toBe(entry.sha256);
      expect(files[entry.name]?.byteLength).toBe(entry.size);
    }
    const versions = await get<{ items: { version: number; hash: string }[] }>(tenant, "/v1/graphs/model/versions");
    expect(manifest.graphs.map(({ version, hash }) => ({ version, hash }))).toEqual(
      versions.items.map(({ version, hash }) => ({ version, hash })),
    );
    expect(text(files["templates/ts/readme.md.njk"])).toBe(TEMPLATES["readme.md.njk"]);
    expect(JSON.parse(text(files["generators/ts.json"]))).toEqual({ name: "ts", options: { throwOnUndefined: true } });
    const job = JSON.parse(text(files[`jobs/${jobId}/job.json`]));
    expect(job).toMatchObject({ id: jobId, status: "completed", params: { title: "Shop" } });
    expect(job.lock.graph.name).toBe("model");
    const rows = text(files[`jobs/${jobId}/artifacts.jsonl`])
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(rows.map((row) => row.path).sort()).toEqual([
      "README.md",
      "src/Anonymous.ts",
      "src/Customer.ts",
      "src/Order.ts",
    ]);
    for (const row of rows) expect(row.attestation.payloadType).toBe("application/vnd.in-toto+json");
    const webhooks = text(files["webhooks.json"]);
    expect(webhooks).toContain("http://localhost:9/hook");
    expect(webhooks).not.toMatch(/secret/i);
    expect(JSON.parse(text(files["keys/jwks.json"])).keys.length).toBeGreaterThan(0);
  });

  it("imports into an empty tenant: the same graph hashes per version, and regeneration gives byte-identical artifacts", async () => {
    const { tenant: source, jobId } = await populatedTenant();
    const archive = await exportOf(source);
    const files = unzipSync(archive);
    const exportedRows = text(files[`jobs/${jobId}/artifacts.jsonl`])
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { path: string; sha256: string });

    const target = await createTenant();
    const res = await importInto(target, archive);
    expect(res.status, await res.clone().text()).toBe(201);
    const report = (await res.json()) as ImportReport;
    expect(report.counts).toEqual({ graphVersions: 2, templates: 2, generators: 1, monitors: 1, webhooks: 1 });
    expect(report.jobsNotRestored).toBe(1);
    expect(report.skipped).toEqual([
      expect.objectContaining({ kind: "monitor", reason: expect.stringContaining("job") }),
    ]);

    const sourceVersions = await get<{ items: { version: number; hash: string }[] }>(
      source,
      "/v1/graphs/model/versions",
    );
    const targetVersions = await get<{ items: { version: number; hash: string }[] }>(
      target,
      "/v1/graphs/model/versions",
    );
    expect(targetVersions.items.map((version) => version.hash)).toEqual(
      sourceVersions.items.map((version) => version.hash),
    );
    expect(report.graphs.map(({ archivedVersion, version }) => [archivedVersion, version])).toEqual([
      [1, 1],
      [2, 2],
    ]);
    expect(await get(target, "/v1/generators/ts")).toMatchObject({ options: { throwOnUndefined: true } });

    const webhooks = await get<{ items: { id: string; status: string; url: string }[] }>(target, "/v1/webhooks");
    expect(webhooks.items).toEqual([
      expect.objectContaining({ id: report.webhooks[0]?.id, status: "disabled", url: "http://localhost:9/hook" }),
    ]);
    expect(report.webhooks[0]?.secret).toMatch(/^whsec_/);
    const monitors = await get<{ items: { id: string; enabled: boolean; name: string }[] }>(target, "/v1/monitors");
    expect(monitors.items).toEqual([
      expect.objectContaining({ id: report.monitors[0]?.id, name: "by-graph", enabled: false }),
    ]);

    const events = await get<{ events: { type: string; data: Record<string, unknown> }[] }>(
      target,
      "/v1/events?types=monitor.*",
    );
    expect(events.events.map((event) => event.data.monitorId)).toEqual([report.monitors[0]?.id]);

    const regenerated = await runJob(target.apiKey, { graph: "model", generator: "ts", params: { title: "Shop" } });
    expect(regenerated.status).toBe("completed");
    const artifacts = await get<{ items: { path: string; sha256: string }[] }>(
      target,
      `/v1/jobs/${regenerated.id}/artifacts`,
    );
    const bySha = (rows: { path: string; sha256: string }[]) =>
      Object.fromEntries(rows.map((row) => [row.path, row.sha256]));
    expect(bySha(artifacts.items)).toEqual(bySha(exportedRows));
  });

  it("refuses a tenant that already has data (409) and writes nothing", async () => {
    const { tenant } = await populatedTenant();
    const archive = await exportOf(tenant);
    const target = await createTenant();
    await put(target, "/v1/templates/other/a.njk", "text/plain", "hello");
    await expectProblem(await importInto(target, archive), 409, "tenant-not-empty");
    expect((await get<{ items: unknown[] }>(target, "/v1/graphs")).items).toEqual([]);
    expect((await get<{ items: { path: string }[] }>(target, "/v1/templates")).items.map((row) => row.path)).toEqual([
      "a.njk",
    ]);
  });

  it("refuses a tampered entry (422) before writing anything", async () => {
    const { tenant } = await populatedTenant();
    const archive = await exportOf(tenant);
    const target = await createTenant();
    const tampered = rezipped(archive, (files) => {
      files["templates/ts/readme.md.njk"] = strToU8("# tampered\n");
    });
    const problem = await expectProblem(await importInto(target, tampered), 422, "invalid-archive");
    expect(problem.detail).toContain("templates/ts/readme.md.njk");
    const unlisted = rezipped(archive, (files) => {
      files["extra.txt"] = strToU8("x");
    });
    await expectProblem(await importInto(target, unlisted), 422, "invalid-archive");
    const noManifest = rezipped(archive, (files) => {
      delete files["manifest.json"];
    });
    await expectProblem(await importInto(target, noManifest), 422, "invalid-archive");
    await expectEmpty(target);
  });

  it("removes what it wrote when a graph version does not restore to its archived hash", async () => {
    const { tenant } = await populatedTenant();
    const archive = await exportOf(tenant);
    const target = await createTenant();
    const wrongHash = rezipped(archive, (files) => {
      const manifest = manifestOf(files);
      (manifest.graphs[1] as { hash: string }).hash = "0".repeat(64);
      files["manifest.json"] = strToU8(JSON.stringify(manifest));
    });
    const problem = await expectProblem(await importInto(target, wrongHash), 422, "invalid-archive");
    expect(problem.detail).toContain("version 2");
    await expectEmpty(target);
  });

  it("bounds what an archive may be and unpack to", async () => {
    const target = await createTenant();
    const manifest = (entries: { name: string; sha256: string; size: number }[]) =>
      strToU8(JSON.stringify(emptyArchiveManifest("tn_x", entries)));
    // 3 MiB of zeros deflate to a few KiB; the free plan's entries unpack to at most 1 MiB.
    const zeros = new Uint8Array(3 * 1024 * 1024);
    const bomb = zipSync({ "manifest.json": manifest([]), "graphs/g/1.nq": zeros }, { level: 9 });
    expect(bomb.byteLength).toBeLessThan(64 * 1024);
    await expectProblem(await importInto(target, bomb), 413, "archive-too-large");
    const many = zipSync(
      Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`x/${i}`, new Uint8Array(900 * 1024)])),
      { level: 9 },
    );
    await expectProblem(await importInto(target, many), 413, "archive-too-large");
    await expectProblem(await importInto(target, new Uint8Array(1024 * 1024 + 1)), 413, "payload-too-large");
    await expectProblem(await importInto(target, strToU8("not a zip at all")), 422, "invalid-archive");
    await expectProblem(
      await importInto(target, zipSync({ "manifest.json": strToU8('{"format":"other"}') })),
      422,
      "invalid-archive",
    );
    await expectProblem(await importInto(target, zipSync({})), 422, "invalid-archive");
    await expectProblem(await importInto(target, strToU8("PK"), "text/plain"), 415, "unsupported-media-type");
    await expectEmpty(target);
  });

  it("takes the tenant from the credential only, and needs the admin role", async () => {
    const { tenant } = await populatedTenant();
    const other = await createTenant();
    const files = unzipSync(await exportOf(other));
    const manifest = manifestOf(files);
    expect(manifest.tenantId).toBe(other.id);
    expect(manifest.counts).toMatchObject({ graphVersions: 0, templates: 0, jobs: 0 });
    expect(Object.keys(files).some((name) => name.startsWith("graphs/"))).toBe(false);
    await expectProblem(
      await call("/v1/export", { headers: bearer(other.apiKey, { "x-tenant-id": tenant.id }) }),
      403,
      "tenant-mismatch",
    );

    const editor = await createKey(tenant, "editor");
    await expectProblem(await call("/v1/export", { headers: bearer(editor.secret) }), 403, "insufficient-role");
    await expectProblem(
      await call("/v1/import", {
        method: "POST",
        headers: { ...bearer(editor.secret), "content-type": "application/zip" },
        body: zipSync({}),
      }),
      403,
      "insufficient-role",
    );
    await expectProblem(await call("/v1/export"), 401, "unauthorized");
  });
});
