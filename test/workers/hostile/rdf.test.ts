import { beforeAll, describe, expect, it } from "vitest";
import { MAX_JSON_DEPTH } from "../../../shared/core/json-nesting";
import { MAX_RDF_NESTING_DEPTH } from "../../../shared/rdf/formats";
import { MAX_SHAPE_LIST_LENGTH, MAX_SHAPE_NESTING_DEPTH } from "../../../shared/rdf/shape-nesting";
import { bearer, call, createTenant, type TestTenant } from "../helpers";
import { expectRefusedPromptly } from "./bounded";

const SUBJECT = "<urn:s> <urn:p> ";
const collections = (depth: number) => `${SUBJECT}${"(".repeat(depth)}<urn:x>${")".repeat(depth)} .\n`;
const propertyLists = (depth: number) => `${SUBJECT}${"[ <urn:p> ".repeat(depth)}1${" ]".repeat(depth)} .\n`;
const mixed = (pairs: number) => `${SUBJECT}${"( [ <urn:p> ".repeat(pairs)}1${" ] )".repeat(pairs)} .\n`;
const inGraph = (turtle: string) => `<urn:g> {\n${turtle}}\n`;
const jsonLdObjects = (depth: number) => `${'{"urn:p":'.repeat(depth)}{"@id":"urn:x"}${"}".repeat(depth)}`;
const jsonLdArrays = (depth: number) => `{"@id":"urn:s","urn:p":${"[".repeat(depth)}1${"]".repeat(depth)}}`;

function send(tenant: TestTenant, method: "PUT" | "PATCH", name: string, body: BodyInit, contentType: string) {
  return () =>
    call(`/v1/graphs/${name}`, { method, headers: { ...bearer(tenant.apiKey), "content-type": contentType }, body });
}

function validate(tenant: TestTenant, name: string, shapes: BodyInit) {
  return () =>
    call(`/v1/graphs/${name}/validate`, {
      method: "POST",
      headers: { ...bearer(tenant.apiKey), "content-type": "text/turtle" },
      body: shapes,
    });
}

async function latest(tenant: TestTenant, name: string): Promise<{ status: number; body: unknown }> {
  const res = await call(`/v1/graphs/${name}`, { headers: bearer(tenant.apiKey) });
  return { status: res.status, body: await res.json() };
}

/** A graph with one version, to check that refused writes leave it as it was. */
async function seeded(tenant: TestTenant, name: string) {
  const res = await send(tenant, "PUT", name, "<urn:a> <urn:b> <urn:c> .", "text/turtle")();
  expect(res.status).toBe(201);
  return latest(tenant, name);
}

describe("hostile RDF input", () => {
  let tenant: TestTenant;
  let bystander: TestTenant;
  beforeAll(async () => {
    tenant = await createTenant({ plan: "standard" });
    bystander = await createTenant();
  });

  const deepTurtle: [string, string, string][] = [
    ["50,000 nested collections", "text/turtle", collections(50_000)],
    ["5,000 nested collections", "text/turtle", collections(5_000)],
    ["50,000 nested blank-node property lists", "text/turtle", propertyLists(50_000)],
    ["collections and property lists alternating, 20,000 deep", "text/turtle", mixed(10_000)],
    ["50,000 nested collections in a TriG graph", "application/trig", inGraph(collections(50_000))],
    ["5,000 nested property lists in a TriG graph", "application/trig", inGraph(propertyLists(5_000))],
  ];

  for (const [label, contentType, document] of deepTurtle) {
    it(`PUT refuses ${label} as ${contentType} (422 nesting-too-deep, line and column), storing nothing`, async () => {
      const name = `deep-put-${contentType.length}-${document.length}`;
      const problem = await expectRefusedPromptly(
        send(tenant, "PUT", name, document, contentType),
        { status: 422, type: "nesting-too-deep" },
        bystander,
      );
      const line = contentType === "application/trig" ? 2 : 1;
      expect(problem).toMatchObject({ limit: MAX_RDF_NESTING_DEPTH, line });
      expect(problem.column).toBeGreaterThan(SUBJECT.length);
      expect((await latest(tenant, name)).status).toBe(404);
    });
  }

  it("PUT over an existing graph refuses deep nesting and leaves the latest version unchanged", async () => {
    const before = await seeded(tenant, "deep-existing");
    await expectRefusedPromptly(
      send(tenant, "PUT", "deep-existing", collections(50_000), "text/turtle"),
      { status: 422, type: "nesting-too-deep" },
      bystander,
    );
    expect(await latest(tenant, "deep-existing")).toEqual(before);
  });

  it("PATCH {add} refuses deep Turtle and leaves the graph unchanged", async () => {
    const before = await seeded(tenant, "deep-patch");
    for (const add of [collections(50_000), propertyLists(5_000), mixed(5_000)]) {
      const problem = await expectRefusedPromptly(
        send(tenant, "PATCH", "deep-patch", JSON.stringify({ add }), "application/json"),
        { status: 422, type: "nesting-too-deep" },
        bystander,
      );
      expect(problem).toMatchObject({ limit: MAX_RDF_NESTING_DEPTH, line: 1 });
    }
    expect(await latest(tenant, "deep-patch")).toEqual(before);
  });

  it("PATCH refuses a JSON body nested 100,000 deep before parsing it", async () => {
    const before = await seeded(tenant, "deep-json-patch");
    const body = `{"add":${"[".repeat(100_000)}${"]".repeat(100_000)}}`;
    const problem = await expectRefusedPromptly(
      send(tenant, "PATCH", "deep-json-patch", body, "application/json"),
      { status: 422, type: "nesting-too-deep" },
      bystander,
    );
    expect(problem).toMatchObject({ subject: "json", limit: MAX_JSON_DEPTH, line: 1 });
    expect(await latest(tenant, "deep-json-patch")).toEqual(before);
  });

  const deepUpdates: [string, string][] = [
    ["50,000 nested collections", `INSERT DATA { ${collections(50_000).slice(0, -3)} }`],
    ["5,000 nested blank-node property lists", `INSERT DATA { ${propertyLists(5_000).slice(0, -3)} }`],
    ["10,000 nested groups", `INSERT { <urn:s> <urn:p> 1 } WHERE ${"{ ".repeat(10_000)}${"} ".repeat(10_000)}`],
  ];
  for (const [label, update] of deepUpdates) {
    it(`SPARQL update with ${label} is refused before parsing and changes nothing`, async () => {
      const name = `deep-update-${update.length}`;
      const before = await seeded(tenant, name);
      const problem = await expectRefusedPromptly(
        send(tenant, "PATCH", name, update, "application/sparql-update"),
        { status: 422, type: "nesting-too-deep" },
        bystander,
      );
      expect(problem).toMatchObject({ subject: "sparql update", limit: MAX_RDF_NESTING_DEPTH, line: 1 });
      expect(await latest(tenant, name)).toEqual(before);
    });
  }

  it("a SPARQL update nested to the limit, with brackets inside strings and IRIs, is applied", async () => {
    await seeded(tenant, "update-at-limit");
    const depth = MAX_RDF_NESTING_DEPTH - 1; // INSERT DATA's own braces are one level
    const update = `INSERT DATA { <urn:s> <urn:p> "((((]]]" , <urn:a(b)> . <urn:s> <urn:q> ${"[ <urn:p> ".repeat(depth - 1)}1${" ]".repeat(depth - 1)} }`;
    const res = await send(tenant, "PATCH", "update-at-limit", update, "application/sparql-update")();
    expect(res.status).toBe(201);
  });

  for (const [label, document] of [
    ["objects nested 100,000 deep", jsonLdObjects(100_000)],
    ["arrays nested 100,000 deep", jsonLdArrays(100_000)],
  ] as const) {
    it(`JSON-LD ${label} is refused before expansion`, async () => {
      const problem = await expectRefusedPromptly(
        send(tenant, "PUT", `deep-jsonld-${document.length}`, document, "application/ld+json"),
        { status: 422, type: "nesting-too-deep" },
        bystander,
      );
      expect(problem).toMatchObject({ limit: MAX_JSON_DEPTH, line: 1 });
      expect((await latest(tenant, `deep-jsonld-${document.length}`)).status).toBe(404);
    });
  }

  it("validation refuses shapes nested 5,000 deep in the syntax and 10,000 deep through IRIs", async () => {
    await seeded(tenant, "shapes-target");
    const SH = "@prefix sh: <http://www.w3.org/ns/shacl#> .\n";
    const nestedShapes = `${SH}<urn:shape> a sh:NodeShape ; sh:targetNode <urn:a> ; sh:and ${"( [ sh:and ".repeat(5_000)}( )${" ] )".repeat(5_000)} .\n`;
    const syntax = await expectRefusedPromptly(
      validate(tenant, "shapes-target", nestedShapes),
      { status: 422, type: "nesting-too-deep" },
      bystander,
    );
    expect(syntax).toMatchObject({ limit: MAX_RDF_NESTING_DEPTH, line: 2 });
    const chained = `${SH}<urn:s0> a sh:NodeShape ; sh:targetNode <urn:a> .\n${Array.from(
      { length: 10_000 },
      (_, i) => `<urn:s${i}> sh:node <urn:s${i + 1}> .`,
    ).join("\n")}\n`;
    const references = await expectRefusedPromptly(
      validate(tenant, "shapes-target", chained),
      { status: 422, type: "nesting-too-deep" },
      bystander,
    );
    expect(references).toMatchObject({ subject: "shacl shapes", limit: MAX_SHAPE_NESTING_DEPTH });
    expect(JSON.stringify(references)).not.toMatch(/call stack|RangeError/);
  });

  it("validation refuses a 10,000-step path and a 10,000-member sh:and before the validator walks them", async () => {
    await seeded(tenant, "shapes-wide");
    const SH = "@prefix sh: <http://www.w3.org/ns/shacl#> .\n";
    const many = (n: number) => Array.from({ length: n }, (_, i) => `<urn:m${i}>`).join(" ");
    for (const shapes of [
      `${SH}<urn:shape> a sh:NodeShape ; sh:targetNode <urn:a> ; sh:property [ sh:path ( ${many(10_000)} ) ; sh:minCount 1 ] .`,
      `${SH}<urn:shape> a sh:NodeShape ; sh:targetNode <urn:a> ; sh:and ( ${many(10_000)} ) .`,
    ]) {
      const problem = await expectRefusedPromptly(
        validate(tenant, "shapes-wide", shapes),
        { status: 422, type: "work-budget-exceeded" },
        bystander,
      );
      expect(problem).toMatchObject({ subject: "shacl shapes list", limit: MAX_SHAPE_LIST_LENGTH, unit: "members" });
    }
  });

  it("shapes referring to shapes up to the limit, and in a cycle, are validated", async () => {
    await seeded(tenant, "shapes-ok");
    const SH = "@prefix sh: <http://www.w3.org/ns/shacl#> .\n";
    const chain = Array.from(
      { length: MAX_SHAPE_NESTING_DEPTH - 1 },
      (_, i) => `<urn:s${i}> sh:node <urn:s${i + 1}> .`,
    ).join("\n");
    const shapes = `${SH}<urn:s0> a sh:NodeShape ; sh:targetNode <urn:a> .\n${chain}\n<urn:loop> sh:targetNode <urn:a> ; sh:node <urn:loop> .\n`;
    const res = await validate(tenant, "shapes-ok", shapes)();
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ conforms: true });
  });

  it("invalid UTF-8 is refused with the offending byte offset, for every text body", async () => {
    const prefix = new TextEncoder().encode('<urn:s> <urn:p> "é');
    const invalid = new Uint8Array([...prefix, 0xc3, 0x28, ...new TextEncoder().encode('" .\n')]);
    for (const contentType of ["text/turtle", "application/n-triples", "application/trig", "application/ld+json"]) {
      const problem = await expectRefusedPromptly(
        send(tenant, "PUT", "utf8", invalid, contentType),
        { status: 422, type: "invalid-utf8" },
        bystander,
      );
      expect(problem.byteOffset).toBe(prefix.length);
    }
    expect((await latest(tenant, "utf8")).status).toBe(404);
    await seeded(tenant, "utf8-existing");
    const updatePrefix = new TextEncoder().encode('INSERT DATA { <urn:s> <urn:p> "');
    const update = new Uint8Array([...updatePrefix, 0xff, 0x22, 0x7d]);
    const viaUpdate = await expectRefusedPromptly(
      send(tenant, "PATCH", "utf8-existing", update, "application/sparql-update"),
      { status: 422, type: "invalid-utf8" },
      bystander,
    );
    expect(viaUpdate.byteOffset).toBe(updatePrefix.length);
    const viaShapes = await expectRefusedPromptly(
      validate(tenant, "utf8-existing", invalid),
      { status: 422, type: "invalid-utf8" },
      bystander,
    );
    expect(viaShapes.byteOffset).toBe(prefix.length);
  });

  it("a body cut off in the middle of a character is refused at the start of that character", async () => {
    const text = new TextEncoder().encode('<urn:s> <urn:p> "日');
    const problem = await expectRefusedPromptly(
      send(tenant, "PUT", "utf8-cut", text.slice(0, -1), "text/turtle"),
      { status: 422, type: "invalid-utf8" },
      bystander,
    );
    expect(problem.byteOffset).toBe(text.length - 3);
  });

  for (const [label, document, contentType, line, column] of [
    ["<a> <b> <c>", "<a> <b> <c> .\n", "text/turtle", 1, 1],
    ["a relative object on line 2", "<urn:s> <urn:p> <urn:o> .\n<urn:s> <urn:p> <c> .\n", "text/turtle", 2, 17],
    ["a relative prefix", "@prefix ex: <ns#> .\nex:a ex:b ex:c .\n", "text/turtle", 1, 13],
    ["a relative graph name", "<g> { <urn:s> <urn:p> <urn:o> }\n", "application/trig", 1, 1],
  ] as const) {
    it(`refuses ${label} with no base (422 relative-iri at line ${line}, column ${column})`, async () => {
      const problem = await expectRefusedPromptly(
        send(tenant, "PUT", "relative", document, contentType),
        { status: 422, type: "relative-iri" },
        bystander,
      );
      expect(problem).toMatchObject({ line, column });
      expect((await latest(tenant, "relative")).status).toBe(404);
    });
  }

  it("relative IRIs resolve against a base the document declares", async () => {
    const res = await send(tenant, "PUT", "with-base", "@base <urn:base/> .\n<a> <b> <c> .\n", "text/turtle")();
    expect(res.status).toBe(201);
  });

  for (const document of ["42", '"x"', "null", "true"]) {
    it(`refuses the JSON-LD body ${document} (422 invalid-jsonld-document)`, async () => {
      await expectRefusedPromptly(
        send(tenant, "PUT", "jsonld-scalar", document, "application/ld+json"),
        { status: 422, type: "invalid-jsonld-document" },
        bystander,
      );
      expect((await latest(tenant, "jsonld-scalar")).status).toBe(404);
    });
  }

  it("a chain of 5,000 look-alike blank nodes (no nesting at all) exhausts the canonicalization budget", async () => {
    const chain = Array.from({ length: 5_000 }, (_, i) => `_:b${i} <urn:p> _:b${i + 1} .`).join("\n");
    const problem = await expectRefusedPromptly(
      send(tenant, "PUT", "chain", chain, "text/turtle"),
      { status: 422, type: "work-budget-exceeded" },
      bystander,
    );
    expect(problem).toMatchObject({ subject: "canonicalization", unit: "steps" });
    expect((await latest(tenant, "chain")).status).toBe(404);
  });

  it("many blank-node trees just under the nesting limit exhaust the canonicalization budget, not the runtime", async () => {
    const depth = MAX_RDF_NESTING_DEPTH - 1;
    const tree = (i: number) => `<urn:s${i}> <urn:p> ${"[ <urn:p> ".repeat(depth)}1${" ]".repeat(depth)} .\n`;
    const forest = Array.from({ length: 300 }, (_, i) => tree(i)).join("");
    const before = await seeded(tenant, "forest");
    const problem = await expectRefusedPromptly(
      send(tenant, "PUT", "forest", forest, "text/turtle"),
      { status: 422, type: "work-budget-exceeded" },
      bystander,
    );
    expect(problem).toMatchObject({ subject: "canonicalization" });
    expect(await latest(tenant, "forest")).toEqual(before);
  });

  it("a SPARQL update adding a long blank-node chain exhausts the budget and changes nothing", async () => {
    const before = await seeded(tenant, "chain-update");
    const chain = Array.from({ length: 2_000 }, (_, i) => `_:b${i} <urn:p> _:b${i + 1} .`).join(" ");
    await expectRefusedPromptly(
      send(tenant, "PATCH", "chain-update", `INSERT DATA { ${chain} }`, "application/sparql-update"),
      { status: 422, type: "work-budget-exceeded" },
      bystander,
    );
    expect(await latest(tenant, "chain-update")).toEqual(before);
  });

  it("nesting exactly at the limit is stored; one level more is refused (collections, lists, mixed, TriG)", async () => {
    const limit = MAX_RDF_NESTING_DEPTH;
    const cases: [string, string, string][] = [
      ["text/turtle", collections(limit), collections(limit + 1)],
      ["text/turtle", propertyLists(limit), propertyLists(limit + 1)],
      ["text/turtle", mixed(limit / 2), `${SUBJECT}(${mixed(limit / 2).slice(SUBJECT.length, -3)}) .`],
      ["application/trig", inGraph(collections(limit)), inGraph(collections(limit + 1))],
    ];
    for (const [index, [contentType, atLimit, overLimit]] of cases.entries()) {
      const stored = await send(tenant, "PUT", `at-limit-${index}`, atLimit, contentType)();
      expect(stored.status, `${contentType} #${index} at the limit`).toBe(201);
      const refused = await send(tenant, "PUT", `over-limit-${index}`, overLimit, contentType)();
      expect(refused.status, `${contentType} #${index} over the limit`).toBe(422);
      expect(((await refused.json()) as { type: string }).type).toMatch(/nesting-too-deep$/);
    }
  });
});
