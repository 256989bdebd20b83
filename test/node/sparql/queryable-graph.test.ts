import type * as RDF from "@rdfjs/types";
import { Parser } from "n3";
import { describe, expect, it } from "vitest";
import type { GraphRef, QuadStore } from "../../../shared/rdf/store/quad-store";
import type { EncodedPattern, IdPair, IdSolutions } from "../../../shared/rdf/store/queryable-graph";
import { SqliteQueryableGraph } from "../../../shared/rdf/store/sqlite-queryable-graph";
import { dataFactory } from "../../../shared/rdf/store/term-key";
import { memoryQuadStore } from "../../support/sparql-store";

const EX = "http://example.org/";
const P = `@prefix : <${EX}> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .`;
const V1 = `${P}
:a :knows :b . :b :knows :c . :c :knows :a .
:a :age 30 . :b :age "thirty" . :c :age 41.5 .
:a :name "A" .`;

function setup(): { store: QuadStore; graph: SqliteQueryableGraph; v1: GraphRef; v2: GraphRef } {
  const store = memoryQuadStore({ main: V1 });
  store.applyPatch(
    "main",
    { add: new Parser().parse(`${P} :c :knows :d .`), remove: new Parser().parse(`${P} :c :knows :a .`) },
    { createdAt: "2026-01-02T00:00:00Z" },
  );
  return {
    store,
    graph: new SqliteQueryableGraph(store),
    v1: store.graphRef("main", 1),
    v2: store.graphRef("main", 2),
  };
}

describe("SqliteQueryableGraph", () => {
  const { graph, v1, v2 } = setup();
  const id = (local: string): number => {
    const found = graph.termId(dataFactory.namedNode(EX + local));
    if (found === null) throw new Error(`no id for ${local}`);
    return found;
  };
  const name = (value: number | null): string | null =>
    value === null ? null : (graph.term(value) as RDF.Term).value.replace(EX, "");
  const v = (variable: string) => ({ variable });
  const c = (local: string) => ({ id: id(local) });
  /** Rows as name → local name objects, sorted, so the column order of the store does not matter. */
  const solutions = (result: IdSolutions<number | null>) =>
    result.rows
      .map((row) => Object.fromEntries(result.variables.map((variable, index) => [variable, name(row[index] ?? null)])))
      .map((row) => JSON.stringify(row, Object.keys(row).sort()))
      .sort();
  const pairs = (result: IdPair[]) => result.map(([s, o]) => `${name(s)} ${name(o)}`).sort();

  it("encodes and decodes terms through the dictionary; unknown terms have no id", () => {
    const a = id("a");
    expect(a).toBeGreaterThan(0);
    graph.loadTerms([a]);
    expect(graph.term(a)?.equals(dataFactory.namedNode(`${EX}a`))).toBe(true);
    expect(graph.termId(dataFactory.namedNode(`${EX}nowhere`))).toBeNull();
    expect(
      graph.termId(dataFactory.literal("41.5", dataFactory.namedNode("http://www.w3.org/2001/XMLSchema#decimal"))),
    ).toBeGreaterThan(0);
    expect(graph.termId(dataFactory.variable("x"))).toBeNull();
    expect(graph.term(987_654)).toBeUndefined();
  });

  it("joins a basic graph pattern in one scan, at the version asked for, under a limit", () => {
    const chain: EncodedPattern[] = [
      [v("x"), c("knows"), v("y")],
      [v("y"), c("knows"), v("z")],
    ];
    expect(solutions(graph.matchBgp(chain, [v1]))).toEqual(
      [
        { x: "a", y: "b", z: "c" },
        { x: "b", y: "c", z: "a" },
        { x: "c", y: "a", z: "b" },
      ]
        .map((row) => JSON.stringify(row))
        .sort(),
    );
    expect(solutions(graph.matchBgp(chain, [v2]))).toEqual([
      JSON.stringify({ x: "a", y: "b", z: "c" }),
      JSON.stringify({ x: "b", y: "c", z: "d" }),
    ]);
    expect(graph.matchBgp(chain, [v1], { limit: 2 }).rows).toHaveLength(2);
    expect(graph.matchBgp(chain, [], { limit: 2 }).rows).toEqual([]);
  });

  it("merges several graph versions into a set", () => {
    const knows: EncodedPattern[] = [[v("s"), c("knows"), v("o")]];
    expect(solutions(graph.matchBgp(knows, [v1, v2]))).toEqual(
      ["a b", "b c", "c a", "c d"]
        .map((pair) => {
          const [s, o] = pair.split(" ");
          return JSON.stringify({ o, s });
        })
        .sort(),
    );
  });

  it("keeps only numeric literals within numeric bounds", () => {
    const ages: EncodedPattern[] = [[v("p"), c("age"), v("a")]];
    const over = graph.matchBgp(ages, [v1], { numericBounds: new Map([["a", { min: 35 }]]) });
    expect(over.rows.map((row) => name(row[over.variables.indexOf("p")] ?? null))).toEqual(["c"]);
    const between = graph.matchBgp(ages, [v1], { numericBounds: new Map([["a", { min: 0, max: 100 }]]) });
    // "thirty" is a string: never within numeric bounds.
    expect(between.rows.map((row) => name(row[between.variables.indexOf("p")] ?? null)).sort()).toEqual(["a", "c"]);
  });

  it("left-joins an optional pattern, leaving unmatched columns null", () => {
    const result = graph.matchOptional([[v("p"), c("age"), v("a")]], [[v("p"), c("name"), v("n")]], [v1]);
    expect(result.variables.slice(0, 2).sort()).toEqual(["a", "p"]);
    expect(result.variables[2]).toBe("n");
    const names = result.rows.map(
      (row) => `${name(row[result.variables.indexOf("p")] ?? null)}=${name(row[2] ?? null)}`,
    );
    expect(names.sort()).toEqual(["a=A", "b=null", "c=null"]);
    expect(graph.matchOptional([[v("p"), c("age"), v("a")]], [[v("p"), c("name"), v("n")]], [v1], 1).rows).toHaveLength(
      1,
    );
  });

  it("counts solutions, stopping at the limit", () => {
    const knows: EncodedPattern[] = [[v("s"), c("knows"), v("o")]];
    expect(graph.countBgp(knows, [v1])).toBe(3);
    expect(graph.countBgp(knows, [v1], 2)).toBe(2);
    expect(graph.countBgp([[c("a"), c("knows"), c("c")]], [v1])).toBe(0);
  });

  it("groups and counts in the store, reporting the solutions each group read", () => {
    const knows: EncodedPattern[] = [
      [v("s"), c("knows"), v("o")],
      [v("o"), c("knows"), v("t")],
    ];
    const counted = graph.countGroups(
      knows,
      [v2],
      ["s"],
      [
        { variable: "t", distinct: true },
        { variable: null, distinct: false },
      ],
      {},
    );
    const bySubject = counted.rows.map((row) => `${name(row[0] ?? null)}:${row[1]}:${row[2]}`).sort();
    expect(bySubject).toEqual(["a:1:1", "b:1:1"]);
    expect(counted.rows.reduce((sum, row) => sum + (row[counted.visitedColumn] ?? 0), 0)).toBe(2);
    expect(() => graph.countGroups(knows, [v2], ["missing"], [], {})).toThrow(/not bound/);
  });

  it("scans edges by predicate or negated predicate set, either end fixed", () => {
    expect(pairs(graph.edges({ predicate: id("knows") }, id("a"), null, [v1]))).toEqual(["a b"]);
    expect(pairs(graph.edges({ predicate: id("knows") }, null, id("a"), [v1]))).toEqual(["c a"]);
    expect(pairs(graph.edges({ excluded: [id("knows")] }, id("a"), null, [v1]))).toHaveLength(2);
    expect(pairs(graph.edges({ excluded: [] }, id("a"), null, [v1]))).toHaveLength(3);
    expect(graph.edges({ predicate: id("knows") }, null, null, [v1], 1)).toHaveLength(1);
    expect(graph.edges({ predicate: id("knows") }, null, null, [])).toEqual([]);
  });

  it("steps a frontier forward and backward", () => {
    const knows = { predicate: id("knows") };
    expect(pairs(graph.step(knows, [id("a"), id("b")], true, [v1]))).toEqual(["a b", "b c"]);
    expect(pairs(graph.step(knows, [id("a")], false, [v1]))).toEqual(["a c"]);
    expect(graph.step(knows, [], true, [v1])).toEqual([]);
  });

  it("knows the nodes of a graph version", () => {
    expect(graph.hasNode(id("a"), [v1])).toBe(true);
    expect(graph.hasNode(id("d"), [v1])).toBe(false);
    expect(graph.hasNode(id("d"), [v2])).toBe(true);
    expect(graph.hasNode(-1, [v1])).toBe(false);
    expect(graph.hasNode(id("a"), [])).toBe(false);
    // a, b, c, d, the four literal objects.
    expect(graph.nodes([v2])).toHaveLength(8);
    expect(graph.nodes([v2], 3)).toHaveLength(3);
    expect(graph.nodes([])).toEqual([]);
  });
});
