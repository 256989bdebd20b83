import type * as RDF from "@rdfjs/types";
import type { GraphRef } from "../store/quad-store";

/** One position of a triple pattern after substitution: a term id, or a variable name. */
export type PatternSlot = { id: number } | { variable: string };
export type EncodedPattern = [PatternSlot, PatternSlot, PatternSlot];

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

function slotCost(pattern: EncodedPattern, bound: Set<string>): number {
  const isBound = pattern.map((slot) => "id" in slot || bound.has(slot.variable));
  const [s, p, o] = isBound;
  if (s && p && o) return 1;
  if (s && o) return 2;
  if (s && p) return 3;
  if (s) return 5;
  if (o && p) return 4;
  if (o) return 6;
  if (p) return 8;
  return 10;
}

/** Greedy join order: cheapest pattern first, then patterns that share bound variables. */
export function orderPatterns(patterns: EncodedPattern[]): EncodedPattern[] {
  const remaining = [...patterns];
  const ordered: EncodedPattern[] = [];
  const bound = new Set<string>();
  while (remaining.length > 0) {
    let best = 0;
    let bestCost = Number.POSITIVE_INFINITY;
    remaining.forEach((pattern, index) => {
      let cost = slotCost(pattern, bound);
      // Prefer connected patterns over cartesian products.
      if (ordered.length > 0 && !pattern.some((slot) => "variable" in slot && bound.has(slot.variable))) cost += 20;
      if (cost < bestCost) {
        bestCost = cost;
        best = index;
      }
    });
    const [pattern] = remaining.splice(best, 1) as [EncodedPattern];
    ordered.push(pattern);
    for (const slot of pattern) if ("variable" in slot) bound.add(slot.variable);
  }
  return ordered;
}

/**
 * The patterns split into groups that share no variable (patterns without variables are left out):
 * a BGP of several groups is their cartesian product.
 */
export function connectedComponents(patterns: EncodedPattern[]): EncodedPattern[][] {
  const components: { variables: Set<string>; patterns: EncodedPattern[] }[] = [];
  for (const pattern of patterns) {
    const variables = pattern.flatMap((slot) => ("variable" in slot ? [slot.variable] : []));
    if (variables.length === 0) continue;
    const merged = { variables: new Set(variables), patterns: [pattern] };
    for (let index = components.length - 1; index >= 0; index--) {
      const component = components[index] as (typeof components)[number];
      if (!variables.some((name) => component.variables.has(name))) continue;
      for (const name of component.variables) merged.variables.add(name);
      merged.patterns.push(...component.patterns);
      components.splice(index, 1);
    }
    components.push(merged);
  }
  return components.map((component) => component.patterns);
}

/**
 * The join order's prefixes that end just before a pattern whose variables are all bound already (a
 * cycle, or a repeated variable): such a pattern only filters, so SQLite may read many more prefix rows
 * than the BGP returns.
 */
export function filteredJoinPrefixes(patterns: EncodedPattern[]): EncodedPattern[][] {
  if (patterns.length < 3) return [];
  const ordered = orderPatterns(patterns);
  const bound = new Set<string>();
  const prefixes: EncodedPattern[][] = [];
  ordered.forEach((pattern, index) => {
    const variables = pattern.flatMap((slot) => ("variable" in slot ? [slot.variable] : []));
    if (index >= 2 && variables.length > 0 && variables.every((name) => bound.has(name))) {
      prefixes.push(ordered.slice(0, index));
    }
    for (const name of variables) bound.add(name);
  });
  return prefixes;
}

export interface CompiledBgp {
  sql: string;
  variables: string[];
}

/**
 * A basic graph pattern as one SQL self-join over `rdf_quad`. Term ids and graph ids are integers
 * produced by the store and are inlined, so the statement binds no parameters.
 */
/** Inclusive numeric bounds a variable's value must lie within (a superset test; the exact FILTER runs after). */
export interface NumericBounds {
  min?: number;
  max?: number;
}

const XSD = "http://www.w3.org/2001/XMLSchema#";
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
].map((name) => `'${XSD}${name}'`);

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
  const sql = `SELECT ${distinct}${select} FROM ${from.join(" CROSS JOIN ")} WHERE ${conditions.join(" AND ")}${
    limit !== undefined ? ` LIMIT ${limit | 0}` : ""
  }`;
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

/** One COUNT aggregate computed in SQL: over all rows, or over the (distinct) values of a BGP variable. */
export interface SqlCount {
  variable: string | null;
  distinct: boolean;
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
  counts: SqlCount[],
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
  const aliased = aliasColumns(inner) + (rowLimit !== undefined ? ` LIMIT ${Math.trunc(rowLimit)}` : "");
  const groupList = (groupColumns as string[]).join(", ");
  const plainCount = counts.findIndex((count) => !count.distinct);
  if (plainCount < 0) countColumns.push("COUNT(*)");
  const sql = `SELECT ${[...groupColumns, ...countColumns].join(", ")} FROM (${aliased}) b${groupList ? ` GROUP BY ${groupList}` : ""}`;
  return { sql, visitedColumn: groupColumns.length + (plainCount < 0 ? counts.length : plainCount) };
}

export function isStorable(term: RDF.Term): boolean {
  return term.termType === "NamedNode" || term.termType === "BlankNode" || term.termType === "Literal";
}
