import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../shared/core/sha256";
import { MAX_CACHE_KEY_LENGTH } from "../../workers/middleware/edge-content-cache";
import { contentKey } from "../../workers/storage/content-store";
import { type CountedResponse, countedCall, tally } from "./central-calls";
import { bearer, call, createKey, createTenant, expectProblem, type TestTenant } from "./helpers";

const MODEL = `@prefix ex: <http://example.org/> .
ex:Order ex:label "Order" .
ex:Line ex:label "Line" .
`;
const OTHER_MODEL = `@prefix ex: <http://example.org/> .
ex:Invoice ex:label "Invoice" .
`;
const NTRIPLES = "application/n-triples";
const NQUADS = "application/n-quads";
const SPARQL_JSON = "application/sparql-results+json";
const EDGE = "x-kgen-edge-cache";

const text = (response: CountedResponse) => new TextDecoder().decode(response.body);

/** Puts `content` as graph `name` and returns the version's number and content hash. */
async function putGraph(
  tenant: TestTenant,
  content: string,
  name = "model",
): Promise<{ version: number; hash: string }> {
  const res = await call(`/v1/graphs/${name}`, {
    method: "PUT",
    headers: { ...bearer(tenant.apiKey), "content-type": "text/turtle" },
    body: content,
  });
  expect(res.status).toBe(201);
  const { version, hash } = (await res.json()) as { version: number; hash: string | null };
  if (hash === null) throw new Error("a new version has no content hash");
  return { version, hash };
}

function get(tenant: TestTenant, path: string, headers: Record<string, string> = {}): Promise<CountedResponse> {
  return countedCall(path, { headers: bearer(tenant.apiKey, headers) });
}

describe("a graph version's canonical content pinned by its hash", () => {
  it("N-Triples and N-Quads: one call to the tenant's object cold, none warm, the same bytes, the hash as ETag", async () => {
    const tenant = await createTenant();
    const { version, hash } = await putGraph(tenant, MODEL);
    const path = `/v1/graphs/model/versions/${version}?hash=${hash}`;
    for (const accept of [NTRIPLES, NQUADS]) {
      const miss = await get(tenant, path, { accept });
      expect(miss.response.status, text(miss)).toBe(200);
      expect(miss.response.headers.get(EDGE)).toBe("miss");
      expect(tally(miss.onPath)).toEqual({ "tenant-object:graphContent": 1 });
      expect(miss.response.headers.get("etag")).toBe(`W/"${hash}"`);
      expect(miss.response.headers.get("cache-control")).toBe("private, max-age=31536000, immutable");
      expect(miss.response.headers.get("content-type")).toBe(`${accept}; charset=utf-8`);
      // The canonical lines are the very bytes the content hash is taken over.
      expect(`sha256:${await sha256Hex(new Uint8Array(miss.body))}`).toBe(hash);
      const hit = await get(tenant, path, { accept });
      expect(hit.response.status).toBe(200);
      expect(hit.response.headers.get(EDGE)).toBe("hit");
      expect(tally(hit.onPath)).toEqual({});
      expect(new Uint8Array(hit.body)).toEqual(new Uint8Array(miss.body));
      expect(hit.response.headers.get("cache-control")).toBe("private, max-age=31536000, immutable");
      expect(hit.response.headers.get("content-type")).toBe(`${accept}; charset=utf-8`);
      const notModified = await get(tenant, path, { accept, "if-none-match": `"x", W/"${hash}"` });
      expect(notModified.response.status).toBe(304);
      expect(notModified.onPath).toEqual([]);
      expect(notModified.body.byteLength).toBe(0);
    }
    // The unpinned read of the same version gives the same bytes, from the tenant's object every time.
    const unpinned = await get(tenant, `/v1/graphs/model/versions/${version}`, { accept: NTRIPLES });
    expect(tally(unpinned.onPath)).toEqual({ "tenant-object:graphContent": 1 });
    expect(unpinned.response.headers.get(EDGE)).toBeNull();
    expect(text(unpinned)).toBe(text(await get(tenant, path, { accept: NTRIPLES })));
  });

  it("a version with blank nodes: the same pinned bytes cold and warm", async () => {
    const tenant = await createTenant();
    const { version, hash } = await putGraph(
      tenant,
      `@prefix ex: <http://example.org/> .\nex:Order ex:line [ ex:label "L1" ], [ ex:label "L2" ] .\n`,
    );
    const path = `/v1/graphs/model/versions/${version}?hash=${hash}`;
    const miss = await get(tenant, path, { accept: NTRIPLES });
    expect(miss.response.status, text(miss)).toBe(200);
    expect(text(miss)).toContain("_:");
    const hit = await get(tenant, path, { accept: NTRIPLES });
    expect(hit.response.headers.get(EDGE)).toBe("hit");
    expect(text(hit)).toBe(text(miss));
    const unpinned = await get(tenant, `/v1/graphs/model/versions/${version}`, { accept: NTRIPLES });
    expect(text(unpinned)).toBe(text(miss));
  });

  it("If-None-Match on a cold location: 304 after the one call", async () => {
    const tenant = await createTenant();
    const { version, hash } = await putGraph(tenant, MODEL);
    const cold = await get(tenant, `/v1/graphs/model/versions/${version}?hash=${hash}`, {
      accept: NTRIPLES,
      "if-none-match": `"${hash}"`,
    });
    expect(cold.response.status).toBe(304);
    expect(cold.body.byteLength).toBe(0);
    expect(cold.response.headers.get("content-length")).toBeNull();
    expect(tally(cold.onPath)).toEqual({ "tenant-object:graphContent": 1 });
    // The miss stored the 200 all the same.
    const warm = await get(tenant, `/v1/graphs/model/versions/${version}?hash=${hash}`, { accept: NTRIPLES });
    expect(warm.response.status).toBe(200);
    expect(warm.response.headers.get(EDGE)).toBe("hit");
  });

  it("formats that carry prefixes are answered with the hash checked, never stored", async () => {
    const tenant = await createTenant();
    const { version, hash } = await putGraph(tenant, MODEL);
    const path = `/v1/graphs/model/versions/${version}?hash=${hash}`;
    for (let round = 0; round < 2; round++) {
      const turtle = await get(tenant, path, { accept: "text/turtle" });
      expect(turtle.response.status).toBe(200);
      expect(turtle.response.headers.get("cache-control")).toBe("private, no-store");
      expect(turtle.response.headers.get("etag")).toBeNull();
      expect(turtle.response.headers.get(EDGE)).toBeNull();
      expect(tally(turtle.onPath)).toEqual({ "tenant-object:graphContent": 1 });
    }
  });

  it("refuses a hash the version does not have (404), a hash on latest and a malformed hash (400)", async () => {
    const tenant = await createTenant();
    const { version, hash } = await putGraph(tenant, MODEL);
    const wrong = `sha256:${"0".repeat(64)}`;
    const headers = bearer(tenant.apiKey, { accept: NTRIPLES });
    const mismatch = await call(`/v1/graphs/model/versions/${version}?hash=${wrong}`, { headers });
    const body = await expectProblem(mismatch, 404, "not-found");
    expect(body.detail).toContain(wrong);
    // A refusal is not stored: the same request asks the tenant's object again.
    const again = await get(tenant, `/v1/graphs/model/versions/${version}?hash=${wrong}`, { accept: NTRIPLES });
    expect(again.response.status).toBe(404);
    expect(tally(again.onPath)).toEqual({ "tenant-object:graphContent": 1 });
    await expectProblem(
      await call(`/v1/graphs/model/versions/latest?hash=${hash}`, { headers }),
      400,
      "validation-error",
    );
    await expectProblem(
      await call(`/v1/graphs/model/versions/${version}?hash=${hash.toUpperCase()}`, { headers }),
      400,
      "validation-error",
    );
    await expectProblem(
      await call(`/v1/graphs/model/versions/${version}?hash=${hash.slice("sha256:".length)}`, { headers }),
      400,
      "validation-error",
    );
    await expectProblem(await call(`/v1/graphs/model/versions/9?hash=${hash}`, { headers }), 404, "not-found");
  });

  it("after the graph is deleted and created anew, its version 1 is the new content; the old pin never answers with it", async () => {
    const tenant = await createTenant();
    const first = await putGraph(tenant, MODEL);
    const pinnedFirst = `/v1/graphs/model/versions/${first.version}?hash=${first.hash}`;
    const cachedFirst = await get(tenant, pinnedFirst, { accept: NTRIPLES });
    expect(cachedFirst.response.status).toBe(200);
    expect((await get(tenant, pinnedFirst, { accept: NTRIPLES })).response.headers.get(EDGE)).toBe("hit");
    const deleted = await call("/v1/graphs/model", { method: "DELETE", headers: bearer(tenant.apiKey) });
    expect(deleted.status).toBe(204);
    const second = await putGraph(tenant, OTHER_MODEL);
    expect(second.version).toBe(first.version);
    expect(second.hash).not.toBe(first.hash);
    // The number alone is never cached: it reads the new content.
    const byNumber = await get(tenant, `/v1/graphs/model/versions/${second.version}`, { accept: NTRIPLES });
    expect(text(byNumber)).toContain("Invoice");
    expect(byNumber.onPath).toHaveLength(1);
    // Pinned by the new hash: another cache entry, the new content.
    const pinnedSecond = await get(tenant, `/v1/graphs/model/versions/${second.version}?hash=${second.hash}`, {
      accept: NTRIPLES,
    });
    expect(pinnedSecond.response.headers.get(EDGE)).toBe("miss");
    expect(text(pinnedSecond)).toContain("Invoice");
    expect(text(pinnedSecond)).not.toContain("Order");
    // The old pin names the old content: a location that kept it serves exactly those bytes, never the new ones…
    const oldPin = await get(tenant, pinnedFirst, { accept: NTRIPLES });
    expect(new Uint8Array(oldPin.body)).toEqual(new Uint8Array(cachedFirst.body));
    expect(`sha256:${await sha256Hex(new Uint8Array(oldPin.body))}`).toBe(first.hash);
    // …and a location that did not keep it asks the tenant's object, which no longer has it.
    const uncached = await call(pinnedFirst, { headers: bearer(tenant.apiKey, { accept: NQUADS }) });
    await expectProblem(uncached, 404, "not-found");
  });
});

describe("SPARQL on a version pinned by its hash", () => {
  const sparqlPath = (version: number, hash: string | undefined, query: string) =>
    `/v1/graphs/model/sparql?query=${encodeURIComponent(query)}&version=${version}${hash ? `&hash=${hash}` : ""}`;
  const SELECT = "SELECT ?s ?label WHERE { ?s ?p ?label } ORDER BY ?s";

  it("one call to the tenant's object cold, none warm; byte-identical to the unpinned answer", async () => {
    const tenant = await createTenant();
    const { version, hash } = await putGraph(tenant, MODEL);
    const path = sparqlPath(version, hash, SELECT);
    const miss = await get(tenant, path, { accept: SPARQL_JSON });
    expect(miss.response.status, text(miss)).toBe(200);
    expect(miss.response.headers.get(EDGE)).toBe("miss");
    expect(tally(miss.onPath)).toEqual({ "tenant-object:graphQuery": 1 });
    const etag = `"${await sha256Hex(new Uint8Array(miss.body))}"`;
    expect(miss.response.headers.get("etag")).toBe(etag);
    expect(miss.response.headers.get("cache-control")).toBe("private, max-age=31536000, immutable");
    const hit = await get(tenant, path, { accept: SPARQL_JSON });
    expect(hit.response.headers.get(EDGE)).toBe("hit");
    expect(tally(hit.onPath)).toEqual({});
    expect(hit.response.headers.get("server-timing")).toBeNull();
    expect(new Uint8Array(hit.body)).toEqual(new Uint8Array(miss.body));
    const uncached = await get(tenant, sparqlPath(version, undefined, SELECT), { accept: SPARQL_JSON });
    expect(uncached.response.headers.get(EDGE)).toBeNull();
    expect(new Uint8Array(uncached.body)).toEqual(new Uint8Array(miss.body));
    const notModified = await get(tenant, path, { accept: SPARQL_JSON, "if-none-match": etag });
    expect(notModified.response.status).toBe(304);
    expect(notModified.onPath).toEqual([]);
  });

  it("keeps one entry per query text and per Accept", async () => {
    const tenant = await createTenant();
    const { version, hash } = await putGraph(tenant, MODEL);
    const json = await get(tenant, sparqlPath(version, hash, SELECT), { accept: SPARQL_JSON });
    expect(json.response.headers.get(EDGE)).toBe("miss");
    const csv = await get(tenant, sparqlPath(version, hash, SELECT), { accept: "text/csv" });
    expect(csv.response.headers.get(EDGE)).toBe("miss");
    expect(csv.response.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(text(csv)).not.toBe(text(json));
    const count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }";
    const counted = await get(tenant, sparqlPath(version, hash, count), { accept: SPARQL_JSON });
    expect(counted.response.headers.get(EDGE)).toBe("miss");
    expect(tally(counted.onPath)).toEqual({ "tenant-object:graphQuery": 1 });
    const results = JSON.parse(text(counted)) as { results: { bindings: { n: { value: string } }[] } };
    expect(results.results.bindings[0]?.n.value).toBe("2");
    for (const [query, accept, expected] of [
      [SELECT, SPARQL_JSON, json],
      [SELECT, "text/csv", csv],
      [count, SPARQL_JSON, counted],
    ] as const) {
      const again = await get(tenant, sparqlPath(version, hash, query), { accept });
      expect(again.response.headers.get(EDGE)).toBe("hit");
      expect(text(again)).toBe(text(expected));
    }
  });

  it("a query too long for a cache key is answered without the cache", async () => {
    const tenant = await createTenant();
    const { version, hash } = await putGraph(tenant, MODEL);
    const long = `SELECT ?s WHERE { ?s ?p ?o FILTER(?o != "${"x".repeat(MAX_CACHE_KEY_LENGTH)}") } ORDER BY ?s`;
    for (let round = 0; round < 2; round++) {
      const answer = await get(tenant, sparqlPath(version, hash, long), { accept: SPARQL_JSON });
      expect(answer.response.status, text(answer)).toBe(200);
      expect(answer.response.headers.get(EDGE)).toBeNull();
      expect(tally(answer.onPath)).toEqual({ "tenant-object:graphQuery": 1 });
      expect(text(answer)).toContain("Order");
    }
  });

  it("answers that other graphs or volatile functions decide are never stored", async () => {
    const tenant = await createTenant();
    const { version, hash } = await putGraph(tenant, MODEL);
    await putGraph(tenant, OTHER_MODEL, "other");
    for (const query of [
      "SELECT (NOW() AS ?t) WHERE {}",
      "SELECT ?s WHERE { ?s ?p ?o } ORDER BY RAND()",
      "SELECT ?s WHERE { GRAPH <urn:kgen:graph:other> { ?s ?p ?o } }",
      "SELECT ?s FROM <urn:kgen:graph:other> WHERE { ?s ?p ?o }",
    ]) {
      for (let round = 0; round < 2; round++) {
        const answer = await get(tenant, sparqlPath(version, hash, query), { accept: SPARQL_JSON });
        expect(answer.response.status, text(answer)).toBe(200);
        expect(answer.response.headers.get("cache-control")).toBe("private, no-store");
        expect(answer.response.headers.get("etag")).toBeNull();
        expect(answer.response.headers.get(EDGE)).toBeNull();
        expect(tally(answer.onPath)).toEqual({ "tenant-object:graphQuery": 1 });
      }
    }
  });

  it("refuses a hash without a version (400) and a hash the version does not have (404); after delete and re-create the new content answers", async () => {
    const tenant = await createTenant();
    const first = await putGraph(tenant, MODEL);
    const headers = bearer(tenant.apiKey, { accept: SPARQL_JSON });
    await expectProblem(
      await call(`/v1/graphs/model/sparql?query=${encodeURIComponent(SELECT)}&hash=${first.hash}`, { headers }),
      400,
      "validation-error",
    );
    await expectProblem(
      await call(sparqlPath(first.version, `sha256:${"f".repeat(64)}`, SELECT), { headers }),
      404,
      "not-found",
    );
    const cached = await get(tenant, sparqlPath(first.version, first.hash, SELECT), { accept: SPARQL_JSON });
    expect(text(cached)).toContain("Order");
    await call("/v1/graphs/model", { method: "DELETE", headers: bearer(tenant.apiKey) });
    const second = await putGraph(tenant, OTHER_MODEL);
    expect(second.version).toBe(first.version);
    const fresh = await get(tenant, sparqlPath(second.version, second.hash, SELECT), { accept: SPARQL_JSON });
    expect(fresh.response.headers.get(EDGE)).toBe("miss");
    expect(text(fresh)).toContain("Invoice");
    expect(text(fresh)).not.toContain("Order");
    const unpinned = await get(tenant, sparqlPath(second.version, undefined, SELECT), { accept: SPARQL_JSON });
    expect(text(unpinned)).toBe(text(fresh));
  });
});

describe("a template source by its hash", () => {
  async function putTemplate(tenant: TestTenant, source: string): Promise<string> {
    const res = await call("/v1/templates/notes/readme.md.njk", {
      method: "PUT",
      headers: { ...bearer(tenant.apiKey), "content-type": "text/plain" },
      body: source,
    });
    expect(res.status).toBeLessThan(300);
    return ((await res.json()) as { hash: string }).hash;
  }

  it("one R2 read cold, none warm; a replaced source is still served by its hash", async () => {
    const tenant = await createTenant();
    const source = "---\nto: README.md\n---\n# {{ title }}\n";
    const hash = await putTemplate(tenant, source);
    const miss = await get(tenant, `/v1/template-sources/${hash}`);
    expect(miss.response.status, text(miss)).toBe(200);
    expect(text(miss)).toBe(source);
    expect(miss.response.headers.get(EDGE)).toBe("miss");
    expect(tally(miss.onPath)).toEqual({ "r2:get": 1 });
    expect(miss.response.headers.get("etag")).toBe(`"${hash}"`);
    expect(miss.response.headers.get("cache-control")).toBe("private, max-age=31536000, immutable");
    const hit = await get(tenant, `/v1/template-sources/${hash}`);
    expect(hit.response.headers.get(EDGE)).toBe("hit");
    expect(tally(hit.onPath)).toEqual({});
    expect(text(hit)).toBe(source);
    const notModified = await get(tenant, `/v1/template-sources/${hash}`, { "if-none-match": `"${hash}"` });
    expect(notModified.response.status).toBe(304);
    expect(notModified.onPath).toEqual([]);
    const replaced = await putTemplate(tenant, "---\nto: README.md\n---\n## {{ title }}\n");
    expect(replaced).not.toBe(hash);
    const earlier = await call(`/v1/template-sources/${hash}`, { headers: bearer(tenant.apiKey) });
    expect(await earlier.text()).toBe(source);
  });

  it("only the tenant's own template sources: 404 for another tenant's, for unknown hashes and for other blobs; 400 for a malformed hash", async () => {
    const owner = await createTenant();
    const hash = await putTemplate(owner, "---\nto: A.md\n---\nsecret {{ x }}\n");
    expect((await get(owner, `/v1/template-sources/${hash}`)).response.status).toBe(200);
    expect((await get(owner, `/v1/template-sources/${hash}`)).response.headers.get(EDGE)).toBe("hit");
    const other = await createTenant();
    const theirs = await call(`/v1/template-sources/${hash}`, { headers: bearer(other.apiKey) });
    expect(theirs.headers.get(EDGE)).toBeNull();
    await expectProblem(theirs, 404, "not-found");
    await expectProblem(
      await call(`/v1/template-sources/${"a".repeat(64)}`, { headers: bearer(owner.apiKey) }),
      404,
      "not-found",
    );
    // A blob of the tenant that is not a template source (an artifact pack is stored this way).
    const pack = new TextEncoder().encode("packed artifact bytes");
    const packHash = await sha256Hex(pack);
    await env.ARTIFACTS.put(contentKey(owner.id, packHash), pack, {
      httpMetadata: { contentType: "application/octet-stream" },
    });
    await expectProblem(
      await call(`/v1/template-sources/${packHash}`, { headers: bearer(owner.apiKey) }),
      404,
      "not-found",
    );
    await expectProblem(
      await call("/v1/template-sources/not-a-hash", { headers: bearer(owner.apiKey) }),
      400,
      "validation-error",
    );
  });
});

describe("pinned reads are per tenant and behind the credential", () => {
  it("tenant B with the same graph name, version and hash gets its own entry; without the graph, 404", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const c = await createTenant();
    const pinnedA = await putGraph(a, MODEL);
    const pinnedB = await putGraph(b, MODEL);
    expect(pinnedB).toEqual(pinnedA);
    const path = `/v1/graphs/model/versions/${pinnedA.version}?hash=${pinnedA.hash}`;
    const sparql = `/v1/graphs/model/sparql?query=${encodeURIComponent("SELECT * WHERE { ?s ?p ?o }")}&version=${pinnedA.version}&hash=${pinnedA.hash}`;
    for (const [target, accept] of [
      [path, NTRIPLES],
      [sparql, SPARQL_JSON],
    ] as const) {
      expect((await get(a, target, { accept })).response.headers.get(EDGE)).toBe("miss");
      expect((await get(a, target, { accept })).response.headers.get(EDGE)).toBe("hit");
      const theirs = await get(b, target, { accept });
      expect(theirs.response.headers.get(EDGE)).toBe("miss");
      expect(theirs.onPath).toHaveLength(1);
      const none = await call(target, { headers: bearer(c.apiKey, { accept }) });
      expect(none.headers.get(EDGE)).toBeNull();
      await expectProblem(none, 404, "not-found");
    }
  });

  it("a deleted key is refused even where the answer is cached", async () => {
    const tenant = await createTenant();
    const { version, hash } = await putGraph(tenant, MODEL);
    const key = await createKey(tenant, "viewer");
    const path = `/v1/graphs/model/versions/${version}?hash=${hash}`;
    const read = () => countedCall(path, { headers: bearer(key.secret, { accept: NTRIPLES }) });
    expect((await read()).response.status).toBe(200);
    expect((await read()).response.headers.get(EDGE)).toBe("hit");
    await call(`/v1/api-keys/${key.apiKey.id}`, { method: "DELETE", headers: bearer(tenant.apiKey) });
    expect((await read()).response.status).toBe(401);
  });
});
