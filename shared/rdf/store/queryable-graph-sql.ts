import { XSD_NS } from "../../core/rdf-vocabulary";
import { orderPatterns } from "./bgp-plan";
import type { GraphRef } from "./quad-store";
import type { CountSpec, EncodedPattern, NumericBounds, PredicateTest } from "./queryable-graph";

/*
 * The SQL of the SQLite QueryableGraph: every scan the SPARQL evaluator pushes down, as one statement
 * over `rdf_quad` (and `rdf_term` for numeric bounds). Term and graph ids are integers produced by the
 * store and are inlined.
 */

const COLUMNS = ["s", "p", "o"] as const;

/**
 * SQL condition restricting quad alias `alias` to the given graph versions (ids are integers, inlined).
 * Unary `+` keeps SQLite from driving lookups through the version indexes (meant for diffs), so the
 * SPO/POS/OSP indexes serve pattern lookups.
 */
export function graphCondition(alias: string, graphs: readonly GraphRef[]): string {
  const parts = graphs.map(
    (ref) =>
      `(${alias}.g = ${ref.graphId | 0} AND +${alias}.added_in <= ${ref.version | 0} AND +${alias}.removed_in > ${ref.version | 0})`,
  );
  return parts.length === 1 ? (parts[0] as string) : `(${parts.join(" OR ")})`;
}

export interface CompiledBgp {
  sql: string;
  variables: string[];
}

const NUMERIC_TYPES = [
  "integer",
  "decimal",
  "double",
  "float",
  "long",
  "int",
  "short",
  "byte",
  "nonNegativeInteger",
  "nonPositiveInteger",
  "negativeInteger",
  "positiveInteger",
  "unsignedLong",
  "unsignedInt",
  "unsignedShort",
  "unsignedByte",
].map((name) => `'${XSD_NS}${name}'`);

/**
 * SQL test that term `alias` (a row of rdf_term) may satisfy `bounds`: numeric literals by value (as REAL,
 * with a margin for rounding), and the special doubles INF/-INF/NaN always pass.
 */
function numericBoundsCondition(alias: string, bounds: NumericBounds): string {
  const typeStart = `instr(${alias}.key, '"^^')`;
  const lexical = `substr(${alias}.key, 2, ${typeStart} - 2)`;
  const isNumeric = `${typeStart} > 0 AND substr(${alias}.key, ${typeStart} + 3) IN (${NUMERIC_TYPES.join(", ")})`;
  const tests: string[] = [];
  const margin = (value: number) => Math.abs(value) * 1e-12 + 1e-9;
  if (bounds.min !== undefined) tests.push(`CAST(${lexical} AS REAL) >= ${bounds.min - margin(bounds.min)}`);
  if (bounds.max !== undefined) tests.push(`CAST(${lexical} AS REAL) <= ${bounds.max + margin(bounds.max)}`);
  const special = `${lexical} IN ('INF', '+INF', '-INF', 'NaN')`;
  // The value test first: it rejects most rows before the datatype test runs.
  return `((${tests.join(" AND ") || "1"} OR ${special}) AND ${isNumeric})`;
}

/**
 * A basic graph pattern as one SQL self-join over `rdf_quad`. Term ids and graph ids are integers
 * produced by the store and are inlined, so the statement binds no parameters.
 */
export function compileBgp(
  patterns: EncodedPattern[],
  graphs: readonly GraphRef[],
  limit?: number,
  numericBounds?: ReadonlyMap<string, NumericBounds>,
): CompiledBgp {
  const ordered = orderPatterns(patterns);
  const firstColumn = new Map<string, string>();
  const conditions: string[] = [];
  const from: string[] = [];
  ordered.forEach((pattern, index) => {
    const alias = `q${index}`;
    from.push(`rdf_quad ${alias}`);
    conditions.push(graphCondition(alias, graphs));
    pattern.forEach((slot, position) => {
      const column = `${alias}.${COLUMNS[position]}`;
      if ("id" in slot) {
        conditions.push(`${column} = ${slot.id | 0}`);
        return;
      }
      const existing = firstColumn.get(slot.variable);
      if (existing) conditions.push(`${column} = ${existing}`);
      else firstColumn.set(slot.variable, column);
    });
  });
  let boundIndex = 0;
  for (const [name, bounds] of numericBounds ?? []) {
    const column = firstColumn.get(name);
    if (!column || !Number.isFinite(bounds.min ?? 0) || !Number.isFinite(bounds.max ?? 0)) continue;
    const alias = `n${boundIndex++}`;
    const [quadAlias, position] = column.split(".") as [string, string];
    const predicate = ordered[Number(quadAlias.slice(1))]?.[1];
    if (position === "o" && predicate && "id" in predicate) {
      // Test each distinct object of the predicate once, then seek the index for the few that qualify.
      const graphIds = [...new Set(graphs.map((ref) => ref.graphId | 0))].join(", ");
      conditions.push(
        `${column} IN (SELECT ${alias}.id FROM rdf_term ${alias} WHERE ${alias}.id IN (SELECT DISTINCT d.o FROM rdf_quad d
         WHERE d.g IN (${graphIds}) AND d.p = ${predicate.id | 0}) AND ${numericBoundsCondition(alias, bounds)})`,
      );
      continue;
    }
    from.push(`rdf_term ${alias}`);
    conditions.push(`${alias}.id = ${column}`, numericBoundsCondition(alias, bounds));
  }
  const variables = [...firstColumn.keys()];
  const select = variables.length > 0 ? variables.map((name) => firstColumn.get(name)).join(", ") : "1";
  // Several graph versions merged into one default graph may hold the same triple twice: keep a set.
  const distinct = graphs.length > 1 ? "DISTINCT " : "";
  const sql = `SELECT ${distinct}${select} FROM ${from.join(" CROSS JOIN ")} WHERE ${conditions.join(" AND ")}${limitClause(limit)}`;
  return { sql, variables };
}

function aliasColumns(compiled: CompiledBgp): string {
  return compiled.sql.replace(
    /^SELECT (DISTINCT )?(.*?) FROM /,
    (_match, distinct: string | undefined, select: string) =>
      `SELECT ${distinct ?? ""}${
        compiled.variables.length > 0
          ? select
              .split(", ")
              .map((expression, index) => `${expression} AS v${index}`)
              .join(", ")
          : "1 AS v"
      } FROM `,
  );
}

/**
 * OPTIONAL between two BGPs as one SQL LEFT JOIN on their shared variables. A BGP binds every one of
 * its variables, so SQL equality on the shared ones is exactly SPARQL compatibility. Columns: the left
 * BGP's variables, then the right-only ones (NULL when the optional part did not match).
 */
export function compileOptionalBgps(
  left: EncodedPattern[],
  right: EncodedPattern[],
  graphs: readonly GraphRef[],
): CompiledBgp {
  const l = compileBgp(left, graphs);
  const r = compileBgp(right, graphs);
  const on = l.variables
    .map((name, index) => [index, r.variables.indexOf(name)] as const)
    .filter(([, other]) => other >= 0)
    .map(([index, other]) => `l.v${index} = r.v${other}`);
  const rightOnly = r.variables
    .map((name, index) => [name, index] as const)
    .filter(([name]) => !l.variables.includes(name));
  const columns = [...l.variables.map((_, index) => `l.v${index}`), ...rightOnly.map(([, index]) => `r.v${index}`)];
  const sql = `SELECT ${columns.join(", ") || "1"} FROM (${aliasColumns(l)}) l LEFT JOIN (${aliasColumns(r)}) r ON ${
    on.join(" AND ") || "1"
  }`;
  return { sql, variables: [...l.variables, ...rightOnly.map(([name]) => name)] };
}

/**
 * GROUP BY + COUNT over a BGP as one SQL statement: `SELECT <group ids>, COUNT(…) … GROUP BY <group ids>`.
 * `visitedColumn` counts the BGP rows each group read: a non-distinct count (a BGP binds all its
 * variables, so COUNT(?v) counts rows), else an added COUNT(*). With `rowLimit`, SQLite reads at most
 * that many BGP rows in all. Returns null when a grouped or counted variable is not bound by the BGP.
 */
export function compileBgpCount(
  patterns: EncodedPattern[],
  graphs: readonly GraphRef[],
  groupBy: string[],
  counts: CountSpec[],
  rowLimit?: number,
): { sql: string; visitedColumn: number } | null {
  const inner = compileBgp(patterns, graphs);
  const column = (name: string) => {
    const index = inner.variables.indexOf(name);
    return index < 0 ? null : `v${index}`;
  };
  const groupColumns = groupBy.map(column);
  if (groupColumns.some((name) => name === null)) return null;
  const countColumns: string[] = [];
  for (const count of counts) {
    if (count.variable === null) {
      // COUNT(DISTINCT *) stays in memory; COUNT(*) counts the BGP's solutions.
      if (count.distinct) return null;
      countColumns.push("COUNT(*)");
      continue;
    }
    const name = column(count.variable);
    if (name === null) return null;
    countColumns.push(count.distinct ? `COUNT(DISTINCT ${name})` : `COUNT(${name})`);
  }
  const aliased = aliasColumns(inner) + limitClause(rowLimit);
  const groupList = (groupColumns as string[]).join(", ");
  const plainCount = counts.findIndex((count) => !count.distinct);
  if (plainCount < 0) countColumns.push("COUNT(*)");
  const sql = `SELECT ${[...groupColumns, ...countColumns].join(", ")} FROM (${aliased}) b${groupList ? ` GROUP BY ${groupList}` : ""}`;
  return { sql, visitedColumn: groupColumns.length + (plainCount < 0 ? counts.length : plainCount) };
}

/** ` LIMIT n`, or nothing for no limit. */
export function limitClause(limit: number | undefined): string {
  return limit !== undefined && Number.isFinite(limit) ? ` LIMIT ${Math.trunc(limit)}` : "";
}

/** SQL test of quad alias `alias`'s predicate. */
function predicateCondition(alias: string, test: PredicateTest): string {
  if ("predicate" in test) return `${alias}.p = ${test.predicate | 0}`;
  return test.excluded.length > 0
    ? `${alias}.p NOT IN (${test.excluded.map((id) => id | 0).join(", ")})`
    : `${alias}.p IS NOT NULL`;
}

/** (s, o) of the edges passing `test`, with the fixed ends inlined. */
export function compileEdges(
  test: PredicateTest,
  subject: number | null,
  object: number | null,
  graphs: readonly GraphRef[],
): string {
  const where = [graphCondition("q", graphs), predicateCondition("q", test)];
  if (subject !== null) where.push(`q.s = ${subject | 0}`);
  if (object !== null) where.push(`q.o = ${object | 0}`);
  const distinct = graphs.length > 1 ? "DISTINCT " : "";
  return `SELECT ${distinct}q.s, q.o FROM rdf_quad q WHERE ${where.join(" AND ")}`;
}

/** Distinct (from, to) steps from the nodes of the JSON array bound as the one parameter. */
export function compileStep(test: PredicateTest, forward: boolean, graphs: readonly GraphRef[]): string {
  const from = forward ? "s" : "o";
  const to = forward ? "o" : "s";
  return `SELECT DISTINCT q.${from}, q.${to} FROM rdf_quad q WHERE q.${from} IN (SELECT value FROM json_each(?))
         AND ${predicateCondition("q", test)} AND ${graphCondition("q", graphs)}`;
}

/** 1 when term `id` is a subject or an object of the graphs, else 0. */
export function compileHasNode(id: number, graphs: readonly GraphRef[]): string {
  const condition = graphCondition("q", graphs);
  return `SELECT EXISTS (SELECT 1 FROM rdf_quad q WHERE q.s = ${id | 0} AND ${condition})
       OR EXISTS (SELECT 1 FROM rdf_quad q WHERE q.o = ${id | 0} AND ${condition})`;
}

/** Every subject and object of the graphs, once each. */
export function compileNodes(graphs: readonly GraphRef[]): string {
  const condition = graphCondition("q", graphs);
  return `SELECT q.s FROM rdf_quad q WHERE ${condition} UNION SELECT q.o FROM rdf_quad q WHERE ${condition}`;
}
