import { beforeAll, describe, expect, it } from "vitest";
import { bearer, call, createTenant, expectProblem, type TestTenant } from "./helpers";

const TTL = `@prefix ex: <http://example.org/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ex:Order rdfs:label "Order" ; ex:field ex:id .
`;

function write(tenant: TestTenant, name: string, method: string, body: string, contentType: string) {
  return call(`/v1/graphs/${name}`, {
    method,
    headers: { ...bearer(tenant.apiKey), "content-type": contentType },
    body,
  });
}

function read(tenant: TestTenant, path: string, accept?: string) {
  return call(path, { headers: bearer(tenant.apiKey, accept === undefined ? {} : { accept }) });
}

describe("graph content by Accept", () => {
  let tenant: TestTenant;
  beforeAll(async () => {
    tenant = await createTenant();
    expect((await write(tenant, "shop", "PUT", TTL, "text/turtle")).status).toBe(201);
  });

  it("GET /graphs/{name}: JSON metadata by default, the latest content in the RDF format asked for", async () => {
    const json = await read(tenant, "/v1/graphs/shop");
    expect(json.headers.get("vary")).toContain("Accept");
    expect(await json.json()).toMatchObject({ graph: "shop", version: 1, triples: 2 });
    expect(await (await read(tenant, "/v1/graphs/shop", "*/*")).json()).toMatchObject({ version: 1 });

    const turtle = await read(tenant, "/v1/graphs/shop", "text/turtle");
    expect(turtle.headers.get("content-type")).toBe("text/turtle; charset=utf-8");
    expect(turtle.headers.get("vary")).toContain("Accept");
    const text = await turtle.text();
    expect(text).toContain("@prefix ex: <http://example.org/>.");
    expect(text).toContain("@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#>.");
    expect(text).toContain('ex:Order ex:field ex:id;\n    rdfs:label "Order".');

    const trig = await read(tenant, "/v1/graphs/shop", "application/trig");
    expect(trig.headers.get("content-type")).toBe("application/trig; charset=utf-8");
    expect(await trig.text()).toContain("ex:Order ex:field ex:id");

    const ntriples = await read(tenant, "/v1/graphs/shop", "application/n-triples");
    expect(await ntriples.text()).toBe(
      '<http://example.org/Order> <http://example.org/field> <http://example.org/id> .\n<http://example.org/Order> <http://www.w3.org/2000/01/rdf-schema#label> "Order" .\n',
    );
    const nquads = await read(tenant, "/v1/graphs/shop", "text/x-nquads");
    expect(nquads.headers.get("content-type")).toBe("application/n-quads; charset=utf-8");
    const jsonld = await read(tenant, "/v1/graphs/shop", "application/ld+json");
    expect(jsonld.headers.get("content-type")).toBe("application/ld+json; charset=utf-8");
    expect(JSON.stringify(await jsonld.json())).toContain("http://example.org/Order");
    // q-values decide between JSON and RDF.
    const preferred = await read(tenant, "/v1/graphs/shop", "application/json;q=0.5, text/turtle");
    expect(preferred.headers.get("content-type")).toBe("text/turtle; charset=utf-8");

    await expectProblem(await read(tenant, "/v1/graphs/shop", "image/png"), 406, "not-acceptable");
    await expectProblem(await read(tenant, "/v1/graphs/missing", "text/turtle"), 404, "not-found");
  });

  it("versions/latest is the latest version wherever versions/{n} is served", async () => {
    const latest = await read(tenant, "/v1/graphs/shop/versions/latest", "application/n-triples");
    const first = await read(tenant, "/v1/graphs/shop/versions/1", "application/n-triples");
    expect(latest.status).toBe(200);
    expect(latest.headers.get("vary")).toContain("Accept");
    expect(await latest.text()).toBe(await first.text());
    expect(await (await read(tenant, "/v1/graphs/shop/versions/latest")).text()).toContain("@prefix ex:");
    await expectProblem(await read(tenant, "/v1/graphs/missing/versions/latest"), 404, "not-found");
    await expectProblem(await read(tenant, "/v1/graphs/shop/versions/newest"), 400, "validation-error");
    await expectProblem(await read(tenant, "/v1/graphs/shop/versions/latest", "image/png"), 406, "not-acceptable");
  });

  it("a PATCH keeps the previous version's prefixes and adds those it declares", async () => {
    const update = await write(
      tenant,
      "shop",
      "PATCH",
      'PREFIX schema: <https://schema.org/> INSERT DATA { <http://example.org/Order> schema:name "Order" }',
      "application/sparql-update",
    );
    expect(update.status).toBe(201);
    const afterUpdate = await (await read(tenant, "/v1/graphs/shop/versions/2", "text/turtle")).text();
    expect(afterUpdate).toContain("@prefix ex: <http://example.org/>.");
    expect(afterUpdate).toContain("@prefix schema: <https://schema.org/>.");
    expect(afterUpdate).toContain('schema:name "Order"');

    const patch = await write(
      tenant,
      "shop",
      "PATCH",
      JSON.stringify({ add: '@prefix dc: <http://purl.org/dc/terms/> . <http://example.org/Order> dc:title "O" .' }),
      "application/json",
    );
    expect(patch.status).toBe(201);
    const afterPatch = await (await read(tenant, "/v1/graphs/shop/versions/latest", "text/turtle")).text();
    for (const prefix of ["ex:", "rdfs:", "schema:", "dc:"]) expect(afterPatch).toContain(`@prefix ${prefix}`);
    // Earlier versions keep their own prefixes.
    expect(await (await read(tenant, "/v1/graphs/shop/versions/1", "text/turtle")).text()).not.toContain("schema:");
  });

  it("a graph deleted and written again does not inherit the old prefixes", async () => {
    expect((await write(tenant, "again", "PUT", TTL, "text/turtle")).status).toBe(201);
    expect((await call("/v1/graphs/again", { method: "DELETE", headers: bearer(tenant.apiKey) })).status).toBe(204);
    const nt = "<http://example.org/a> <http://example.org/b> <http://example.org/c> .";
    expect((await write(tenant, "again", "PUT", nt, "application/n-triples")).status).toBe(201);
    const turtle = await (await read(tenant, "/v1/graphs/again", "text/turtle")).text();
    expect(turtle).not.toContain("@prefix");
    expect(turtle).toContain("<http://example.org/a> <http://example.org/b> <http://example.org/c>");
  });
});
