import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import canonize from "rdf-canonize";
import { describe, expect, it } from "vitest";
import { parseRdf } from "../../../shared/rdf/formats";
import { migratedQuadStore, uploadTriples } from "../../support/sparql-store";
import { jsonOf, runKgen } from "./run-cli";

const EX = "http://example.org/";
// Every test starts the command a few times, each start loading TypeScript through tsx.
const SPAWNS_TIMEOUT = 60_000;

/** A temporary folder holding these files. */
function project(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), "kgen-graph-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(root, name), text);
  return root;
}

// Blank nodes, a language tag, a typed literal and an escaped string: the cases canonical forms get wrong.
const PEOPLE_NT = `<${EX}alice> <${EX}knows> <${EX}bob> .
<${EX}alice> <${EX}name> "Alice"@en .
<${EX}alice> <${EX}age> "30"^^<http://www.w3.org/2001/XMLSchema#integer> .
<${EX}bob> <${EX}name> "Bob \\"B\\"\\n" .
_:x <${EX}address> _:y .
_:y <${EX}city> "Paris" .
<${EX}alice> <${EX}home> _:x .
`;

// The same triples as Turtle, with other blank node labels and the second blank node anonymous.
const PEOPLE_TTL = `@prefix : <${EX}> .
:alice :knows :bob ; :name "Alice"@en ; :age 30 ; :home _:home .
:bob :name "Bob \\"B\\"\\n" .
_:home :address [ :city "Paris" ] .
`;

const PEOPLE_JSONLD = JSON.stringify({
  "@context": { "@vocab": EX },
  "@graph": [
    {
      "@id": `${EX}alice`,
      knows: { "@id": `${EX}bob` },
      name: { "@value": "Alice", "@language": "en" },
      age: 30,
      home: { address: { city: "Paris" } },
    },
    { "@id": `${EX}bob`, name: 'Bob "B"\n' },
  ],
});

const SHAPES_TTL = `@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix : <${EX}> .
:PersonShape a sh:NodeShape ; sh:targetSubjectsOf :knows ;
  sh:property [ sh:path :name ; sh:minCount 1 ] .
`;

const STRICT_SHAPES_TTL = `@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix : <${EX}> .
:PersonShape a sh:NodeShape ; sh:targetSubjectsOf :knows ;
  sh:property [ sh:path :email ; sh:minCount 1 ; sh:message "a person needs an email" ] .
`;

const BAD_TTL = `@prefix : <${EX}> .
:a :b :c .
:a :b .
`;

describe("kgen graph hash", { timeout: SPAWNS_TIMEOUT }, () => {
  it("prints the hash the platform's upload path gives, which is rdf-canonize's canonical N-Quads SHA-256", async () => {
    const root = project({ "people.nt": PEOPLE_NT });
    const run = runKgen(["graph", "hash", "people.nt"], { cwd: root });
    expect(run.status).toBe(0);
    const printed = run.stdout.trim();

    const viaUpload = await uploadTriples(
      migratedQuadStore(),
      "g",
      await parseRdf(PEOPLE_NT, "application/n-triples"),
      {
        createdAt: "2026-01-01T00:00:00Z",
      },
    );
    expect(printed).toBe(viaUpload.version.hash);

    const canonical = await canonize.canonize(PEOPLE_NT, {
      algorithm: "RDFC-1.0",
      inputFormat: "application/n-quads",
    });
    expect(printed).toBe(`sha256:${createHash("sha256").update(canonical, "utf8").digest("hex")}`);
  });

  it("gives the same hash for the same triples in Turtle and JSON-LD, whatever the blank node labels", () => {
    const root = project({ "people.nt": PEOPLE_NT, "people.ttl": PEOPLE_TTL, "people.jsonld": PEOPLE_JSONLD });
    const hashes = ["people.nt", "people.ttl", "people.jsonld"].map((file) => {
      const run = runKgen(["--json", "graph", "hash", file], { cwd: root });
      expect(run.status).toBe(0);
      const json = jsonOf(run);
      expect(json).toMatchObject({ file, triples: 7 });
      return json.hash;
    });
    expect(hashes[0]).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(new Set(hashes).size).toBe(1);
  });

  it("drops graph names as the upload does: N-Quads and TriG in named graphs hash as their triples", () => {
    const inGraph = PEOPLE_NT.replaceAll(" .\n", ` <${EX}graph> .\n`);
    const trig = `@prefix : <${EX}> .\n:graph { ${PEOPLE_TTL.split("\n").slice(1).join("\n")} }\n`;
    const root = project({ "people.nt": PEOPLE_NT, "people.nq": inGraph, "people.trig": trig });
    const hashes = ["people.nt", "people.nq", "people.trig"].map((file) => {
      const run = runKgen(["graph", "hash", file], { cwd: root });
      expect(run.status).toBe(0);
      return run.stdout;
    });
    expect(new Set(hashes).size).toBe(1);
  });

  it("gives another hash when one literal changes", () => {
    const root = project({ "a.nt": PEOPLE_NT, "b.nt": PEOPLE_NT.replace('"Paris"', '"Lyon"') });
    const a = runKgen(["graph", "hash", "a.nt"], { cwd: root });
    const b = runKgen(["graph", "hash", "b.nt"], { cwd: root });
    expect(a.stdout).not.toBe(b.stdout);
  });

  it("names the file and the line of a syntax error, exit 1", () => {
    const root = project({ "bad.ttl": BAD_TTL });
    const run = runKgen(["graph", "hash", "bad.ttl"], { cwd: root });
    expect(run.status).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/^error: bad\.ttl:3: .+\nhint: .+\n/m);
    const json = runKgen(["--json", "graph", "hash", "bad.ttl"], { cwd: root });
    expect(json.status).toBe(1);
    expect(jsonOf(json)).toMatchObject({ error: expect.stringMatching(/^bad\.ttl:3: /), exitCode: 1 });
  });

  it("reports a missing file with a hint, exit 1", () => {
    const run = runKgen(["graph", "hash", "nowhere.ttl"], { cwd: project({}) });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("error: nowhere.ttl: no such file");
    expect(run.stderr).toContain("hint: check the path");
  });

  it("refuses a file whose extension names no RDF format, exit 1", () => {
    const run = runKgen(["graph", "hash", "people.txt"], { cwd: project({ "people.txt": PEOPLE_NT }) });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("people.txt: unknown RDF file extension");
    expect(run.stderr).toContain(".ttl .nt .nq .trig .jsonld");
  });

  it("exits 2 without its file argument", () => {
    const run = runKgen(["graph", "hash"], { cwd: project({}) });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("missing required argument 'file'");
  });
});

describe("kgen graph diff", { timeout: SPAWNS_TIMEOUT }, () => {
  const after = PEOPLE_TTL.replace(":knows :bob", ":knows :carol").replace('"Paris"', '"Lyon"');

  it("prints removed and added triples as N-Triples with - and +, exit 0", () => {
    const root = project({ "a.ttl": PEOPLE_TTL, "b.ttl": after });
    const run = runKgen(["graph", "diff", "a.ttl", "b.ttl"], { cwd: root });
    expect(run.status).toBe(0);
    const lines = run.stdout.trim().split("\n");
    expect(lines).toContain(`- <${EX}alice> <${EX}knows> <${EX}bob> .`);
    expect(lines).toContain(`+ <${EX}alice> <${EX}knows> <${EX}carol> .`);
    expect(lines.filter((line) => line.startsWith("- ")).some((line) => line.endsWith(`<${EX}city> "Paris" .`))).toBe(
      true,
    );
    expect(lines.filter((line) => line.startsWith("+ ")).some((line) => line.endsWith(`<${EX}city> "Lyon" .`))).toBe(
      true,
    );
    expect(lines.at(-1)).toBe("# 2 added, 2 removed");
  });

  it("gives counts and triples with --json", () => {
    const root = project({ "a.ttl": PEOPLE_TTL, "b.ttl": after });
    const json = jsonOf(runKgen(["--json", "graph", "diff", "a.ttl", "b.ttl"], { cwd: root }));
    expect(json.counts).toEqual({ added: 2, removed: 2, changedSubjects: 2 });
    expect(json.removed).toContainEqual({
      subject: { type: "uri", value: `${EX}alice` },
      predicate: { type: "uri", value: `${EX}knows` },
      object: { type: "uri", value: `${EX}bob` },
    });
  });

  it("finds no difference between the same graph written twice with other blank node labels", () => {
    const root = project({ "a.nt": PEOPLE_NT, "b.ttl": PEOPLE_TTL });
    const run = runKgen(["--json", "graph", "diff", "a.nt", "b.ttl"], { cwd: root });
    expect(run.status).toBe(0);
    expect(jsonOf(run)).toMatchObject({ counts: { added: 0, removed: 0 }, added: [], removed: [] });
  });

  it("reports the file with the syntax error and the missing file, exit 1; a missing argument exits 2", () => {
    const root = project({ "a.ttl": PEOPLE_TTL, "bad.ttl": BAD_TTL });
    const bad = runKgen(["graph", "diff", "a.ttl", "bad.ttl"], { cwd: root });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^error: bad\.ttl:3: /m);
    const missing = runKgen(["graph", "diff", "gone.ttl", "a.ttl"], { cwd: root });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("gone.ttl: no such file");
    expect(runKgen(["graph", "diff", "a.ttl"], { cwd: root }).status).toBe(2);
  });
});

describe("kgen graph query", { timeout: SPAWNS_TIMEOUT }, () => {
  const select = "PREFIX : <http://example.org/> SELECT ?person ?name WHERE { ?person :name ?name } ORDER BY ?person";

  it("prints a SELECT as an aligned table by default", () => {
    const run = runKgen(["graph", "query", "people.ttl", select], { cwd: project({ "people.ttl": PEOPLE_TTL }) });
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(
      [
        `person                      name`,
        `--------------------------  -------------`,
        `<${EX}alice>  "Alice"@en`,
        `<${EX}bob>    "Bob \\"B\\"\\n"`,
        "2 rows",
        "",
      ].join("\n"),
    );
  });

  it("prints SPARQL results JSON with --format json and with --json alike", () => {
    const root = project({ "people.ttl": PEOPLE_TTL });
    const expected = {
      head: { vars: ["person", "name"] },
      results: {
        bindings: [
          {
            person: { type: "uri", value: `${EX}alice` },
            name: { type: "literal", value: "Alice", "xml:lang": "en" },
          },
          { person: { type: "uri", value: `${EX}bob` }, name: { type: "literal", value: 'Bob "B"\n' } },
        ],
      },
    };
    expect(jsonOf(runKgen(["graph", "query", "people.ttl", select, "--format", "json"], { cwd: root }))).toEqual(
      expected,
    );
    expect(jsonOf(runKgen(["--json", "graph", "query", "people.ttl", select], { cwd: root }))).toEqual(expected);
  });

  it("prints CSV and TSV, reads the query from @file, and answers ASK", () => {
    const root = project({ "people.ttl": PEOPLE_TTL, "names.rq": select });
    const csv = runKgen(["graph", "query", "people.ttl", "@names.rq", "--format", "csv"], { cwd: root });
    expect(csv.stdout).toBe(`person,name\r\n${EX}alice,Alice\r\n${EX}bob,"Bob ""B""\n"\r\n`);
    const tsv = runKgen(["graph", "query", "people.ttl", "@names.rq", "--format", "tsv"], { cwd: root });
    expect(tsv.stdout).toBe(`?person\t?name\n<${EX}alice>\t"Alice"@en\n<${EX}bob>\t"Bob \\"B\\"\\n"\n`);
    const ask = runKgen(["graph", "query", "people.ttl", `ASK { <${EX}alice> <${EX}age> 30 }`], { cwd: root });
    expect(ask.stdout).toBe("true\n");
  });

  it("prints CONSTRUCT results as sorted N-Triples", () => {
    const root = project({ "people.ttl": PEOPLE_TTL });
    const query = `CONSTRUCT { ?s <${EX}label> ?n } WHERE { ?s <${EX}name> ?n }`;
    const run = runKgen(["graph", "query", "people.ttl", query], { cwd: root });
    expect(run.stdout).toBe(`<${EX}alice> <${EX}label> "Alice"@en .\n<${EX}bob> <${EX}label> "Bob \\"B\\"\\n" .\n`);
    const json = jsonOf(runKgen(["--json", "graph", "query", "people.ttl", query], { cwd: root }));
    expect(json.triples).toHaveLength(2);
  });

  it("reports a SPARQL syntax error with its line, exit 1, and an unsupported feature, exit 1", () => {
    const root = project({ "people.ttl": PEOPLE_TTL });
    const bad = runKgen(["graph", "query", "people.ttl", "SELECT ?x WHERE { ?x ?y }"], { cwd: root });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^error: query line 1: Expecting .+, got '}'\nhint: check the SPARQL text\n/m);
    const service = runKgen(["graph", "query", "people.ttl", "SELECT * { SERVICE <http://x.org/> { ?s ?p ?o } }"], {
      cwd: root,
    });
    expect(service.status).toBe(1);
    expect(service.stderr).toContain("error: query: SERVICE");
  });

  it("reports a missing query file and a syntax error in the data, exit 1; bad usage exits 2", () => {
    const root = project({ "people.ttl": PEOPLE_TTL, "bad.ttl": BAD_TTL });
    const missing = runKgen(["graph", "query", "people.ttl", "@gone.rq"], { cwd: root });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("gone.rq: no such query file");
    const bad = runKgen(["graph", "query", "bad.ttl", select], { cwd: root });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^error: bad\.ttl:3: /m);
    expect(runKgen(["graph", "query", "people.ttl"], { cwd: root }).status).toBe(2);
    expect(runKgen(["graph", "query", "people.ttl", select, "--format", "xml"], { cwd: root }).status).toBe(2);
  });
});

describe("kgen graph validate", { timeout: SPAWNS_TIMEOUT }, () => {
  it("exits 0 and says so when the data conforms", () => {
    const root = project({ "people.ttl": PEOPLE_TTL, "shapes.ttl": SHAPES_TTL });
    const run = runKgen(["graph", "validate", "people.ttl", "--shapes", "shapes.ttl"], { cwd: root });
    expect(run.status).toBe(0);
    expect(run.stdout).toBe("conforms: people.ttl against shapes.ttl\n");
    const json = runKgen(["--json", "graph", "validate", "people.ttl", "--shapes", "shapes.ttl"], { cwd: root });
    expect(jsonOf(json)).toEqual({ conforms: true, results: [] });
  });

  it("exits 1 with the report when the data does not conform", () => {
    const root = project({ "people.ttl": PEOPLE_TTL, "shapes.ttl": STRICT_SHAPES_TTL });
    const run = runKgen(["graph", "validate", "people.ttl", "--shapes", "shapes.ttl"], { cwd: root });
    expect(run.status).toBe(1);
    expect(run.stdout).toBe(`does not conform: 1 result(s)\n<${EX}alice> <${EX}email>: a person needs an email\n`);
    const json = runKgen(["--json", "graph", "validate", "people.ttl", "--shapes", "shapes.ttl"], { cwd: root });
    expect(json.status).toBe(1);
    expect(jsonOf(json)).toMatchObject({
      conforms: false,
      results: [
        {
          focusNode: `<${EX}alice>`,
          path: `<${EX}email>`,
          sourceConstraintComponent: "http://www.w3.org/ns/shacl#MinCountConstraintComponent",
          severity: "http://www.w3.org/ns/shacl#Violation",
          message: "a person needs an email",
        },
      ],
    });
  });

  it("reports a syntax error in the shapes and a missing shapes file, exit 1; no --shapes exits 2", () => {
    const root = project({ "people.ttl": PEOPLE_TTL, "bad.ttl": BAD_TTL });
    const bad = runKgen(["graph", "validate", "people.ttl", "--shapes", "bad.ttl"], { cwd: root });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^error: bad\.ttl:3: /m);
    const missing = runKgen(["graph", "validate", "people.ttl", "--shapes", "gone.ttl"], { cwd: root });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("gone.ttl: no such file");
    const usage = runKgen(["graph", "validate", "people.ttl"], { cwd: root });
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain("--shapes");
  });
});
