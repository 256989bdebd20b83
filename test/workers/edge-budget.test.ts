import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { tenantObject } from "../../workers/tenant-object-stub";
import { countedCall, tally } from "./central-calls";
import { ADMIN_TOKEN, bearer, call, createKey, createTenant, jsonBody, type TestTenant } from "./helpers";
import { settledJob } from "./job-helpers";

const MODEL = `@prefix ex: <http://example.org/> .
ex:Order ex:label "Order" .
ex:Line ex:label "Line" .
`;

const renderBody = { template: "Hello {{ name }}", context: { name: "edge" } };

async function platformToken(credential: string): Promise<string> {
  const res = await call("/v1/auth/token", { method: "POST", headers: bearer(credential) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { accessToken: string }).accessToken;
}

async function withGraph(): Promise<TestTenant> {
  const tenant = await createTenant();
  const res = await call("/v1/graphs/model", {
    method: "PUT",
    headers: { ...bearer(tenant.apiKey), "content-type": "text/turtle" },
    body: MODEL,
  });
  expect(res.status).toBe(201);
  return tenant;
}

describe("central round trips per route", () => {
  it("POST /v1/render without a graph: none with a platform token", async () => {
    const tenant = await createTenant();
    const token = await platformToken(tenant.apiKey);
    const { response, onPath, body } = await countedCall("/v1/render", jsonBody(renderBody, token));
    expect(response.status, new TextDecoder().decode(body)).toBe(200);
    expect(tally(onPath)).toEqual({});
  });

  it("POST /v1/render without a graph: one D1 read for an API key new here, none once it was seen", async () => {
    const tenant = await createTenant();
    const key = await createKey(tenant, "editor");
    const first = await countedCall("/v1/render", jsonBody(renderBody, key.secret));
    expect(first.response.status).toBe(200);
    expect(first.onPath).toHaveLength(1);
    expect(first.onPath[0]?.store).toBe("d1");
    const again = await countedCall("/v1/render", jsonBody(renderBody, key.secret));
    expect(again.response.status).toBe(200);
    expect(tally(again.onPath)).toEqual({});
  });

  it("GET /v1/me reads the tenant's full row: one D1 read, even with a fresh platform token", async () => {
    const tenant = await createTenant();
    const token = await platformToken(tenant.apiKey);
    const fresh = await countedCall("/v1/me", { headers: bearer(token) });
    expect(fresh.response.status).toBe(200);
    expect(tally(fresh.onPath)).toEqual({ "d1:raw": 1 });
  });

  it("SPARQL on the latest version: exactly one call, to the tenant's object", async () => {
    const tenant = await withGraph();
    const query = encodeURIComponent("SELECT ?s WHERE { ?s ?p ?o }");
    const { response, onPath, deferred } = await countedCall(`/v1/graphs/model/sparql?query=${query}`, {
      headers: bearer(tenant.apiKey, { accept: "application/sparql-results+json" }),
    });
    expect(response.status).toBe(200);
    expect(tally(onPath)).toEqual({ "tenant-object:graphQuery": 1 });
    // Metering happens after the response, batched.
    expect(tally(deferred)).toEqual({ "tenant-object:recordRequests": 1 });
  });

  it("graph writes: exactly one call, to the tenant's object", async () => {
    const tenant = await withGraph();
    const replaced = await countedCall("/v1/graphs/model", {
      method: "PUT",
      headers: { ...bearer(tenant.apiKey), "content-type": "text/turtle" },
      body: `${MODEL}ex:Extra ex:label "Extra" .\n`,
    });
    expect(replaced.response.status).toBe(201);
    expect(tally(replaced.onPath)).toEqual({ "tenant-object:graphIngest": 1 });
    const update = 'PREFIX ex: <http://example.org/> INSERT DATA { ex:More ex:label "More" }';
    const updated = await countedCall("/v1/graphs/model/sparql", {
      method: "POST",
      headers: { ...bearer(tenant.apiKey), "content-type": "application/sparql-update" },
      body: update,
    });
    expect(updated.response.status).toBe(201);
    expect(updated.onPath.map((c) => c.store)).toEqual(["tenant-object"]);
  });

  it("graph patches and deletes: exactly one call, to the tenant's object", async () => {
    const tenant = await withGraph();
    const patched = await countedCall("/v1/graphs/model", {
      method: "PATCH",
      headers: { ...bearer(tenant.apiKey), "content-type": "application/sparql-update" },
      body: 'PREFIX ex: <http://example.org/> INSERT DATA { ex:Patched ex:label "Patched" }',
    });
    expect(patched.response.status).toBe(201);
    expect(patched.onPath.map((c) => c.store)).toEqual(["tenant-object"]);
    const deleted = await countedCall("/v1/graphs/model", { method: "DELETE", headers: bearer(tenant.apiKey) });
    expect(deleted.response.status).toBe(204);
    expect(tally(deleted.onPath)).toEqual({ "tenant-object:graphDelete": 1 });
  });

  it("POST /v1/jobs: exactly one call, to the tenant's object (which reads the generator and sends the plan message)", async () => {
    const tenant = await withNotesGenerator();
    const token = await platformToken(tenant.apiKey);
    const { response, onPath } = await countedCall(
      "/v1/jobs",
      jsonBody({ graph: "model", generator: "notes", params: { title: "T" } }, token),
    );
    expect(response.status).toBe(202);
    const calls = tally(onPath);
    expect(Object.entries(calls).filter(([name]) => name.startsWith("tenant-object:"))).toEqual([
      ["tenant-object:jobStart", 1],
    ]);
    expect(calls).toEqual({ "tenant-object:jobStart": 1 });
  });

  it("a platform token addresses the tenant's object in its jurisdiction from its claims alone", async () => {
    const tenant = await createTenant({ jurisdiction: "eu" });
    const put = await call("/v1/graphs/model", {
      method: "PUT",
      headers: { ...bearer(tenant.apiKey), "content-type": "text/turtle" },
      body: MODEL,
    });
    expect(put.status).toBe(201);
    const token = await platformToken(tenant.apiKey);
    const query = encodeURIComponent("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }");
    const { response, onPath, body } = await countedCall(`/v1/graphs/model/sparql?query=${query}`, {
      headers: bearer(token, { accept: "application/sparql-results+json" }),
    });
    expect(response.status).toBe(200);
    expect(tally(onPath)).toEqual({ "tenant-object:graphQuery": 1 });
    const results = JSON.parse(new TextDecoder().decode(body)) as { results: { bindings: { n: { value: string } }[] } };
    expect(results.results.bindings[0]?.n.value).toBe("2");
  });

  it("a refused credential makes no call to the tenant's object and is not metered", async () => {
    const tenant = await createTenant();
    const { response, onPath, deferred } = await countedCall("/v1/render", jsonBody(renderBody, `${tenant.apiKey}x`));
    expect(response.status).toBe(401);
    expect(onPath.map((c) => c.store)).toEqual(["d1"]);
    expect(deferred).toEqual([]);
  });
});

describe("metering without a round trip", () => {
  it("batches an isolate's request counts into one call per tenant, visible in /v1/usage", async () => {
    const tenant = await createTenant();
    const token = await platformToken(tenant.apiKey);
    const stub = tenantObject(env, { id: tenant.id, jurisdiction: null });
    const renders = await Promise.all(
      Array.from({ length: 5 }, () => countedCall("/v1/render", jsonBody(renderBody, token))),
    );
    for (const render of renders) expect(render.onPath).toEqual([]);
    const renderCount = async () =>
      (await stub.getUsage({})).requests.find((row) => row.routeClass === "post:render")?.requests ?? 0;
    expect(await renderCount()).toBe(5);
    // Every deferred write carried several requests: fewer calls than requests.
    const writes = renders.flatMap((render) => render.deferred);
    expect(writes.length).toBeGreaterThanOrEqual(1);
    expect(writes.length).toBeLessThan(5);
    expect(new Set(writes.map((c) => c.name))).toEqual(new Set(["tenant-object:recordRequests"]));
  });

  it("/v1/usage includes this isolate's unwritten counts at once, in the same single call", async () => {
    const tenant = await createTenant();
    const token = await platformToken(tenant.apiKey);
    const stub = tenantObject(env, { id: tenant.id, jurisdiction: null });
    // Not through countedCall: these counts stay in the batch until its timer fires.
    const { requestUsageBatch } = await import("../../workers/middleware/request-usage-batch");
    requestUsageBatch.add({ id: tenant.id, jurisdiction: null }, "post:render", 200, Date.now());
    requestUsageBatch.add({ id: tenant.id, jurisdiction: null }, "post:render", 422, Date.now());
    expect((await stub.getUsage({})).requests).toEqual([]);
    const usage = await countedCall("/v1/usage", { headers: bearer(token) });
    expect(usage.response.status).toBe(200);
    expect(tally(usage.onPath)).toEqual({ "tenant-object:getUsage": 1 });
    const { requests } = JSON.parse(new TextDecoder().decode(usage.body)) as {
      requests: { routeClass: string; requests: number; clientErrors: number }[];
    };
    expect(requests.find((row) => row.routeClass === "post:render")).toMatchObject({ requests: 2, clientErrors: 1 });
  });
});

/** A tenant with the graph and a one-template generator, `notes`, that writes README.md from a `title` param. */
async function withNotesGenerator(): Promise<TestTenant> {
  const tenant = await withGraph();
  const template = await call("/v1/templates/notes/readme.md.njk", {
    method: "PUT",
    headers: { ...bearer(tenant.apiKey), "content-type": "text/plain" },
    body: "---\nto: README.md\n---\n# {{ title }}\n",
  });
  expect(template.status).toBeLessThan(300);
  return tenant;
}

/** A tenant with one generated artifact: a graph, a one-template generator and a completed job. */
async function withArtifact(): Promise<{ tenant: TestTenant; artifactId: string; sha256: string }> {
  const tenant = await withNotesGenerator();
  const job = await call(
    "/v1/jobs",
    jsonBody({ graph: "model", generator: "notes", params: { title: "T" } }, tenant.apiKey),
  );
  expect(job.status).toBe(202);
  const { id } = (await job.json()) as { id: string };
  expect((await settledJob(tenant.apiKey, id)).status).toBe("completed");
  const listed = await call(`/v1/jobs/${id}/artifacts`, { headers: bearer(tenant.apiKey) });
  const [artifact] = ((await listed.json()) as { items: { id: string; sha256: string }[] }).items;
  if (!artifact) throw new Error("the job wrote no artifact");
  return { tenant, artifactId: artifact.id, sha256: artifact.sha256 };
}

describe("immutable content at the edge", () => {
  it("an artifact's bytes and attestation: none once cached at the location, the same bytes as the miss", async () => {
    const { tenant, artifactId, sha256 } = await withArtifact();
    const misses: [string, Record<string, number>][] = [
      // The artifact's row (the tenant's object keeps the index), then its bytes in the batch's pack (R2).
      [`/v1/artifacts/${artifactId}`, { "tenant-object:artifactGet": 1, "r2:get": 1 }],
      // The envelope is kept in the artifact's row.
      [`/v1/artifacts/${artifactId}/attestation`, { "tenant-object:artifactGet": 1 }],
    ];
    for (const [path, missCalls] of misses) {
      const miss = await countedCall(path, { headers: bearer(tenant.apiKey) });
      expect(miss.response.status).toBe(200);
      expect(miss.response.headers.get("x-kgen-edge-cache")).toBe("miss");
      expect(tally(miss.onPath)).toEqual(missCalls);
      const hit = await countedCall(path, { headers: bearer(tenant.apiKey) });
      expect(hit.response.status).toBe(200);
      expect(hit.response.headers.get("x-kgen-edge-cache")).toBe("hit");
      expect(tally(hit.onPath)).toEqual({});
      expect(new Uint8Array(hit.body)).toEqual(new Uint8Array(miss.body));
      expect(hit.response.headers.get("cache-control")).toBe(miss.response.headers.get("cache-control"));
    }
    const bytes = await countedCall(`/v1/artifacts/${artifactId}`, { headers: bearer(tenant.apiKey) });
    expect(bytes.response.headers.get("etag")).toBe(`"${sha256}"`);
    const notModified = await countedCall(`/v1/artifacts/${artifactId}`, {
      headers: bearer(tenant.apiKey, { "if-none-match": `"${sha256}"` }),
    });
    expect(notModified.response.status).toBe(304);
    expect(notModified.onPath).toEqual([]);
  });

  it("a job's artifact listing: the job's row (D1) and one page from the tenant's object; an unknown id also asks the legacy table", async () => {
    const { tenant, artifactId } = await withArtifact();
    const { jobId } = (await (
      await call(`/v1/artifacts/${artifactId}/explain`, { headers: bearer(tenant.apiKey) })
    ).json()) as {
      jobId: string;
    };
    const listed = await countedCall(`/v1/jobs/${jobId}/artifacts`, { headers: bearer(tenant.apiKey) });
    expect(listed.response.status).toBe(200);
    expect(tally(listed.onPath)).toEqual({ "d1:raw": 1, "tenant-object:artifactList": 1 });
    // An id the index does not have may be a row written before the index moved: one legacy read, then 404.
    const unknown = await countedCall(`/v1/artifacts/art_${"0".repeat(32)}/attestation`, {
      headers: bearer(tenant.apiKey),
    });
    expect(unknown.response.status).toBe(404);
    expect(tally(unknown.onPath)).toEqual({ "tenant-object:artifactGet": 1, "d1:raw": 1 });
  });

  it("never serves one tenant's cached content to another", async () => {
    const { tenant, artifactId } = await withArtifact();
    expect((await countedCall(`/v1/artifacts/${artifactId}`, { headers: bearer(tenant.apiKey) })).response.status).toBe(
      200,
    );
    expect(
      (await countedCall(`/v1/artifacts/${artifactId}`, { headers: bearer(tenant.apiKey) })).response.headers.get(
        "x-kgen-edge-cache",
      ),
    ).toBe("hit");
    const other = await createTenant();
    const theirs = await countedCall(`/v1/artifacts/${artifactId}`, { headers: bearer(other.apiKey) });
    expect(theirs.response.status).toBe(404);
    expect(theirs.response.headers.get("x-kgen-edge-cache")).toBeNull();
    const attestation = await countedCall(`/v1/artifacts/${artifactId}/attestation`, { headers: bearer(other.apiKey) });
    expect(attestation.response.status).toBe(404);
  });

  it("checks the credential before the cache: a deleted key and a suspended tenant are refused", async () => {
    const { tenant, artifactId } = await withArtifact();
    const key = await createKey(tenant, "viewer");
    const path = `/v1/artifacts/${artifactId}`;
    expect((await countedCall(path, { headers: bearer(key.secret) })).response.status).toBe(200);
    expect((await countedCall(path, { headers: bearer(key.secret) })).response.headers.get("x-kgen-edge-cache")).toBe(
      "hit",
    );
    await countedCall(`/v1/api-keys/${key.apiKey.id}`, { method: "DELETE", headers: bearer(tenant.apiKey) });
    expect((await countedCall(path, { headers: bearer(key.secret) })).response.status).toBe(401);
    await countedCall(`/v1/tenants/${tenant.id}`, jsonBody({ status: "suspended" }, ADMIN_TOKEN, "PATCH"));
    const suspended = await countedCall(path, { headers: bearer(tenant.apiKey) });
    expect(suspended.response.status).toBe(403);
    expect(suspended.response.headers.get("x-kgen-edge-cache")).toBeNull();
  });
});
