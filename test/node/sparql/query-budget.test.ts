import { describe, expect, it } from "vitest";
import { MemoryBudgetExceededError, NestingTooDeepError } from "../../../shared/core/budget-errors";
import { queryLimits } from "../../../shared/plans";
import { runSparqlQuery } from "../../../shared/rdf/sparql/engine";
import { QueryBudgetExceededError } from "../../../shared/rdf/sparql/errors";
import {
  MAX_HELD_ROWS_BYTES,
  MAX_QUERY_STRING_CHARS,
  QueryBudget,
} from "../../../shared/rdf/sparql/evaluate/query-budget";
import type { QueryResult, SparqlQueryOptions } from "../../../shared/rdf/sparql/execute/execute";
import { checkQueryNesting, MAX_QUERY_GROUPS, MAX_QUERY_NESTING } from "../../../shared/rdf/sparql/parse/query-nesting";
import type { QuadStore } from "../../../shared/rdf/store/quad-store";
import { memoryQuadStore } from "../../support/sparql-store";

const NOW = new Date("2026-01-01T00:00:00Z");
/** The free plan's budget, as the tenant object passes it. */
const FREE = queryLimits("free");

/** `size` triples over a few subjects and predicates: every pattern of a hostile join matches them all. */
function denseGraph(size: number): string {
  const lines: string[] = [];
  for (let i = 0; i < size; i++) lines.push(`<urn:s${i % 10}> <urn:p${i % 3}> "value ${i}" .`);
  return lines.join("\n");
}

/** A complete directed graph over `nodes` nodes with one predicate. */
function completeGraph(nodes: number): string {
  const lines: string[] = [];
  for (let a = 0; a < nodes; a++)
    for (let b = 0; b < nodes; b++) if (a !== b) lines.push(`<urn:n${a}> <urn:p> <urn:n${b}> .`);
  return lines.join("\n");
}

/** `fan` nodes pointing at a hub and `fan` nodes it points at: many two-hop paths, no cycle. */
function hubGraph(fan: number): string {
  const lines: string[] = [];
  for (let i = 0; i < fan; i++) lines.push(`<urn:x${i}> <urn:p> <urn:hub> .`, `<urn:hub> <urn:p> <urn:y${i}> .`);
  return lines.join("\n");
}

function options(store: QuadStore, extra: Partial<SparqlQueryOptions> = {}): SparqlQueryOptions {
  return { dataset: { defaultGraph: [store.graphRef("main")], namedGraphs: [] }, now: NOW, ...extra };
}

function single(result: QueryResult, variable: string): string | undefined {
  if (result.type !== "bindings") throw new Error("bindings expected");
  return result.bindings[0]?.get(variable)?.value;
}

/** Runs `query` under the free plan's budget; returns the error it throws and how long that took. */
function refusal(store: QuadStore, query: string, extra: Partial<SparqlQueryOptions> = {}) {
  const started = performance.now();
  try {
    runSparqlQuery(store, query, options(store, { maxSteps: FREE.maxSteps, maxRows: FREE.maxRows, ...extra }));
  } catch (error) {
    return { error, ms: performance.now() - started };
  }
  throw new Error(`not refused: ${query}`);
}

const FIVE_WAY = "?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o";

describe("SPARQL query budget", { timeout: 60_000 }, () => {
  const dense = memoryQuadStore({ main: denseGraph(103) });

  it.each([
    ["the 5-way COUNT(*) cartesian product", `SELECT (COUNT(*) AS ?n) WHERE { ${FIVE_WAY} }`],
    ["COUNT(DISTINCT ?o) over it", `SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE { ${FIVE_WAY} }`],
    ["COUNT grouped over it", `SELECT ?a (COUNT(?o) AS ?n) WHERE { ${FIVE_WAY} } GROUP BY ?a`],
    ["COUNT(*) over a 4-way product", "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"],
    [
      "a product of two subqueries (a hash join, counted before it is built)",
      "SELECT * WHERE { { SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } } { SELECT ?g ?h WHERE { ?g ?h ?i . ?j ?k ?l } } }",
    ],
  ])("stops %s at the step budget (query-time-limit)", (_name, query) => {
    const { error, ms } = refusal(dense, query);
    expect(error).toBeInstanceOf(QueryBudgetExceededError);
    expect((error as QueryBudgetExceededError).reason).toBe("steps");
    expect(ms).toBeLessThan(5_000);
  });

  it.each([
    ["SELECT * of the 5-way product", `SELECT * WHERE { ${FIVE_WAY} }`],
    ["SELECT DISTINCT of it", `SELECT DISTINCT ?a ?o WHERE { ${FIVE_WAY} }`],
    ["ORDER BY over it", `SELECT ?o WHERE { ${FIVE_WAY} } ORDER BY ?o LIMIT 1`],
    ["GROUP_CONCAT over it", `SELECT (GROUP_CONCAT(?o) AS ?all) WHERE { ${FIVE_WAY} }`],
    ["ASK of a product with a FILTER that never holds", `ASK { ${FIVE_WAY} FILTER(?a = <urn:none>) }`],
    ["OPTIONAL over it", "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f OPTIONAL { ?g ?h ?i . ?j ?k ?l } }"],
    [
      "nested OPTIONALs",
      "SELECT * WHERE { ?a ?b ?c OPTIONAL { ?d ?e ?f OPTIONAL { ?g ?h ?i OPTIONAL { ?j ?k ?l } } } }",
    ],
    ["a UNION of products", "SELECT * WHERE { { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } UNION { ?a ?b ?c . ?d ?e ?f } }"],
  ])("refuses %s at the held-rows bound (memory-budget-exceeded)", (_name, query) => {
    const { error, ms } = refusal(dense, query);
    expect(error).toBeInstanceOf(MemoryBudgetExceededError);
    expect((error as MemoryBudgetExceededError).limit).toBe(MAX_HELD_ROWS_BYTES);
    expect(ms).toBeLessThan(5_000);
  });

  it("stops correlated MINUS and NOT EXISTS over products", () => {
    for (const query of [
      "SELECT * WHERE { ?a ?b ?c FILTER NOT EXISTS { ?d ?e ?f . ?g ?h ?i . ?j ?k ?l FILTER(?l = ?c && ?a = <urn:none>) } }",
      "SELECT * WHERE { ?a ?b ?c MINUS { ?a ?e ?f . ?g ?h ?i . ?j ?k ?l } }",
    ]) {
      const { error, ms } = refusal(dense, query);
      expect(error instanceof QueryBudgetExceededError || error instanceof MemoryBudgetExceededError).toBe(true);
      expect(ms).toBeLessThan(5_000);
    }
  });

  it("stops VALUES cross products before building them", () => {
    const values = (name: string) => `VALUES ?${name} { ${Array.from({ length: 400 }, (_, i) => i).join(" ")} }`;
    const { error, ms } = refusal(dense, `SELECT * WHERE { ${values("x")} ${values("y")} ${values("z")} }`);
    expect(error).toBeInstanceOf(QueryBudgetExceededError);
    expect(ms).toBeLessThan(5_000);
  });

  it("stops property paths over a dense graph", { timeout: 60_000 }, () => {
    const complete = memoryQuadStore({ main: completeGraph(300) });
    for (const path of [
      "(<urn:p>|^<urn:p>)*",
      "(!<urn:x>)*",
      "<urn:p>+",
      "<urn:p>/<urn:p>/<urn:p>",
      "(<urn:p>|<urn:p>)/<urn:p>*",
    ]) {
      // A closure from every node follows every edge per node (27M steps here): a tenth of the free plan's
      // budget keeps the test quick; the bound is the same mechanism at any size.
      const { error, ms } = refusal(complete, `SELECT (COUNT(*) AS ?n) WHERE { ?a ${path} ?b }`, {
        maxSteps: FREE.maxSteps / 10,
      });
      expect(error instanceof QueryBudgetExceededError || error instanceof MemoryBudgetExceededError, path).toBe(true);
      expect(ms, path).toBeLessThan(5_000);
    }
  });

  it("stops cyclic joins whose rows are filtered out only at the last pattern (a hub with no triangles)", () => {
    const hub = memoryQuadStore({ main: hubGraph(2_000) });
    const triangle = "SELECT * WHERE { ?a <urn:p> ?b . ?b <urn:p> ?c . ?c <urn:p> ?a }";
    // 4M two-hop paths through the hub, none closing: a tenth of the free plan's steps stops it.
    const { error, ms } = refusal(hub, triangle, { maxSteps: FREE.maxSteps / 10 });
    expect(error).toBeInstanceOf(QueryBudgetExceededError);
    expect(ms).toBeLessThan(5_000);
    const counted = refusal(hub, `SELECT (COUNT(*) AS ?n) WHERE { ?a <urn:p> ?b . ?b <urn:p> ?c . ?c <urn:p> ?a }`, {
      maxSteps: FREE.maxSteps / 10,
    });
    expect(counted.error).toBeInstanceOf(QueryBudgetExceededError);
    const complete = memoryQuadStore({ main: completeGraph(10) });
    const triangles = runSparqlQuery(
      complete,
      "SELECT (COUNT(*) AS ?n) WHERE { ?a <urn:p> ?b . ?b <urn:p> ?c . ?c <urn:p> ?a }",
      options(complete, FREE),
    );
    expect(single(triangles, "n")).toBe(String(10 * 9 * 8));
  });

  it("refuses string doubling with BIND(CONCAT(...)) chains (memory-budget-exceeded)", { timeout: 60_000 }, () => {
    const binds = Array.from({ length: 40 }, (_, i) => `BIND(CONCAT(?s${i}, ?s${i}) AS ?s${i + 1})`).join(" ");
    for (const query of [
      `SELECT ?s40 WHERE { BIND("abcdefgh" AS ?s0) ${binds} }`,
      `SELECT ?s40 WHERE { BIND("abcdefgh" AS ?s0) ${binds.replaceAll("CONCAT(", "UCASE(CONCAT(").replaceAll(") AS", ")) AS")} }`,
      `SELECT ?s40 WHERE { BIND("a b" AS ?s0) ${binds.replaceAll("CONCAT(", "ENCODE_FOR_URI(CONCAT(").replaceAll(") AS", ")) AS")} }`,
      `SELECT ?s40 WHERE { BIND("ab" AS ?s0) ${Array.from({ length: 40 }, (_, i) => `BIND(REPLACE(?s${i}, "b", "bb") AS ?t${i}) BIND(CONCAT(?t${i}, ?t${i}) AS ?s${i + 1})`).join(" ")} }`,
    ]) {
      const { error, ms } = refusal(dense, query);
      expect(error).toBeInstanceOf(MemoryBudgetExceededError);
      expect((error as MemoryBudgetExceededError).limit).toBe(MAX_QUERY_STRING_CHARS);
      expect(ms).toBeLessThan(5_000);
    }
  });

  it("refuses a GROUP_CONCAT past the string budget, and answers one within it", () => {
    const long = memoryQuadStore({
      main:
        denseGraph(0) +
        Array.from({ length: 40 }, (_, i) => `<urn:s${i}> <urn:p> "${"x".repeat(500_000)}" .`).join("\n"),
    });
    const { error } = refusal(long, "SELECT (GROUP_CONCAT(?o) AS ?all) WHERE { ?s ?p ?o }");
    expect(error).toBeInstanceOf(MemoryBudgetExceededError);
    const fits = runSparqlQuery(
      long,
      "SELECT (GROUP_CONCAT(?o) AS ?all) WHERE { ?s ?p ?o } LIMIT 1",
      options(long, { maxStringChars: 40 * 500_001 }),
    );
    expect(single(fits, "all")).toHaveLength(40 * 500_001 - 1);
  });

  it("counts a product exactly within the budget and refuses it one step short (random shapes)", () => {
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let trial = 0; trial < 12; trial++) {
      const size = 2 + random(30);
      const store = memoryQuadStore({ main: denseGraph(size) });
      const patterns = 1 + random(3);
      const where = Array.from({ length: patterns }, (_, i) => `?s${i} ?p${i} ?o${i}`).join(" . ");
      const query = `SELECT (COUNT(*) AS ?n) WHERE { ${where} }`;
      const rows = size ** patterns;
      const counted = runSparqlQuery(store, query, options(store, { maxSteps: rows + patterns * size + 10 }));
      expect(single(counted, "n")).toBe(String(rows));
      expect(() => runSparqlQuery(store, query, options(store, { maxSteps: rows - 1 }))).toThrow(
        QueryBudgetExceededError,
      );
      const selected = runSparqlQuery(
        store,
        `SELECT * WHERE { ${where} }`,
        options(store, { maxSteps: rows + patterns * size + 10 }),
      );
      expect(selected.type === "bindings" && selected.bindings.length).toBe(rows);
      expect(() =>
        runSparqlQuery(store, `SELECT * WHERE { ${where} }`, options(store, { maxSteps: rows - 1 })),
      ).toThrow(QueryBudgetExceededError);
    }
  });

  it("answers normal queries as before under the free plan's budget", () => {
    const count = runSparqlQuery(dense, "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f }", options(dense, FREE));
    expect(single(count, "n")).toBe(String(103 * 103));
    const grouped = runSparqlQuery(
      dense,
      "SELECT ?s (COUNT(?o) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?s ORDER BY ?s",
      options(dense, FREE),
    );
    expect(grouped.type === "bindings" && grouped.bindings.map((row) => row.get("n")?.value)).toEqual([
      "11",
      "11",
      "11",
      "10",
      "10",
      "10",
      "10",
      "10",
      "10",
      "10",
    ]);
    const concat = runSparqlQuery(
      dense,
      'SELECT (GROUP_CONCAT(?o; separator=",") AS ?all) WHERE { <urn:s1> <urn:p1> ?o }',
      options(dense, FREE),
    );
    expect(single(concat, "all")?.split(",").length).toBe(4);
  });
});

describe("held rows and strings", () => {
  it("bounds held rows by their width and strings by their total length", () => {
    const budget = new QueryBudget({ maxHeldRowsBytes: 1200, maxStringChars: 10 });
    expect(budget.heldRowLimit(0)).toBe(15);
    expect(budget.heldRowLimit(1)).toBe(10);
    expect(() => budget.holdRows(10, 1)).not.toThrow();
    expect(() => budget.holdRows(11, 1)).toThrow(MemoryBudgetExceededError);
    budget.chargeString(10);
    expect(() => budget.chargeString(1)).toThrow(MemoryBudgetExceededError);
  });

  it("gives SQL statements a LIMIT one row past the smaller of steps left and rows that fit", () => {
    const budget = new QueryBudget({ maxSteps: 100, maxHeldRowsBytes: 1200 });
    expect(budget.scanRowLimit(1, true)).toBe(11);
    expect(budget.scanRowLimit(1, false)).toBe(101);
    expect(() => budget.checkScanRows(11, 1, true)).toThrow(MemoryBudgetExceededError);
    expect(() => budget.checkScanRows(101, 1, false)).toThrow(QueryBudgetExceededError);
    expect(() => budget.checkScanRows(100, 1, false)).not.toThrow();
    expect(new QueryBudget().scanRowLimit(3, false)).toBe(Number.POSITIVE_INFINITY);
  });
});

describe("SPARQL text nesting", { timeout: 60_000 }, () => {
  const nested = (depth: number) => `SELECT * WHERE { BIND(${"(".repeat(depth - 2)}1${")".repeat(depth - 2)} AS ?x) }`;

  it("accepts the deepest allowed nesting and refuses one level more, with its position", () => {
    expect(() => checkQueryNesting(nested(MAX_QUERY_NESTING))).not.toThrow();
    try {
      checkQueryNesting(nested(MAX_QUERY_NESTING + 1));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(NestingTooDeepError);
      expect((error as NestingTooDeepError).position).toEqual({ line: 1, column: 23 + MAX_QUERY_NESTING - 2 });
    }
  });

  it("ignores brackets in strings, IRIs and comments", () => {
    const brackets = "(".repeat(500);
    expect(() =>
      checkQueryNesting(
        `SELECT * WHERE { ?s <urn:${brackets}> "${brackets}" . # ${brackets}\n ?s ?p '''${brackets}''' FILTER(?a<?b) }`,
      ),
    ).not.toThrow();
  });

  it("refuses every nesting shape past the limit, and chains of more than MAX_QUERY_GROUPS groups", () => {
    const store = memoryQuadStore({ main: denseGraph(3) });
    const depth = MAX_QUERY_NESTING + 1;
    for (const query of [
      nested(depth),
      `SELECT * WHERE { ${"{ ".repeat(depth)}?s ?p ?o${" }".repeat(depth)} }`,
      `SELECT * WHERE { ?s ?p ?o ${"OPTIONAL { ?s ?p ?o ".repeat(depth)}${" }".repeat(depth)} }`,
      `SELECT * WHERE { ?s ?p ${"[ <urn:p> ".repeat(depth)}1${" ]".repeat(depth)} }`,
      `SELECT * WHERE { ?s ?p ?o ${"OPTIONAL { ?s ?p ?o } ".repeat(MAX_QUERY_GROUPS)} }`,
      `SELECT * WHERE { ?s ?p ?o ${"MINUS { ?s ?p ?o } ".repeat(MAX_QUERY_GROUPS)} }`,
      `SELECT * WHERE { ${"{ ?s ?p ?o } UNION ".repeat(MAX_QUERY_GROUPS)} { ?s ?p ?o } }`,
    ]) {
      const started = performance.now();
      expect(() => runSparqlQuery(store, query, options(store))).toThrow(NestingTooDeepError);
      expect(performance.now() - started).toBeLessThan(500);
    }
  });

  it("refuses long operator chains as nesting, without quoting the JavaScript error", () => {
    const store = memoryQuadStore({ main: denseGraph(3) });
    try {
      runSparqlQuery(store, `SELECT ?x WHERE { BIND(${"1 + ".repeat(20_000)}1 AS ?x) }`, options(store));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(NestingTooDeepError);
      expect((error as Error).message).not.toMatch(/call stack/i);
    }
  });
});
