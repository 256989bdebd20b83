import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { planLimits } from "../../shared/plans";
import { bearer, call, createKey, createTenant, expectProblem, type TestTenant } from "./helpers";

const TTL = `@prefix ex: <http://example.org/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ex:Order a ex:Entity ; rdfs:label "Order" ; ex:field ex:id, ex:total .
ex:id rdfs:label "id" ; ex:type "string" .
ex:total rdfs:label "total" ; ex:type "number" .
`;

function put(tenant: TestTenant | string, name: string, body: string, contentType = "text/turtle") {
  const credential = typeof tenant === "string" ? tenant : tenant.apiKey;
  return call(`/v1/graphs/${name}`, {
    method: "PUT",
    headers: { ...bearer(credential), "content-type": contentType },
    body,
  });
}

function patch(tenant: TestTenant, name: string, body: string, contentType: string) {
  return call(`/v1/graphs/${name}`, {
    method: "PATCH",
    headers: { ...bearer(tenant.apiKey), "content-type": contentType },
    body,
  });
}

function sparql(
  tenant: TestTenant,
  name: string,
  query: string,
  accept = "application/sparql-results+json",
  extra = "",
) {
  return call(`/v1/graphs/${name}/sparql?query=${encodeURIComponent(query)}${extra}`, {
    headers: bearer(tenant.apiKey, { accept }),
  });
}

describe("graphs", () => {
  it("stores a version with its canonical hash; identical content returns the same version", async () => {
    const tenant = await createTenant();
    const res = await put(tenant, "model", TTL);
    expect(res.status).toBe(201);
    const v1 = (await res.json()) as { version: number; hash: string; triples: number };
    expect(v1).toMatchObject({ version: 1, triples: 8 });
    expect(v1.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    const reordered = TTL.split("\n")
      .reverse()
      .join("\n")
      .replace(/^(ex:|@)/m, "$1");
    const asNTriples = await (
      await call("/v1/graphs/model/versions/1", { headers: bearer(tenant.apiKey, { accept: "application/n-triples" }) })
    ).text();
    expect(asNTriples.trim().split("\n")).toHaveLength(8);
    const same = await put(tenant, "model", asNTriples, "application/n-triples");
    expect(same.status).toBe(200);
    expect(await same.json()).toMatchObject({ version: 1, hash: v1.hash });
    expect(reordered).toBeTypeOf("string");
    const latest = (await (await call("/v1/graphs/model", { headers: bearer(tenant.apiKey) })).json()) as {
      version: number;
    };
    expect(latest.version).toBe(1);
  });

  it("PATCH with SPARQL Update and with {add, remove} makes new versions; diff reads them back", async () => {
    const tenant = await createTenant();
    await put(tenant, "model", TTL);
    const updated = await patch(
      tenant,
      "model",
      `PREFIX ex: <http://example.org/> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
       DELETE { ?f ex:type "number" } INSERT { ?f ex:type "decimal" } WHERE { ?f ex:type "number" } ;
       INSERT DATA { ex:Customer a ex:Entity ; rdfs:label "Customer" }`,
      "application/sparql-update",
    );
    expect(updated.status).toBe(201);
    const v2 = (await updated.json()) as { version: number; triples: number; hash: string };
    expect(v2).toMatchObject({ version: 2, triples: 10 });
    expect(v2.hash).toMatch(/^sha256:/);
    const json = await patch(
      tenant,
      "model",
      JSON.stringify({ remove: "<http://example.org/Customer> a <http://example.org/Entity> ." }),
      "application/json",
    );
    expect(await json.json()).toMatchObject({ version: 3, triples: 9 });

    const diff = (await (
      await call("/v1/graphs/model/diff?from=1&to=2", { headers: bearer(tenant.apiKey) })
    ).json()) as {
      counts: Record<string, number>;
      changedSubjects: unknown[];
    };
    expect(diff.counts).toMatchObject({ added: 3, removed: 1 });
    expect(diff.changedSubjects).toHaveLength(2);
    const nt = await call("/v1/graphs/model/diff?from=2&to=3", {
      headers: bearer(tenant.apiKey, { accept: "application/n-triples" }),
    });
    expect(await nt.text()).toContain("Customer");
    const versions = (await (await call("/v1/graphs/model/versions", { headers: bearer(tenant.apiKey) })).json()) as {
      items: { version: number }[];
    };
    expect(versions.items.map((v) => v.version)).toEqual([1, 2, 3]);
    // The old version stays queryable.
    const old = await sparql(
      tenant,
      "model",
      "SELECT ?t WHERE { <http://example.org/total> <http://example.org/type> ?t }",
      "application/sparql-results+json",
      "&version=1",
    );
    expect(JSON.stringify(await old.json())).toContain('"number"');
  });

  it("answers SPARQL in JSON, XML, CSV, TSV and graph formats", async () => {
    const tenant = await createTenant();
    await put(tenant, "model", TTL);
    const q =
      "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> SELECT ?label WHERE { ?s rdfs:label ?label } ORDER BY ?label";
    const json = (await (await sparql(tenant, "model", q)).json()) as {
      results: { bindings: { label: { value: string } }[] };
    };
    expect(json.results.bindings.map((b) => b.label.value)).toEqual(["Order", "id", "total"]);
    expect((await sparql(tenant, "model", q)).headers.get("server-timing")).toMatch(/^query;dur=\d+$/);
    const csv = await sparql(tenant, "model", q, "text/csv");
    expect(await csv.text()).toBe("label\r\nOrder\r\nid\r\ntotal\r\n");
    expect((await sparql(tenant, "model", q, "application/sparql-results+xml")).headers.get("content-type")).toContain(
      "sparql-results+xml",
    );
    expect((await sparql(tenant, "model", q, "text/tab-separated-values")).status).toBe(200);
    const ask = (await (await sparql(tenant, "model", "ASK { ?s ?p ?o }")).json()) as { boolean: boolean };
    expect(ask.boolean).toBe(true);
    const construct = await sparql(tenant, "model", "CONSTRUCT { ?s a ?t } WHERE { ?s a ?t }", "application/n-triples");
    expect((await construct.text()).trim()).toBe(
      "<http://example.org/Order> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://example.org/Entity> .",
    );
    const post = await call("/v1/graphs/model/sparql", {
      method: "POST",
      headers: { ...bearer(tenant.apiKey), "content-type": "application/sparql-query" },
      body: "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }",
    });
    expect(JSON.stringify(await post.json())).toContain('"8"');
    const form = await call("/v1/graphs/model/sparql", {
      method: "POST",
      headers: { ...bearer(tenant.apiKey), "content-type": "application/x-www-form-urlencoded" },
      body: `query=${encodeURIComponent("ASK {}")}`,
    });
    expect(form.status).toBe(200);
  });

  it("reports bad input as problems", async () => {
    const tenant = await createTenant();
    await expectProblem(await put(tenant, "model", "x", "application/pdf"), 415, "unsupported-media-type");
    const syntax = await expectProblem(
      await put(tenant, "model", "@prefix ex: <http://e/> .\nex:a ex:b ex:c .\nex:a ex:b", "text/turtle"),
      400,
      "rdf-syntax-error",
    );
    expect(syntax.line).toBe(3);
    await put(tenant, "model", TTL);
    const badQuery = await expectProblem(await sparql(tenant, "model", "SELEKT * {}"), 400, "sparql-syntax-error");
    expect(badQuery.detail).toBeTruthy();
    await expectProblem(
      await sparql(tenant, "model", "SELECT * { SERVICE <http://x/> { ?s ?p ?o } }"),
      422,
      "sparql-not-supported",
    );
    await expectProblem(await sparql(tenant, "model", "SELECT * {}", "image/png"), 406, "not-acceptable");
    await expectProblem(await call("/v1/graphs/missing", { headers: bearer(tenant.apiKey) }), 404, "not-found");
    await expectProblem(await sparql(tenant, "missing", "ASK {}"), 404, "not-found");
    await expectProblem(
      await call("/v1/graphs/model/versions/9", { headers: bearer(tenant.apiKey) }),
      404,
      "not-found",
    );
    await expectProblem(
      await call("/v1/graphs/model/diff?from=1", { headers: bearer(tenant.apiKey) }),
      400,
      "validation-error",
    );
    await expectProblem(await patch(tenant, "model", "x", "text/plain"), 415, "unsupported-media-type");
    await expectProblem(
      await patch(tenant, "model", "LOAD <http://example.org/x>", "application/sparql-update"),
      422,
      "sparql-not-supported",
    );
    await expectProblem(await put(tenant, "bad name!", TTL), 400, "validation-error");
  });

  it("refuses uploads over the triple quota with nothing stored, and results over the row limit", async () => {
    const tenant = await createTenant();
    const limit = planLimits("free").triples;
    // One subject with many objects keeps the document under the plan's body limit.
    const objects = (n: number, from = 0) =>
      `<http://e/s> <http://e/p> ${Array.from({ length: n }, (_, i) => i + from).join(",")} .`;
    await expectProblem(await put(tenant, "huge", objects(limit + 1)), 403, "quota-exceeded");
    await expectProblem(await call("/v1/graphs/huge", { headers: bearer(tenant.apiKey) }), 404, "not-found");
    // Two graphs together over the quota: the second upload is refused whole.
    const half = Math.ceil(limit / 2) + 1;
    expect((await put(tenant, "a", objects(half))).status).toBe(201);
    await expectProblem(await put(tenant, "b", objects(half, half)), 403, "quota-exceeded");
    await expectProblem(await call("/v1/graphs/b", { headers: bearer(tenant.apiKey) }), 404, "not-found");
    const usage = (await (await call("/v1/graphs", { headers: bearer(tenant.apiKey) })).json()) as {
      items: { graph: string }[];
    };
    expect(usage.items.map((g) => g.graph)).toEqual(["a"]);

    expect((await put(tenant, "c", objects(150))).status).toBe(201);
    const many = await sparql(tenant, "c", "SELECT * { ?s ?p ?o . ?s2 ?p2 ?o2 }");
    const problem = await expectProblem(many, 422, "query-result-limit");
    expect(problem.limit).toBe(planLimits("free").queryResultRows);
  }, 60_000);

  it("validates against SHACL shapes", async () => {
    const tenant = await createTenant();
    await put(tenant, "model", TTL);
    const shapes = `@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
      ex:FieldShape a sh:NodeShape ; sh:targetObjectsOf ex:field ; sh:property [ sh:path ex:type ; sh:in ("string" "number") ; sh:minCount 1 ] .`;
    const ok = await call("/v1/graphs/model/validate", {
      method: "POST",
      headers: { ...bearer(tenant.apiKey), "content-type": "text/turtle" },
      body: shapes,
    });
    expect(await ok.json()).toMatchObject({ conforms: true, results: [] });
    await patch(
      tenant,
      "model",
      JSON.stringify({ add: '<http://example.org/id> <http://example.org/type> "uuid" .' }),
      "application/json",
    );
    const bad = (await (
      await call("/v1/graphs/model/validate", {
        method: "POST",
        headers: { ...bearer(tenant.apiKey), "content-type": "text/turtle" },
        body: shapes,
      })
    ).json()) as { conforms: boolean; results: unknown[] };
    expect(bad.conforms).toBe(false);
    expect(bad.results).toHaveLength(1);
    await expectProblem(
      await call("/v1/graphs/model/validate", {
        method: "POST",
        headers: { ...bearer(tenant.apiKey), "content-type": "application/json" },
        body: "{}",
      }),
      415,
      "unsupported-media-type",
    );
  });

  it("isolates tenants, checks roles, deletes, and logs version events", async () => {
    const a = await createTenant();
    const b = await createTenant();
    await put(b, "secret", TTL);
    await expectProblem(await call("/v1/graphs/secret", { headers: bearer(a.apiKey) }), 404, "not-found");
    await expectProblem(await sparql(a, "secret", "ASK {}"), 404, "not-found");
    await expectProblem(
      await call("/v1/graphs/secret", { method: "DELETE", headers: bearer(a.apiKey) }),
      404,
      "not-found",
    );
    const list = (await (await call("/v1/graphs", { headers: bearer(a.apiKey) })).json()) as { items: unknown[] };
    expect(list.items).toHaveLength(0);
    const viewer = await createKey(b, "viewer");
    await expectProblem(await put(viewer.secret, "secret", TTL), 403, "insufficient-role");
    expect((await call("/v1/graphs/secret", { headers: bearer(viewer.secret) })).status).toBe(200);
    const events = (await (await call("/v1/events", { headers: bearer(b.apiKey) })).json()) as {
      events: { type: string }[];
    };
    expect(events.events.map((e) => e.type)).toContain("dev.kgen.graph.version.created");
    expect((await call("/v1/graphs/secret", { method: "DELETE", headers: bearer(b.apiKey) })).status).toBe(204);
    await expectProblem(await call("/v1/graphs/secret", { headers: bearer(b.apiKey) }), 404, "not-found");
    expect(env.TENANT).toBeDefined();
  });

  it("serves several requests in a row (readable-stream shim keeps no timers)", async () => {
    const tenant = await createTenant();
    for (let i = 0; i < 5; i++) expect((await put(tenant, `g${i}`, TTL)).status).toBe(201);
  });
});
