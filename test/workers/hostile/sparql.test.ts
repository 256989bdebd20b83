import { describe, expect, it } from "vitest";
import { MAX_HELD_ROWS_BYTES, MAX_QUERY_STRING_CHARS } from "../../../shared/rdf/sparql/evaluate/query-budget";
import { MAX_QUERY_GROUPS, MAX_QUERY_NESTING } from "../../../shared/rdf/sparql/parse/query-nesting";
import { bearer, call, createTenant, type TestTenant } from "../helpers";
import { expectPlanRefusedPromptly, expectRefusedPromptly } from "./bounded";

/** 103 triples over 10 subjects and 3 predicates: every pattern of a hostile join matches them all. */
const DENSE = Array.from({ length: 103 }, (_, i) => `<urn:s${i % 10}> <urn:p${i % 3}> "value ${i}" .`).join("\n");
/** A complete directed graph over 60 nodes (3,540 edges). */
const COMPLETE = Array.from({ length: 60 }, (_, a) =>
  Array.from({ length: 60 }, (_, b) => (a === b ? "" : `<urn:n${a}> <urn:p> <urn:n${b}> .`)).join("\n"),
).join("\n");
const FIVE_WAY = "?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o";

async function tenantWithGraph(name: string, ntriples: string): Promise<TestTenant> {
  const tenant = await createTenant();
  const res = await call(`/v1/graphs/${name}`, {
    method: "PUT",
    headers: { ...bearer(tenant.apiKey), "content-type": "application/n-triples" },
    body: ntriples,
  });
  expect(res.status).toBe(201);
  return tenant;
}

function sparql(tenant: TestTenant, graph: string, query: string) {
  return call(`/v1/graphs/${graph}/sparql`, {
    method: "POST",
    headers: bearer(tenant.apiKey, {
      "content-type": "application/sparql-query",
      accept: "application/sparql-results+json",
    }),
    body: query,
  });
}

const STEPS = { status: 422, type: "query-time-limit" };
const MEMORY = { status: 422, type: "memory-budget-exceeded" };
const NESTING = { status: 422, type: "nesting-too-deep" };

describe("hostile SPARQL is refused promptly, and other tenants are answered meanwhile", () => {
  it.each([
    ["the 5-way COUNT(*) cartesian product", `SELECT (COUNT(*) AS ?n) WHERE { ${FIVE_WAY} }`, STEPS],
    ["COUNT(DISTINCT) over it", `SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE { ${FIVE_WAY} }`, STEPS],
    ["a grouped COUNT over it", `SELECT ?a (COUNT(?o) AS ?n) WHERE { ${FIVE_WAY} } GROUP BY ?a`, STEPS],
    ["SELECT * of it", `SELECT * WHERE { ${FIVE_WAY} }`, MEMORY],
    ["SELECT DISTINCT of it", `SELECT DISTINCT ?a ?o WHERE { ${FIVE_WAY} }`, MEMORY],
    ["ORDER BY over it", `SELECT ?o WHERE { ${FIVE_WAY} } ORDER BY ?o LIMIT 1`, MEMORY],
    ["GROUP_CONCAT over it", `SELECT (GROUP_CONCAT(?o) AS ?all) WHERE { ${FIVE_WAY} }`, MEMORY],
    ["ASK with a FILTER that never holds", `ASK { ${FIVE_WAY} FILTER(?a = <urn:none>) }`, MEMORY],
    [
      "a product of two subqueries",
      "SELECT * WHERE { { SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } } { SELECT ?g WHERE { ?g ?h ?i . ?j ?k ?l } } }",
      STEPS,
    ],
    [
      "nested OPTIONALs",
      "SELECT * WHERE { ?a ?b ?c OPTIONAL { ?d ?e ?f OPTIONAL { ?g ?h ?i OPTIONAL { ?j ?k ?l } } } }",
      MEMORY,
    ],
    [
      "a correlated NOT EXISTS over a product",
      "SELECT * WHERE { ?a ?b ?c FILTER NOT EXISTS { ?d ?e ?f . ?g ?h ?i . ?j ?k ?l FILTER(?l = ?c) } }",
      MEMORY,
    ],
    [
      "VALUES cross products",
      `SELECT * WHERE { ${["x", "y", "z"].map((name) => `VALUES ?${name} { ${Array.from({ length: 300 }, (_, i) => i).join(" ")} }`).join(" ")} }`,
      STEPS,
    ],
    [
      "BIND(CONCAT(?s, ?s)) doubling chains",
      `SELECT ?s40 WHERE { BIND("abcdefgh" AS ?s0) ${Array.from({ length: 40 }, (_, i) => `BIND(CONCAT(?s${i}, ?s${i}) AS ?s${i + 1})`).join(" ")} }`,
      MEMORY,
    ],
    [
      "UCASE(CONCAT(...)) doubling chains",
      `SELECT ?s40 WHERE { BIND("abcdefgh" AS ?s0) ${Array.from({ length: 40 }, (_, i) => `BIND(UCASE(CONCAT(?s${i}, ?s${i})) AS ?s${i + 1})`).join(" ")} }`,
      MEMORY,
    ],
    [
      "brackets nested past the limit",
      `SELECT ?x WHERE { BIND(${"(".repeat(MAX_QUERY_NESTING)}1${")".repeat(MAX_QUERY_NESTING)} AS ?x) }`,
      NESTING,
    ],
    [
      "an OPTIONAL chain past the group limit",
      `SELECT * WHERE { ?s ?p ?o ${"OPTIONAL { ?s ?p ?o } ".repeat(MAX_QUERY_GROUPS)} }`,
      NESTING,
    ],
  ])("%s", async (_name, query, expected) => {
    const tenant = await tenantWithGraph("dense", DENSE);
    const bystander = await createTenant();
    const problem = await expectRefusedPromptly(() => sparql(tenant, "dense", query), expected, bystander);
    if (expected === MEMORY) expect([MAX_HELD_ROWS_BYTES, MAX_QUERY_STRING_CHARS]).toContain(problem.limit);
    expect(JSON.stringify(problem)).not.toMatch(/at .*\.ts|TypeError|RangeError|call stack/);
  });

  it.each([["(<urn:p>|^<urn:p>)*"], ["(!<urn:x>)*"], ["<urn:p>/<urn:p>"]])(
    "property path %s over a dense graph",
    async (path) => {
      const tenant = await tenantWithGraph("complete", COMPLETE);
      const bystander = await createTenant();
      const query = `SELECT (COUNT(*) AS ?n) WHERE { ?a ${path} ?b . ?c ${path} ?d }`;
      await expectRefusedPromptly(() => sparql(tenant, "complete", query), STEPS, bystander);
    },
  );

  it("a cyclic join through a hub, filtered out only at its last pattern", async () => {
    const hub = Array.from(
      { length: 4_000 },
      (_, i) => `<urn:x${i}> <urn:p> <urn:hub> .\n<urn:hub> <urn:p> <urn:y${i}> .`,
    ).join("\n");
    const tenant = await tenantWithGraph("hub", hub);
    const bystander = await createTenant();
    const query = "SELECT * WHERE { ?a <urn:p> ?b . ?b <urn:p> ?c . ?c <urn:p> ?a }";
    await expectRefusedPromptly(() => sparql(tenant, "hub", query), STEPS, bystander);
  });

  it("a GROUP_CONCAT past the string budget", async () => {
    const long = "x".repeat(40_000);
    const tenant = await tenantWithGraph(
      "long",
      Array.from({ length: 20 }, (_, i) => `<urn:s${i}> <urn:p> "${long}" .`).join("\n"),
    );
    const bystander = await createTenant();
    const query = "SELECT (GROUP_CONCAT(?o) AS ?all) WHERE { ?s ?p ?o . ?t ?q ?r . ?u ?v ?w }";
    const problem = await expectRefusedPromptly(() => sparql(tenant, "long", query), MEMORY, bystander);
    expect(problem.limit).toBe(MAX_QUERY_STRING_CHARS);
  });

  it.each([
    [
      "a COUNT(*) subquery over the 5-way product",
      `INSERT { <urn:x> <urn:n> ?n } WHERE { { SELECT (COUNT(*) AS ?n) WHERE { ${FIVE_WAY} } } }`,
      STEPS,
    ],
    ["an INSERT of the 5-way product", `INSERT { ?a <urn:q> ?o } WHERE { ${FIVE_WAY} }`, MEMORY],
  ])("a SPARQL Update whose WHERE is %s, leaving the graph as it was", async (_name, update, expected) => {
    const tenant = await tenantWithGraph("dense", DENSE);
    const bystander = await createTenant();
    const patch = () =>
      call("/v1/graphs/dense", {
        method: "PATCH",
        headers: bearer(tenant.apiKey, { "content-type": "application/sparql-update" }),
        body: update,
      });
    await expectRefusedPromptly(patch, expected, bystander);
    const latest = (await (await call("/v1/graphs/dense", { headers: bearer(tenant.apiKey) })).json()) as {
      version: number;
    };
    expect(latest.version).toBe(1);
  });

  it("a normal query on the same graph is answered as before", async () => {
    const tenant = await tenantWithGraph("dense", DENSE);
    const res = await sparql(tenant, "dense", "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f }");
    expect(res.status).toBe(200);
    const body = (await res.json()) as { results: { bindings: { n: { value: string } }[] } };
    expect(body.results.bindings[0]?.n.value).toBe(String(103 * 103));
  });

  it.each([
    [
      "frontmatter sparql:",
      `---\nto: out.txt\nsparql: "SELECT (COUNT(*) AS ?n) WHERE { ${FIVE_WAY} }"\n---\n{{ rows[0].n }}`,
    ],
    ["sparql() in the template", `---\nto: out.txt\n---\n{{ sparql("SELECT * WHERE { ${FIVE_WAY} }") | length }}`],
  ])("a generation querying through %s", async (_name, template) => {
    const tenant = await tenantWithGraph("dense", DENSE);
    const put = await call("/v1/templates/hostile/t.njk", {
      method: "PUT",
      headers: { ...bearer(tenant.apiKey), "content-type": "text/plain" },
      body: template,
    });
    expect(put.status).toBeLessThan(300);
    const bystander = await createTenant();
    const expected = template.includes("COUNT") ? STEPS : MEMORY;
    await expectPlanRefusedPromptly(
      tenant,
      "/v1/generations",
      { graph: "dense", generator: "hostile", params: {} },
      expected,
      bystander,
    );
  });
});
