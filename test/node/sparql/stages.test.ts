import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { runSparqlQuery } from "../../../shared/rdf/sparql/engine";
import { executeQuery, type QueryResult } from "../../../shared/rdf/sparql/execute/execute";
import type { QueryableGraph } from "../../../shared/rdf/store/queryable-graph";
import { SqliteQueryableGraph } from "../../../shared/rdf/store/sqlite-queryable-graph";
import { memoryQuadStore } from "../../support/sparql-store";

const root = join(dirname(new URL(import.meta.url).pathname), "..", "..", "..");
const ENGINE = "shared/rdf/sparql";

function sources(folder: string): string[] {
  return readdirSync(join(root, folder)).flatMap((name) => {
    const path = `${folder}/${name}`;
    if (statSync(join(root, path)).isDirectory()) return sources(path);
    return name.endsWith(".ts") ? [path] : [];
  });
}

describe("the SPARQL engine's stages", () => {
  const files = sources(ENGINE).map((path) => ({ path, text: readFileSync(join(root, path), "utf8") }));

  it("has no SQL and names no table: the store's tables are reached through QueryableGraph", () => {
    const offending = files
      .filter(({ text }) => /\brdf_[a-z_]+\b|\bSELECT\b[^\n]*\bFROM\b|\.db\b|json_each/.test(text))
      .map(({ path }) => path);
    expect(offending).toEqual([]);
  });

  it("builds on the SQLite implementation only at its entry point", () => {
    const importers = files
      .filter(({ text }) =>
        /from "[^"]*\/store\/(sqlite-queryable-graph|queryable-graph-sql|bgp-sql|sql-database)"/.test(text),
      )
      .map(({ path }) => path);
    expect(importers).toEqual([`${ENGINE}/engine.ts`]);
  });

  it("defines each of its types once", () => {
    for (const name of ["Bindings", "ExpressionContext", "Aggregator", "QueryDataset", "QueryResult"]) {
      const declaring = files.filter(({ text }) => new RegExp(`^export (type|interface) ${name}\\b`, "m").test(text));
      expect(
        declaring.map(({ path }) => path),
        name,
      ).toHaveLength(1);
    }
  });
});

describe("pushdown through QueryableGraph", () => {
  const store = memoryQuadStore({
    main: `@prefix : <http://example.org/> .
      :alice :knows :bob ; :age 30 ; :name "Alice" .
      :bob :knows :carol ; :age 25 .
      :carol :knows :dave ; :age 41 .`,
  });
  const options = {
    dataset: { defaultGraph: [store.graphRef("main")], namedGraphs: [] },
    now: new Date("2026-01-01T00:00:00Z"),
  };

  /** The SQLite graph, recording which of its methods the evaluator calls. */
  function recordingGraph(): { graph: QueryableGraph; calls: string[] } {
    const inner = new SqliteQueryableGraph(store);
    const calls: string[] = [];
    const graph = new Proxy(inner, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          calls.push(String(property));
          return value.apply(target, args);
        };
      },
    });
    return { graph, calls };
  }

  const shape = (result: QueryResult) =>
    result.type === "bindings"
      ? result.bindings.map((row) => result.variables.map((name) => row.get(name)?.value ?? "").join(" ")).sort()
      : result;

  const cases: [string, string, string[]][] = [
    ["a BGP is one scan", "SELECT ?a ?c WHERE { ?a :knows ?b . ?b :knows ?c }", ["matchBgp"]],
    ["a numeric FILTER over a BGP is pushed with it", "SELECT ?p WHERE { ?p :age ?a FILTER(?a > 26) }", ["matchBgp"]],
    [
      "OPTIONAL between two BGPs is one left join",
      "SELECT ?p ?n WHERE { ?p :age ?a OPTIONAL { ?p :name ?n } }",
      ["matchOptional"],
    ],
    [
      "COUNT over a BGP is counted by the store",
      "SELECT ?p (COUNT(?x) AS ?n) WHERE { ?p :knows ?x } GROUP BY ?p",
      ["countGroups"],
    ],
    ["a closure steps a frontier", "SELECT ?x WHERE { :alice :knows+ ?x }", ["step"]],
    ["a link path scans edges", "SELECT ?s ?o WHERE { ?s :knows|:age ?o }", ["edges"]],
    ["a zero-length path asks the store for its nodes", "SELECT ?s ?o WHERE { ?s :knows? ?o }", ["nodes"]],
  ];

  for (const [title, body, expected] of cases) {
    it(title, () => {
      const query = `PREFIX : <http://example.org/> ${body}`;
      const { graph, calls } = recordingGraph();
      const result = executeQuery(graph, query, options);
      for (const method of expected) expect(calls).toContain(method);
      expect(shape(result)).toEqual(shape(runSparqlQuery(store, query, options)));
      expect(result.type === "bindings" && result.bindings.length).toBeGreaterThan(0);
    });
  }
});
