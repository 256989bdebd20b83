import "./sparql-client-window";
import { SparqlEndpointFetcher } from "fetch-sparql-endpoint";
import { ParsingClient } from "sparql-http-client";
import { beforeAll, describe, expect, it } from "vitest";
import { planLimits } from "../../shared/plans";
import { bearer, call, createKey, createTenant, expectProblem, type TestTenant } from "./helpers";
import { nodeStreamFetch, removeWindowStandIn, sparqlEndpoint, workerFetch } from "./sparql-clients";

const TTL = `@prefix ex: <http://example.org/> .
ex:order ex:total 10 ; ex:status "open" .
ex:line ex:of ex:order .
`;

async function upload(tenant: TestTenant, name: string, body = TTL) {
  const res = await call(`/v1/graphs/${name}`, {
    method: "PUT",
    headers: { ...bearer(tenant.apiKey), "content-type": "text/turtle" },
    body,
  });
  expect(res.status).toBe(201);
}

async function latestVersion(tenant: TestTenant, name: string): Promise<number> {
  const res = await call(`/v1/graphs/${name}`, { headers: bearer(tenant.apiKey) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { version: number }).version;
}

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of stream) items.push(item);
  return items;
}

function postUpdate(
  tenant: TestTenant | string,
  name: string,
  update: string,
  contentType = "application/sparql-update",
) {
  const credential = typeof tenant === "string" ? tenant : tenant.apiKey;
  const body =
    contentType === "application/x-www-form-urlencoded" ? new URLSearchParams({ update }).toString() : update;
  return call(`/v1/graphs/${name}/sparql`, {
    method: "POST",
    headers: { ...bearer(credential), "content-type": contentType },
    body,
  });
}

describe("SPARQL 1.1 Protocol with standard clients", () => {
  let tenant: TestTenant;
  beforeAll(async () => {
    removeWindowStandIn();
    tenant = await createTenant();
  });

  it("fetch-sparql-endpoint: SELECT, ASK, CONSTRUCT and fetchUpdate, each update a new version", async () => {
    await upload(tenant, "fse");
    const fetcher = new SparqlEndpointFetcher({ fetch: workerFetch(tenant.apiKey) });
    const endpoint = sparqlEndpoint("fse");

    const rows = await collect(
      await fetcher.fetchBindings(
        endpoint,
        "SELECT ?total WHERE { <http://example.org/order> <http://example.org/total> ?total }",
      ),
    );
    expect(rows.map((row) => (row as unknown as Record<string, { value: string }>).total?.value)).toEqual(["10"]);
    expect(await fetcher.fetchAsk(endpoint, 'ASK { ?s <http://example.org/status> "open" }')).toBe(true);
    const triples = await collect(
      await fetcher.fetchTriples(
        endpoint,
        "CONSTRUCT { ?s <http://example.org/linked> ?o } WHERE { ?s <http://example.org/of> ?o }",
      ),
    );
    expect(triples.map((quad) => [quad.subject.value, quad.object.value])).toEqual([
      ["http://example.org/line", "http://example.org/order"],
    ]);

    await fetcher.fetchUpdate(
      endpoint,
      'PREFIX ex: <http://example.org/> DELETE { ?o ex:status "open" } INSERT { ?o ex:status "paid" } WHERE { ?o ex:status "open" }',
    );
    expect(await latestVersion(tenant, "fse")).toBe(2);
    expect(await fetcher.fetchAsk(endpoint, 'ASK { ?s <http://example.org/status> "paid" }')).toBe(true);
    expect(await fetcher.fetchAsk(`${endpoint}?version=1`, 'ASK { ?s <http://example.org/status> "paid" }')).toBe(
      false,
    );
  });

  it("sparql-http-client: select, ask, construct and a form update", async () => {
    await upload(tenant, "shc");
    const client = new ParsingClient({
      endpointUrl: sparqlEndpoint("shc"),
      updateUrl: sparqlEndpoint("shc"),
      fetch: nodeStreamFetch(tenant.apiKey),
    });

    const rows = await client.query.select("SELECT ?s WHERE { ?s <http://example.org/of> ?o }");
    expect(rows.map((row) => row.s?.value)).toEqual(["http://example.org/line"]);
    expect(await client.query.ask("ASK { <http://example.org/order> ?p ?o }")).toBe(true);
    const constructed = await client.query.construct("CONSTRUCT WHERE { <http://example.org/order> ?p ?o }");
    expect(constructed.size).toBe(2);

    await client.query.update('INSERT DATA { <http://example.org/order> <http://example.org/note> "rush" }');
    expect(await latestVersion(tenant, "shc")).toBe(2);
    expect(await client.query.ask('ASK { ?s <http://example.org/note> "rush" }')).toBe(true);
  });

  it("an update that changes nothing keeps the version (200); a new one answers 201 with its location", async () => {
    await upload(tenant, "codes");
    const created = await postUpdate(tenant, "codes", 'INSERT DATA { <http://e/a> <http://e/b> "c" }');
    expect(created.status).toBe(201);
    expect(created.headers.get("location")).toBe("/v1/graphs/codes/versions/2");
    expect(await created.json()).toMatchObject({ graph: "codes", version: 2, added: 1, removed: 0 });
    const same = await postUpdate(
      tenant,
      "codes",
      'INSERT DATA { <http://e/a> <http://e/b> "c" }',
      "application/x-www-form-urlencoded",
    );
    expect(same.status).toBe(200);
    expect(await same.json()).toMatchObject({ version: 2 });
  });

  it("refuses an update larger than one call to the tenant's object carries with 413, writing nothing", async () => {
    const large = await createTenant({ plan: "enterprise" });
    await upload(large, "bulk");
    const update = `INSERT DATA { <http://e/s> <http://e/p> "${"x".repeat(25 * 1024 * 1024)}" }`;
    const problem = await expectProblem(await postUpdate(large, "bulk", update), 413, "payload-too-large");
    expect(problem.limit).toBe(24 * 1024 * 1024);
    const versions = await call("/v1/graphs/bulk/versions", { headers: bearer(large.apiKey) });
    expect(((await versions.json()) as { items: unknown[] }).items).toHaveLength(1);
  }, 60_000);

  it("refuses bad updates with a problem and writes nothing", async () => {
    await upload(tenant, "guarded");
    await expectProblem(
      await postUpdate(tenant, "guarded", "INSERT DATA { <http://e/a> <http://e/b> "),
      400,
      "sparql-syntax-error",
    );
    await expectProblem(
      await postUpdate(tenant, "guarded", "INSERT DATTA { }", "application/x-www-form-urlencoded"),
      400,
      "sparql-syntax-error",
    );
    await expectProblem(
      await postUpdate(tenant, "guarded", "LOAD <http://example.org/x>"),
      422,
      "sparql-not-supported",
    );
    await expectProblem(await postUpdate(tenant, "guarded", "CLEAR DEFAULT"), 422, "sparql-not-supported");
    await expectProblem(
      await call("/v1/graphs/guarded/sparql", {
        method: "POST",
        headers: { ...bearer(tenant.apiKey), "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          query: "ASK {}",
          update: "INSERT DATA { <http://e/a> <http://e/b> 1 }",
        }).toString(),
      }),
      400,
      "validation-error",
    );
    await expectProblem(
      await call("/v1/graphs/guarded/sparql", {
        method: "POST",
        headers: { ...bearer(tenant.apiKey), "content-type": "application/x-www-form-urlencoded" },
        body: "",
      }),
      400,
      "validation-error",
    );
    await expectProblem(
      await call(
        `/v1/graphs/guarded/sparql?update=${encodeURIComponent("INSERT DATA { <http://e/a> <http://e/b> 1 }")}`,
        {
          headers: bearer(tenant.apiKey),
        },
      ),
      400,
      "validation-error",
    );
    await expectProblem(
      await call("/v1/graphs/guarded/sparql?version=1", {
        method: "POST",
        headers: { ...bearer(tenant.apiKey), "content-type": "application/sparql-update" },
        body: "INSERT DATA { <http://e/a> <http://e/b> 1 }",
      }),
      400,
      "validation-error",
    );
    // The Protocol's dataset parameters are refused by name, never silently ignored.
    const usingGraph = await expectProblem(
      await call("/v1/graphs/guarded/sparql", {
        method: "POST",
        headers: { ...bearer(tenant.apiKey), "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          update: "INSERT { <http://e/a> <http://e/b> 1 } WHERE {}",
          "using-graph-uri": "urn:kgen:graph:other",
        }).toString(),
      }),
      400,
      "validation-error",
    );
    expect(usingGraph.errors).toEqual([expect.objectContaining({ field: "using-graph-uri" })]);
    const defaultGraph = await expectProblem(
      await call(`/v1/graphs/guarded/sparql?query=${encodeURIComponent("ASK {}")}&default-graph-uri=urn:x`, {
        headers: bearer(tenant.apiKey),
      }),
      400,
      "validation-error",
    );
    expect(defaultGraph.errors).toEqual([expect.objectContaining({ field: "default-graph-uri" })]);
    await expectProblem(
      await postUpdate(tenant, "guarded", "INSERT DATA {}", "text/plain"),
      415,
      "unsupported-media-type",
    );
    await expectProblem(
      await postUpdate(tenant, "missing", "INSERT DATA { <http://e/a> <http://e/b> 1 }"),
      404,
      "not-found",
    );
    const viewer = await createKey(tenant, "viewer");
    await expectProblem(
      await postUpdate(viewer.secret, "guarded", "INSERT DATA { <http://e/a> <http://e/b> 1 }"),
      403,
      "insufficient-role",
    );
    await expectProblem(
      await postUpdate(
        viewer.secret,
        "guarded",
        "INSERT DATA { <http://e/a> <http://e/b> 1 }",
        "application/x-www-form-urlencoded",
      ),
      403,
      "insufficient-role",
    );
    // A viewer still queries.
    const ask = await call("/v1/graphs/guarded/sparql", {
      method: "POST",
      headers: {
        ...bearer(viewer.secret),
        "content-type": "application/sparql-query",
        accept: "application/sparql-results+json",
      },
      body: "ASK { ?s ?p ?o }",
    });
    expect(await ask.json()).toMatchObject({ boolean: true });
    expect(await latestVersion(tenant, "guarded")).toBe(1);
  });

  it("counts a Protocol update against the triple quota like any write, storing nothing over it", async () => {
    const side = Math.ceil(Math.sqrt(planLimits("free").triples)) + 1;
    const subjects = Array.from({ length: side }, (_, i) => `<urn:s${i}> <urn:p> ${i} .`).join("\n");
    await upload(tenant, "quota", subjects);
    const crossProduct = "INSERT { ?a <urn:q> ?b } WHERE { ?a <urn:p> ?x . ?b <urn:p> ?y }";
    const problem = await expectProblem(await postUpdate(tenant, "quota", crossProduct), 403, "quota-exceeded");
    expect(problem.limit).toBe(planLimits("free").triples);
    expect(await latestVersion(tenant, "quota")).toBe(1);
  }, 60_000);

  it("answers 404 for another tenant's graph, through the clients too, and leaves it as it was", async () => {
    const other = await createTenant();
    await upload(other, "theirs");
    await expectProblem(
      await postUpdate(tenant, "theirs", "INSERT DATA { <http://e/a> <http://e/b> 1 }"),
      404,
      "not-found",
    );
    await expectProblem(
      await postUpdate(
        tenant,
        "theirs",
        "INSERT DATA { <http://e/a> <http://e/b> 1 }",
        "application/x-www-form-urlencoded",
      ),
      404,
      "not-found",
    );
    const fetcher = new SparqlEndpointFetcher({ fetch: workerFetch(tenant.apiKey) });
    await expect(
      fetcher.fetchUpdate(sparqlEndpoint("theirs"), "INSERT DATA { <http://e/a> <http://e/b> 1 }"),
    ).rejects.toThrow(/404/);
    await expect(fetcher.fetchAsk(sparqlEndpoint("theirs"), "ASK {}")).rejects.toThrow(/404/);
    expect(await latestVersion(other, "theirs")).toBe(1);
  });
});
