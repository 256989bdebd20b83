import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MAX_BUFFERED_TRIPLES } from "../../durable-objects/tenant/graph-service";
import type { TenantObject } from "../../durable-objects/tenant-object";
import { bytesToHex } from "../../shared/core/encoding";
import { planLimits } from "../../shared/plans";
import { canonicalHash } from "../../shared/rdf/canonical-hash";
import { parseRdfSync } from "../../shared/rdf/formats";
import { tenantObject } from "../../workers/tenant-object-stub";
import { pieces } from "../support/byte-pieces";
import { bearer, call, createTenant, expectProblem, type TestTenant } from "./helpers";

const ex = (local: string) => `<http://example.org/${local}>`;

/** N-Triples for `count` subjects with four triples each (a label with characters that need escaping). */
function document(count: number, from = 0): string {
  const lines: string[] = [];
  for (let i = from; i < from + count; i++) {
    lines.push(`${ex(`s${i}`)} ${ex("type")} ${ex(`Class${i % 7}`)} .`);
    lines.push(`${ex(`s${i}`)} ${ex("label")} "item \\"${i}\\"\\n\\u00e9"@en .`);
    lines.push(`${ex(`s${i}`)} ${ex("size")} "${i}"^^<http://www.w3.org/2001/XMLSchema#integer> .`);
    lines.push(`${ex(`s${i}`)} ${ex("next")} ${ex(`s${i + 1}`)} .`);
  }
  return `${lines.join("\n")}\n`;
}

/** A request body that arrives in small pieces with no Content-Length, as a chunked upload does. */
const chunked = (text: string, pieceBytes = 4096) => pieces(text, pieceBytes);

function put(tenant: TestTenant, name: string, body: BodyInit, contentType = "application/n-triples") {
  return call(`/v1/graphs/${name}`, {
    method: "PUT",
    headers: { ...bearer(tenant.apiKey), "content-type": contentType },
    body,
    duplex: "half",
  } as RequestInit);
}

const get = (tenant: TestTenant, path: string) => call(path, { headers: bearer(tenant.apiKey) });

/** Rows of the store's tables, to prove a failed upload left nothing behind. */
async function storeCounts(tenant: TestTenant) {
  const stub = tenantObject(env, { id: tenant.id, jurisdiction: null });
  return runInDurableObject(stub, (_instance: TenantObject, state) => {
    const count = (table: string) => Number(state.storage.sql.exec(`SELECT count(*) AS n FROM ${table}`).one().n);
    return {
      terms: count("rdf_term"),
      quads: count("rdf_quad"),
      staged: count("rdf_staging"),
      graphs: count("rdf_graph"),
      versions: count("rdf_graph_version"),
    };
  });
}

describe("streamed graph uploads", () => {
  it("stores a chunked upload of many pieces, hashed exactly as RDFC-1.0 over the whole document", async () => {
    const tenant = await createTenant({ plan: "standard" });
    const text = document(5000);
    const res = await put(tenant, "big", chunked(text));
    expect(res.status).toBe(201);
    const version = (await res.json()) as { version: number; triples: number; hash: string };
    expect(version.triples).toBe(20_000);
    expect(version.hash).toBe((await canonicalHash(parseRdfSync(text, "application/n-triples"))).hash);
    const ask = await call(
      `/v1/graphs/big/sparql?query=${encodeURIComponent(`SELECT (COUNT(*) AS ?n) { ?s ${ex("next")} ?o }`)}`,
      { headers: bearer(tenant.apiKey, { accept: "application/sparql-results+json" }) },
    );
    const rows = (await ask.json()) as { results: { bindings: { n: { value: string } }[] } };
    expect(rows.results.bindings[0]?.n.value).toBe("5000");

    // Replacing with a reordered copy keeps the version; a changed document makes version 2 with its diff.
    const reordered = text.trim().split("\n").reverse().join("\n");
    const same = await put(tenant, "big", chunked(reordered, 1000));
    expect(same.status).toBe(200);
    expect(await same.json()).toMatchObject({ version: 1, hash: version.hash });
    const changed = `${document(4999)}${ex("extra")} ${ex("p")} "x" .\n`;
    const next = (await (await put(tenant, "big", chunked(changed))).json()) as Record<string, unknown>;
    expect(next).toMatchObject({ version: 2, triples: 19_997, added: 1, removed: 4 });
    expect(next.hash).toBe((await canonicalHash(parseRdfSync(changed, "application/n-triples"))).hash);
  }, 60_000);

  it("labels blank nodes canonically, so relabeled documents are the same version", async () => {
    const tenant = await createTenant();
    const doc = (a: string, b: string) =>
      `@prefix ex: <http://example.org/> . _:${a} ex:knows _:${b} ; ex:name "A" . _:${b} ex:name "B" . ex:c ex:p _:${a} .`;
    const first = await put(tenant, "people", doc("x", "y"), "text/turtle");
    expect(first.status).toBe(201);
    const v1 = (await first.json()) as { hash: string };
    expect(v1.hash).toBe((await canonicalHash(parseRdfSync(doc("x", "y"), "text/turtle"))).hash);
    const again = await put(tenant, "people", doc("other", "labels"), "text/turtle");
    expect(again.status).toBe(200);
    const content = await (
      await call("/v1/graphs/people/versions/1", {
        headers: bearer(tenant.apiKey, { accept: "application/n-triples" }),
      })
    ).text();
    expect(content).toMatch(/_:c14n0/);
    expect(content).not.toMatch(/_:(b_|x\b|y\b)/);
  });

  it("leaves nothing behind when a document fails part-way, and keeps the previous version", async () => {
    const tenant = await createTenant({ plan: "standard" });
    expect((await put(tenant, "g", document(10))).status).toBe(201);
    const before = await storeCounts(tenant);
    // Thousands of valid triples are stored in chunks before the syntax error on the last line.
    const broken = `${document(3000, 100)}${ex("a")} ${ex("b")} "unterminated .\n`;
    const problem = await expectProblem(await put(tenant, "g", chunked(broken)), 400, "rdf-syntax-error");
    expect(problem.line).toBe(12_001);
    expect(problem.column).toBeGreaterThan(1);
    expect(await storeCounts(tenant)).toEqual(before);
    await expectProblem(await put(tenant, "fresh", chunked(broken)), 400, "rdf-syntax-error");
    expect(await storeCounts(tenant)).toEqual(before);
    await expectProblem(await get(tenant, "/v1/graphs/fresh"), 404, "not-found");
    expect(await (await get(tenant, "/v1/graphs/g")).json()).toMatchObject({ version: 1, triples: 40 });
  }, 60_000);

  it("stops a chunked body over the plan's size limit with 413, and an upload over the quota with 403", async () => {
    const tenant = await createTenant();
    const before = await storeCounts(tenant);
    const maxBytes = planLimits("free").maxRequestBodyBytes;
    const oversized = document(Math.ceil(maxBytes / 200) + 100);
    expect(oversized.length).toBeGreaterThan(maxBytes);
    await expectProblem(await put(tenant, "g", chunked(oversized, 64 * 1024)), 413, "payload-too-large");
    // One subject with many objects: over the triple quota while under the size limit.
    const objects = Array.from({ length: planLimits("free").triples + 1 }, (_, i) => i).join(",");
    const overQuota = `${ex("s")} ${ex("p")} ${objects} .`;
    expect(overQuota.length).toBeLessThan(maxBytes);
    await expectProblem(await put(tenant, "g", chunked(overQuota, 64 * 1024), "text/turtle"), 403, "quota-exceeded");
    expect(await storeCounts(tenant)).toEqual(before);
  }, 60_000);

  it("records exactly one event per new version and per deleted graph, none for an unchanged upload", async () => {
    const tenant = await createTenant();
    expect((await put(tenant, "g", document(3))).status).toBe(201);
    expect((await put(tenant, "g", document(3))).status).toBe(200);
    expect((await put(tenant, "g", document(4))).status).toBe(201);
    const patched = await call("/v1/graphs/g", {
      method: "PATCH",
      headers: { ...bearer(tenant.apiKey), "content-type": "application/json" },
      body: JSON.stringify({ add: `${ex("z")} ${ex("p")} ${ex("q")} .` }),
    });
    expect(patched.status).toBe(201);
    expect((await call("/v1/graphs/g", { method: "DELETE", headers: bearer(tenant.apiKey) })).status).toBe(204);
    const { events } = await tenantObject(env, { id: tenant.id, jurisdiction: null }).readEvents({});
    expect(events.map((event) => [event.type, (event.data as { version?: number }).version ?? null])).toEqual([
      ["graph.version.created", 1],
      ["graph.version.created", 2],
      ["graph.version.created", 3],
      ["graph.deleted", null],
    ]);
  }, 60_000);

  it("serializes concurrent writes to a graph: each upload becomes its own version", async () => {
    const tenant = await createTenant({ plan: "standard" });
    const uploads = await Promise.all([
      put(tenant, "g", chunked(document(2000), 2048)),
      put(tenant, "g", chunked(document(2000, 1), 2048)),
      call("/v1/graphs/g", {
        method: "PATCH",
        headers: { ...bearer(tenant.apiKey), "content-type": "application/json" },
        body: JSON.stringify({ add: `${ex("z")} ${ex("p")} ${ex("q")} .` }),
      }),
    ]);
    const statuses = uploads.map((res) => res.status);
    expect(statuses.slice(0, 2)).toEqual([201, 201]);
    const versions = (await (await get(tenant, "/v1/graphs/g/versions")).json()) as {
      items: { version: number; triples: number; hash: string }[];
    };
    expect(versions.items.map((v) => v.version)).toEqual([1, 2, 3].slice(0, versions.items.length));
    expect(versions.items.length).toBeGreaterThanOrEqual(2);
    for (const item of versions.items) expect(item.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    const counts = await storeCounts(tenant);
    expect(counts.staged).toBe(0);
  }, 60_000);

  it("streams large versions as N-Triples (the canonical document: its SHA-256 is the version hash) and refuses buffered work", async () => {
    const tenant = await createTenant({ plan: "standard" });
    const count = MAX_BUFFERED_TRIPLES + 2;
    const objects = Array.from({ length: count }, (_, i) => i).join(",");
    const created = await put(tenant, "large", `${ex("s")} ${ex("p")} ${objects} .`, "text/turtle");
    expect(created.status).toBe(201);
    const version = (await created.json()) as { hash: string; triples: number };
    expect(version.triples).toBe(count);

    const res = await call("/v1/graphs/large/versions/1", {
      headers: bearer(tenant.apiKey, { accept: "application/n-triples" }),
    });
    expect(res.status).toBe(200);
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(`sha256:${bytesToHex(await crypto.subtle.digest("SHA-256", bytes))}`).toBe(version.hash);
    const lines = new TextDecoder().decode(bytes).trimEnd().split("\n");
    expect(lines).toHaveLength(count);
    expect(lines[0]).toBe(`${ex("s")} ${ex("p")} "0"^^<http://www.w3.org/2001/XMLSchema#integer> .`);

    const turtle = await call("/v1/graphs/large/versions/1", {
      headers: bearer(tenant.apiKey, { accept: "text/turtle" }),
    });
    expect((await expectProblem(turtle, 422, "graph-too-large")).limit).toBe(MAX_BUFFERED_TRIPLES);
    await expectProblem(
      await call("/v1/graphs/large/validate", {
        method: "POST",
        headers: { ...bearer(tenant.apiKey), "content-type": "text/turtle" },
        body: "@prefix sh: <http://www.w3.org/ns/shacl#> .",
      }),
      422,
      "graph-too-large",
    );
    await expectProblem(await get(tenant, "/v1/graphs/large/diff?from=0&to=1"), 422, "graph-too-large");
    // Replacing every triple: the diff between the two versions would hold twice the limit.
    const shifted = Array.from({ length: count }, (_, i) => i + count).join(",");
    expect((await put(tenant, "large", `${ex("s")} ${ex("p")} ${shifted} .`, "text/turtle")).status).toBe(201);
    const between = await expectProblem(await get(tenant, "/v1/graphs/large/diff?from=1&to=2"), 422, "graph-too-large");
    expect(between.triples).toBe(2 * count);
    expect((await get(tenant, "/v1/graphs/large/versions")).status).toBe(200);
  }, 60_000);
});
