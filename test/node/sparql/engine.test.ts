import { Parser } from "n3";
import { describe, expect, it } from "vitest";
import { runSparqlQuery } from "../../../shared/rdf/sparql/engine";
import {
  QueryBudgetExceededError,
  ResultLimitExceededError,
  SparqlNotSupportedError,
  SparqlSyntaxError,
} from "../../../shared/rdf/sparql/errors";
import type { QueryResult, SparqlQueryOptions } from "../../../shared/rdf/sparql/execute/execute";
import { toSparqlCsv, toSparqlJson, toSparqlTsv, toSparqlXml } from "../../../shared/rdf/sparql/execute/results";
import type { QuadStore } from "../../../shared/rdf/store/quad-store";
import { memoryQuadStore } from "../../support/sparql-store";

const P = "@prefix : <http://example.org/> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .";
const Q = "PREFIX : <http://example.org/> ";
const NOW = new Date("2026-01-01T00:00:00Z");

function options(store: QuadStore, extra: Partial<SparqlQueryOptions> = {}): SparqlQueryOptions {
  const named = store
    .listGraphs()
    .map((graph) => ({ iri: `urn:graph:${graph.name}`, ref: store.graphRef(graph.name) }));
  return { dataset: { defaultGraph: [store.graphRef("main")], namedGraphs: named }, now: NOW, ...extra };
}

function rows(result: QueryResult): string[] {
  if (result.type !== "bindings") throw new Error(`expected bindings, got ${result.type}`);
  return result.bindings
    .map((row) => result.variables.map((name) => `${name}=${row.get(name)?.value ?? ""}`).join(" "))
    .sort();
}

const DATA = `${P}
:alice :knows :bob ; :age 30 ; :name "Alice"@en .
:bob :knows :carol ; :age 25 ; :name "Bob" .
:carol :knows :dave ; :age 41 .
:dave :name "Dave" .`;

describe("SPARQL engine over the quad store", () => {
  it("answers BGPs, OPTIONAL, FILTER, aggregates, paths, ORDER BY and LIMIT", () => {
    const store = memoryQuadStore({ main: DATA });
    const run = (query: string) => runSparqlQuery(store, Q + query, options(store));
    expect(rows(run("SELECT ?a ?b WHERE { ?a :knows ?b . ?b :knows ?c }"))).toEqual([
      "a=http://example.org/alice b=http://example.org/bob",
      "a=http://example.org/bob b=http://example.org/carol",
    ]);
    expect(rows(run("SELECT ?p ?n WHERE { ?p :age ?a OPTIONAL { ?p :name ?n } FILTER(?a > 26) }"))).toEqual([
      "p=http://example.org/alice n=Alice",
      "p=http://example.org/carol n=",
    ]);
    expect(rows(run("SELECT (COUNT(*) AS ?n) (SUM(?a) AS ?s) WHERE { ?p :age ?a }"))).toEqual(["n=3 s=96"]);
    expect(rows(run("SELECT ?x WHERE { :alice :knows+ ?x }"))).toEqual([
      "x=http://example.org/bob",
      "x=http://example.org/carol",
      "x=http://example.org/dave",
    ]);
    expect(rows(run("SELECT ?x WHERE { :carol ^:knows/^:knows ?x }"))).toEqual(["x=http://example.org/alice"]);
    expect(rows(run("SELECT ?x WHERE { ?x :knows/:knows :carol }"))).toEqual(["x=http://example.org/alice"]);
    expect(rows(run("SELECT ?x WHERE { ?x ^:knows/^:knows :carol }"))).toEqual([]);
    const ordered = run("SELECT ?p WHERE { ?p :age ?a } ORDER BY DESC(?a) LIMIT 2");
    expect(ordered.type === "bindings" && ordered.bindings.map((row) => row.get("p")?.value)).toEqual([
      "http://example.org/carol",
      "http://example.org/alice",
    ]);
    expect(run("ASK { :dave :knows ?x }")).toEqual({ type: "boolean", value: false });
    const graph = run("CONSTRUCT { ?b :knownBy ?a } WHERE { ?a :knows ?b }");
    expect(graph.type === "quads" && graph.quads.length).toBe(3);
    const described = run("DESCRIBE :bob");
    expect(described.type === "quads" && described.quads.length).toBe(3);
  });

  it("queries a pinned version and other graphs of the tenant as named graphs", () => {
    const store = memoryQuadStore({ main: DATA, other: `${P} :x :p 1 .` });
    store.applyPatch("main", { add: new Parser().parse(`${P} :erin :age 22 .`) }, { createdAt: "t2" });
    const ages = (version?: number) =>
      rows(
        runSparqlQuery(store, `${Q}SELECT ?p WHERE { ?p :age ?a }`, {
          ...options(store),
          dataset: { defaultGraph: [store.graphRef("main", version)], namedGraphs: [] },
        }),
      );
    expect(ages(1)).toHaveLength(3);
    expect(ages()).toHaveLength(4);
    const inGraph = runSparqlQuery(store, `${Q}SELECT ?g ?o WHERE { GRAPH ?g { :x :p ?o } }`, options(store));
    expect(rows(inGraph)).toEqual(["g=urn:graph:other o=1"]);
    const fromOther = runSparqlQuery(store, `${Q}SELECT ?o FROM <urn:graph:other> WHERE { ?s ?p ?o }`, options(store));
    expect(rows(fromOther)).toEqual(["o=1"]);
    const fromUnknown = runSparqlQuery(store, `${Q}SELECT * FROM <urn:graph:none> WHERE { ?s ?p ?o }`, options(store));
    expect(rows(fromUnknown)).toEqual([]);
  });

  it("throws typed errors for syntax, SERVICE, updates and the caller's limits", () => {
    const store = memoryQuadStore({ main: DATA });
    const run = (query: string, extra: Partial<SparqlQueryOptions> = {}) =>
      runSparqlQuery(store, Q + query, options(store, extra));
    try {
      run("SELECT * WHERE {\n ?s ?p \n}");
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(SparqlSyntaxError);
      expect((error as SparqlSyntaxError).line).toBe(3);
    }
    expect(() => run("SELECT * WHERE { SERVICE <http://x/> { ?s ?p ?o } }")).toThrow(SparqlNotSupportedError);
    expect(() => run("INSERT DATA { :a :b :c }")).toThrow(SparqlNotSupportedError);
    expect(() => run("SELECT * WHERE { ?s ?p ?o }", { maxRows: 5 })).toThrow(ResultLimitExceededError);
    expect(rows(run("SELECT * WHERE { ?s ?p ?o } LIMIT 5", { maxRows: 5 }))).toHaveLength(5);
    expect(() => run("SELECT * WHERE { ?a ?b ?c . ?d ?e ?f }", { maxSteps: 50 })).toThrow(QueryBudgetExceededError);
    let calls = 0;
    const stop = () => ++calls > 1;
    expect(() => run("SELECT * WHERE { { ?a :knows ?c } UNION { ?c :age ?x } }", { shouldStop: stop })).toThrow(
      /deadline/,
    );
  });

  it("serializes results as SPARQL JSON, XML, CSV and TSV", () => {
    const store = memoryQuadStore({ main: `${P} :a :p "x,y"@en, 2, _:b .` });
    const result = runSparqlQuery(store, `${Q}SELECT ?o ?none WHERE { :a :p ?o } ORDER BY ?o`, options(store));
    if (result.type !== "bindings") throw new Error("bindings expected");
    const json = JSON.parse(toSparqlJson(result));
    expect(json.head.vars).toEqual(["o", "none"]);
    expect(json.results.bindings.map((row: Record<string, { type: string }>) => row.o?.type)).toEqual([
      "bnode",
      "literal",
      "literal",
    ]);
    expect(json.results.bindings[2].o).toEqual({ type: "literal", value: "x,y", "xml:lang": "en" });
    expect(toSparqlXml(result)).toContain('<binding name="o"><literal xml:lang="en">x,y</literal></binding>');
    expect(toSparqlCsv(result).split("\r\n").slice(2)).toEqual(["2,", '"x,y",', ""]);
    expect(toSparqlTsv(result).split("\n").slice(2)).toEqual(["2\t", '"x,y"@en\t', ""]);
    expect(toSparqlJson({ type: "boolean", value: true })).toBe('{"head":{},"boolean":true}');
  });
});
