import type * as RDF from "@rdfjs/types";
import { Algebra } from "sparqlalgebrajs";
import type { GraphRef, QuadStore } from "../store/quad-store";
import { dataFactory, termKey } from "../store/term-key";
import {
  compileBgp,
  compileBgpCount,
  compileOptionalBgps,
  connectedComponents,
  type EncodedPattern,
  filteredJoinPrefixes,
  graphCondition,
  type NumericBounds,
  type PatternSlot,
  type SqlCount,
} from "./bgp-sql";
import { SparqlNotSupportedError } from "./errors";
import type { Bindings, ExpressionContext, ExpressionEngine } from "./expression-engine";
import { QueryBudget } from "./query-budget";

/** The RDF dataset a query runs against: a default graph (possibly a merge) and named graphs by IRI. */
export interface QueryDataset {
  defaultGraph: GraphRef[];
  namedGraphs: { iri: string; ref: GraphRef }[];
}

export interface EvaluationOptions {
  store: QuadStore;
  expressions: ExpressionEngine;
  dataset: QueryDataset;
  /** Graphs FROM / FROM NAMED may name (default: the dataset's named graphs). */
  availableGraphs?: { iri: string; ref: GraphRef }[];
  /** Called every few thousand steps; return true to stop the query (deadline passed). */
  shouldStop?: () => boolean;
  maxSteps?: number;
  /** Characters string functions may build in all (default MAX_QUERY_STRING_CHARS). */
  maxStringChars?: number;
  /** Estimated bytes of one held set of solutions (default MAX_HELD_ROWS_BYTES). */
  maxHeldRowsBytes?: number;
  baseIRI?: string;
  /** NOW() for the whole query (the caller's clock; shared code reads none). */
  now: Date;
  /** RAND() source; default crypto.getRandomValues. Pass a seeded one on deterministic paths. */
  random?: () => number;
  /** UUID()/STRUUID() source; default crypto.randomUUID. */
  uuid?: () => string;
}

type PathPair = [number, number];

function bindingKey(term: RDF.Term): string {
  if (term.termType === "Quad")
    return `<<${termKey(term.subject)} ${termKey(term.predicate)} ${termKey(term.object)}>>`;
  return termKey(term);
}

function termsEqual(a: RDF.Term, b: RDF.Term): boolean {
  return a.equals(b);
}

export function compatible(a: Bindings, b: Bindings): boolean {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const [name, term] of small) {
    const other = large.get(name);
    if (other && !termsEqual(term, other)) return false;
  }
  return true;
}

function merge(a: Bindings, b: Bindings): Bindings {
  if (b.size === 0) return a;
  if (a.size === 0) return b;
  const result = new Map(a);
  for (const [name, term] of b) result.set(name, term);
  return result;
}

function variablesOf(rows: Bindings[]): Set<string> {
  const names = new Set<string>();
  for (const row of rows) for (const name of row.keys()) names.add(name);
  return names;
}

/** Evaluates SPARQL algebra over the quad store: BGPs in SQL, the rest in memory. */
export class Evaluator {
  private readonly store: QuadStore;
  private readonly expressions: ExpressionEngine;
  private dataset: QueryDataset;
  private readonly available: { iri: string; ref: GraphRef }[];
  readonly budget: QueryBudget;
  private readonly termById = new Map<number, RDF.Term>();
  private readonly idByKey = new Map<string, number>();
  private nextVirtualId = -1;
  private freshBlankNodes = 0;
  /** The row an expression is being evaluated on, to scope BNODE(label) per solution. */
  private currentRow: Bindings | null = null;
  private solutionCount = 0;
  private readonly solutionIds = new WeakMap<Bindings, number>();
  /** Graphs of the pattern being evaluated, so EXISTS inside GRAPH sees the same graph. */
  private activeGraphs: GraphRef[];
  readonly expressionContext: ExpressionContext;

  constructor(options: EvaluationOptions) {
    this.store = options.store;
    this.expressions = options.expressions;
    this.dataset = options.dataset;
    this.available = options.availableGraphs ?? options.dataset.namedGraphs;
    this.budget = new QueryBudget(options);
    this.activeGraphs = options.dataset.defaultGraph;
    this.expressionContext = {
      exists: (operation, bindings) => this.evaluate(operation, bindings as Bindings, this.activeGraphs).length > 0,
      baseIRI: options.baseIRI,
      now: options.now,
      bnode: (label) =>
        dataFactory.blankNode(
          label === undefined ? `f${this.freshBlankNodes++}` : `l${this.solutionOf(this.currentRow)}_${label}`,
        ),
      random: options.random ?? randomNumber,
      uuid: options.uuid ?? (() => crypto.randomUUID()),
      chargeWork: (steps) => this.tick(steps),
      chargeString: (length) => this.budget.chargeString(length),
    };
  }

  tick(count = 1): void {
    this.budget.tick(count);
  }

  /**
   * Runs a SELECT whose rows have `width` columns under the budget: SQLite stops one row past what the
   * budget allows (it cannot be interrupted otherwise), and reaching that row refuses the query.
   * `held`: the rows are kept in memory, so the held-rows bound applies too.
   */
  private queryRows(sql: string, width: number, params?: readonly string[], held = true): unknown[][] {
    this.budget.checkDeadline();
    const limit = this.budget.sqlRowLimit(width, held);
    const rows = this.store.db.all(Number.isFinite(limit) ? `${sql} LIMIT ${limit}` : sql, params);
    this.budget.checkSqlRows(rows.length, width, held);
    this.tick(rows.length);
    return rows;
  }

  /** Evaluates `op` with `seed` substituted into its leaves; every row returned extends `seed`. */
  evaluate(op: Algebra.Operation, seed: Bindings, graphs: GraphRef[]): Bindings[] {
    this.tick();
    const saved = this.activeGraphs;
    this.activeGraphs = graphs;
    try {
      return this.evaluateOperation(op, seed, graphs);
    } finally {
      this.activeGraphs = saved;
    }
  }

  private evaluateOperation(op: Algebra.Operation, seed: Bindings, graphs: GraphRef[]): Bindings[] {
    switch (op.type) {
      case Algebra.types.BGP:
        return this.evaluateBgp(op.patterns, seed, graphs);
      case Algebra.types.PATTERN:
        return this.evaluateBgp([op], seed, graphs);
      case Algebra.types.PATH:
        return this.evaluatePathPattern(op, seed, graphs);
      case Algebra.types.JOIN:
        return this.evaluateJoin(op.input, seed, graphs);
      case Algebra.types.LEFT_JOIN:
        return this.evaluateLeftJoin(op, seed, graphs);
      case Algebra.types.UNION: {
        const rows: Bindings[] = [];
        for (const input of op.input) {
          for (const row of this.evaluate(input, seed, graphs)) rows.push(row);
          this.holdRows(rows);
        }
        return rows;
      }
      case Algebra.types.MINUS:
        return this.evaluateMinus(op, seed, graphs);
      case Algebra.types.FILTER: {
        const bounds = op.input.type === Algebra.types.BGP ? numericBoundsOf(op.expression) : null;
        const rows =
          bounds && bounds.size > 0
            ? this.evaluateBgp(op.input.patterns, seed, graphs, bounds)
            : this.evaluate(op.input, seed, graphs);
        this.tick(rows.length);
        return rows.filter((row) => this.test(op.expression, row));
      }
      case Algebra.types.EXTEND: {
        const name = op.variable.value;
        const rows = this.evaluate(op.input, seed, graphs);
        this.tick(rows.length);
        return rows.map((row) => {
          const value = this.tryEvaluate(op.expression, row);
          if (value === undefined || row.has(name)) return row;
          const extended = new Map(row);
          extended.set(name, value);
          const solution = this.solutionIds.get(row);
          if (solution !== undefined) this.solutionIds.set(extended, solution);
          return extended;
        });
      }
      case Algebra.types.VALUES:
        return this.evaluateValues(op, seed);
      case Algebra.types.PROJECT:
        return this.evaluateProject(op, seed, graphs);
      case Algebra.types.DISTINCT:
        return this.distinct(this.evaluate(op.input, seed, graphs));
      case Algebra.types.REDUCED:
        // REDUCED permits, but does not require, dropping duplicates; keeping them is cheapest.
        return this.evaluate(op.input, seed, graphs);
      case Algebra.types.SLICE: {
        const rows = this.evaluate(op.input, seed, graphs);
        const end = op.length === undefined ? undefined : op.start + op.length;
        return rows.slice(op.start, end);
      }
      case Algebra.types.ORDER_BY:
        return this.evaluateOrderBy(op, seed, graphs);
      case Algebra.types.GROUP:
        return this.evaluateGroup(op, seed, graphs);
      case Algebra.types.GRAPH:
        return this.evaluateGraph(op, seed);
      case Algebra.types.FROM:
        return this.withDataset(op, () => this.evaluate(op.input, seed, this.dataset.defaultGraph));
      case Algebra.types.NOP:
        return [seed];
      case Algebra.types.SERVICE:
        throw new SparqlNotSupportedError("SERVICE");
      default:
        throw new SparqlNotSupportedError(`algebra operation ${op.type}`);
    }
  }

  /** Runs `fn` with the dataset given by FROM / FROM NAMED. */
  withDataset<T>(op: Algebra.From, fn: () => T): T {
    const saved = this.dataset;
    const byIri = new Map(this.available.map((graph) => [graph.iri, graph.ref]));
    const defaultGraph: GraphRef[] = [];
    for (const iri of op.default) {
      const ref = byIri.get(iri.value);
      if (ref) defaultGraph.push(ref);
    }
    const namedGraphs: { iri: string; ref: GraphRef }[] = [];
    for (const iri of op.named) {
      const ref = byIri.get(iri.value);
      if (ref && !namedGraphs.some((graph) => graph.iri === iri.value)) namedGraphs.push({ iri: iri.value, ref });
    }
    namedGraphs.sort((a, b) => (a.iri < b.iri ? -1 : a.iri > b.iri ? 1 : 0));
    this.dataset = { defaultGraph, namedGraphs };
    try {
      return fn();
    } finally {
      this.dataset = saved;
    }
  }

  get defaultGraph(): GraphRef[] {
    return this.dataset.defaultGraph;
  }

  /** Identity of the solution a row derives from (kept across BIND chains), to scope BNODE(label). */
  private solutionOf(row: Bindings | null): number {
    if (row === null) return 0;
    let id = this.solutionIds.get(row);
    if (id === undefined) {
      id = ++this.solutionCount;
      this.solutionIds.set(row, id);
    }
    return id;
  }

  test(expression: Algebra.Expression, row: Bindings): boolean {
    this.currentRow = row;
    try {
      return this.expressions.effectiveBooleanValue(this.expressions.evaluate(expression, row, this.expressionContext));
    } catch (error) {
      if (this.expressions.isExpressionError(error)) return false;
      throw error;
    }
  }

  tryEvaluate(expression: Algebra.Expression, row: Bindings): RDF.Term | undefined {
    this.currentRow = row;
    try {
      return this.expressions.evaluate(expression, row, this.expressionContext);
    } catch (error) {
      if (this.expressions.isExpressionError(error)) return undefined;
      throw error;
    }
  }

  /** Refuses a set of rows (sized by its first row) that would pass the held-rows memory bound. */
  private holdRows(rows: Bindings[]): void {
    if (rows.length > 0) this.budget.holdRows(rows.length, (rows[0] as Bindings).size);
  }

  // ---- terms ----

  /** Dictionary id of a term; terms the store has never seen get negative ids that match no quad. */
  idOf(term: RDF.Term): number {
    const key = bindingKey(term);
    const cached = this.idByKey.get(key);
    if (cached !== undefined) return cached;
    let id = term.termType === "Quad" ? null : this.store.termId(term);
    if (id === null) {
      id = this.nextVirtualId--;
      this.termById.set(id, term);
    }
    this.idByKey.set(key, id);
    return id;
  }

  /** Decodes ids to terms in one batch (into the store's term cache). */
  loadTerms(ids: Iterable<number>): void {
    this.store.loadTerms(ids);
  }

  termOf(id: number): RDF.Term {
    const term = id < 0 ? this.termById.get(id) : this.store.term(id);
    if (!term) throw new Error(`unknown term id ${id}`);
    return term;
  }

  // ---- basic graph patterns ----

  private slot(term: RDF.Term, seed: Bindings): PatternSlot | null {
    if (term.termType === "Variable" || term.termType === "BlankNode") {
      const name = term.termType === "Variable" ? term.value : `_:${term.value}`;
      const bound = seed.get(name);
      if (bound) return bound.termType === "Quad" ? null : { id: this.idOf(bound) };
      return { variable: name };
    }
    if (term.termType === "Quad" || term.termType === "DefaultGraph") return null;
    return { id: this.idOf(term) };
  }

  /** Patterns with the seed substituted and constants as ids; null when a pattern cannot match. */
  private encodePatterns(patterns: RDF.BaseQuad[], seed: Bindings): EncodedPattern[] | null {
    const encoded: EncodedPattern[] = [];
    for (const pattern of patterns) {
      const slots = [
        this.slot(pattern.subject, seed),
        this.slot(pattern.predicate, seed),
        this.slot(pattern.object, seed),
      ];
      // A constant the store has never seen (negative id), or a quoted triple, matches nothing.
      if (slots.some((slot) => slot === null || ("id" in slot && slot.id < 0))) return null;
      encoded.push(slots as EncodedPattern);
    }
    return encoded;
  }

  evaluateBgp(
    patterns: RDF.BaseQuad[],
    seed: Bindings,
    graphs: GraphRef[],
    numericBounds?: ReadonlyMap<string, NumericBounds>,
  ): Bindings[] {
    if (patterns.length === 0) return [seed];
    if (graphs.length === 0) return [];
    const encoded = this.encodePatterns(patterns, seed);
    if (encoded === null) return [];
    const { sql, variables } = compileBgp(encoded, graphs, undefined, numericBounds);
    this.refuseOversizedProduct(encoded, graphs, seed.size + variables.length, true);
    this.refuseOversizedPrefixes(encoded, graphs);
    const rows = this.queryRows(sql, seed.size + variables.length);
    const ids = new Set<number>();
    for (const row of rows) for (let i = 0; i < variables.length; i++) ids.add(Number(row[i]));
    this.loadTerms(ids);
    return rows.map((row) => {
      const bindings = new Map(seed);
      for (let index = 0; index < variables.length; index++) {
        bindings.set(variables[index] as string, this.termOf(Number(row[index])));
      }
      return bindings;
    });
  }

  // ---- joins ----

  private evaluateJoin(inputs: Algebra.Operation[], seed: Bindings, graphs: GraphRef[]): Bindings[] {
    let rows: Bindings[] | null = null;
    for (const input of inputs) {
      if (rows === null) {
        rows = this.evaluate(input, seed, graphs);
        continue;
      }
      if (rows.length === 0) return [];
      // Few left rows and a pattern on the right: substitute each row (index nested-loop join).
      if (rows.length <= 16 && (input.type === Algebra.types.BGP || input.type === Algebra.types.PATH)) {
        const joined: Bindings[] = [];
        for (const row of rows) {
          for (const result of this.evaluate(input, row, graphs)) joined.push(result);
          this.holdRows(joined);
        }
        rows = joined;
        continue;
      }
      rows = this.hashJoin(rows, this.evaluate(input, seed, graphs));
    }
    return rows ?? [seed];
  }

  hashJoin(left: Bindings[], right: Bindings[]): Bindings[] {
    if (left.length === 0 || right.length === 0) return [];
    const leftVariables = variablesOf(left);
    const shared = [...variablesOf(right)].filter((name) => leftVariables.has(name));
    const result: Bindings[] = [];
    const width = leftVariables.size + variablesOf(right).size - shared.length;
    if (shared.length === 0) {
      // Refused before a row is built: a cartesian product's size is known in advance.
      this.tick(left.length * right.length);
      this.budget.holdRows(left.length * right.length, width);
      for (const a of left) for (const b of right) result.push(merge(a, b));
      return result;
    }
    const rowLimit = this.budget.heldRowLimit(width);
    const { table, partial } = this.index(right, shared);
    for (const a of left) {
      for (const b of this.candidates(a, shared, table, partial, right)) {
        this.tick();
        if (compatible(a, b) && result.push(merge(a, b)) > rowLimit) this.budget.heldRowsExceeded();
      }
    }
    return result;
  }

  private index(rows: Bindings[], shared: string[]) {
    const table = new Map<string, Bindings[]>();
    const partial: Bindings[] = [];
    for (const row of rows) {
      const key = this.joinKey(row, shared);
      if (key === null) {
        partial.push(row);
        continue;
      }
      const bucket = table.get(key);
      if (bucket) bucket.push(row);
      else table.set(key, [row]);
    }
    return { table, partial };
  }

  private joinKey(row: Bindings, shared: string[]): string | null {
    let key = "";
    for (const name of shared) {
      const term = row.get(name);
      if (!term) return null;
      key += `${bindingKey(term)}\u0000`;
    }
    return key;
  }

  private candidates(
    row: Bindings,
    shared: string[],
    table: Map<string, Bindings[]>,
    partial: Bindings[],
    all: Bindings[],
  ): Bindings[] {
    const key = this.joinKey(row, shared);
    if (key === null) return all;
    const bucket = table.get(key);
    if (partial.length === 0) return bucket ?? [];
    return bucket ? [...bucket, ...partial] : partial;
  }

  /** OPTIONAL { BGP } after a BGP, without a filter: one SQL LEFT JOIN. */
  private leftJoinInSql(op: Algebra.LeftJoin, seed: Bindings, graphs: GraphRef[]): Bindings[] | null {
    const [leftOp, rightOp] = op.input;
    if (op.expression || leftOp.type !== Algebra.types.BGP || rightOp.type !== Algebra.types.BGP) return null;
    if (graphs.length === 0 || leftOp.patterns.length === 0 || rightOp.patterns.length === 0) return null;
    const left = this.encodePatterns(leftOp.patterns, seed);
    if (left === null) return [];
    const right = this.encodePatterns(rightOp.patterns, seed);
    // An optional part that cannot match leaves the left rows as they are.
    if (right === null) return this.evaluateBgp(leftOp.patterns, seed, graphs);
    const { sql, variables } = compileOptionalBgps(left, right, graphs);
    this.refuseOversizedProduct(left, graphs, seed.size + variables.length, true);
    this.refuseOversizedPrefixes(left, graphs);
    this.refuseOversizedPrefixes(right, graphs);
    return this.rowsToBindings(this.queryRows(sql, seed.size + variables.length), variables, seed);
  }

  /**
   * A BGP of unconnected parts is their cartesian product: each part is counted (under the budget),
   * and the product is refused before SQLite starts on it when it has more rows than the budget allows.
   */
  private refuseOversizedProduct(patterns: EncodedPattern[], graphs: GraphRef[], width: number, held: boolean): void {
    if (patterns.length < 2) return;
    const components = connectedComponents(patterns);
    if (components.length < 2) return;
    const limit = this.budget.sqlRowLimit(width, held);
    if (!Number.isFinite(limit)) return;
    let product = 1;
    let reachedLimit = false;
    for (const component of components) {
      const { sql } = compileBgp(component, graphs);
      const [row] = this.queryRows(`SELECT COUNT(*) FROM (${sql} LIMIT ${limit})`, 1);
      const count = Number(row?.[0]);
      this.tick(count);
      if (count === 0) return;
      if (count >= limit) reachedLimit = true;
      product *= count;
    }
    if (reachedLimit || product >= limit) this.budget.checkSqlRows(limit, width, held);
  }

  /**
   * A pattern that only filters (all its variables bound earlier) can make SQLite read far more rows
   * than it returns, where no LIMIT stops it: the rows before each such pattern are counted first,
   * under the budget, and too many refuse the query before it runs.
   */
  private refuseOversizedPrefixes(patterns: EncodedPattern[], graphs: GraphRef[]): void {
    const prefixes = filteredJoinPrefixes(patterns);
    if (prefixes.length === 0) return;
    const limit = this.budget.sqlRowLimit(0, false);
    if (!Number.isFinite(limit)) return;
    for (const prefix of prefixes) {
      const { sql } = compileBgp(prefix, graphs);
      const [row] = this.queryRows(`SELECT COUNT(*) FROM (${sql} LIMIT ${limit})`, 1);
      const count = Number(row?.[0]);
      this.budget.checkSqlRows(count, 0, false);
      this.tick(count);
    }
  }

  private rowsToBindings(rows: unknown[][], variables: string[], seed: Bindings): Bindings[] {
    const ids = new Set<number>();
    for (const row of rows) {
      for (let i = 0; i < variables.length; i++) if (row[i] !== null) ids.add(Number(row[i]));
    }
    this.loadTerms(ids);
    return rows.map((row) => {
      const bindings = new Map(seed);
      for (let index = 0; index < variables.length; index++) {
        const value = row[index];
        if (value !== null) bindings.set(variables[index] as string, this.termOf(Number(value)));
      }
      return bindings;
    });
  }

  private evaluateLeftJoin(op: Algebra.LeftJoin, seed: Bindings, graphs: GraphRef[]): Bindings[] {
    const pushed = this.leftJoinInSql(op, seed, graphs);
    if (pushed) return pushed;
    const left = this.evaluate(op.input[0], seed, graphs);
    if (left.length === 0) return [];
    const right = this.evaluate(op.input[1], seed, graphs);
    const leftVariables = variablesOf(left);
    const shared = [...variablesOf(right)].filter((name) => leftVariables.has(name));
    const { table, partial } = this.index(right, shared);
    const result: Bindings[] = [];
    const rowLimit = this.budget.heldRowLimit(leftVariables.size + variablesOf(right).size - shared.length);
    for (const a of left) {
      if (result.length > rowLimit) this.budget.heldRowsExceeded();
      let matched = false;
      for (const b of this.candidates(a, shared, table, partial, right)) {
        this.tick();
        if (!compatible(a, b)) continue;
        const merged = merge(a, b);
        if (op.expression && !this.test(op.expression, merged)) continue;
        matched = true;
        result.push(merged);
      }
      if (!matched) result.push(a);
    }
    return result;
  }

  private evaluateMinus(op: Algebra.Minus, seed: Bindings, graphs: GraphRef[]): Bindings[] {
    const left = this.evaluate(op.input[0], seed, graphs);
    if (left.length === 0) return [];
    const right = this.evaluate(op.input[1], seed, graphs);
    return left.filter((a) => {
      for (const b of right) {
        this.tick();
        let sharesVariable = false;
        let isCompatible = true;
        for (const [name, term] of b) {
          const other = a.get(name);
          if (!other) continue;
          // A variable fixed by the EXISTS substitution is a constant on both sides, not a shared variable.
          if (seed.has(name)) continue;
          sharesVariable = true;
          if (!termsEqual(term, other)) {
            isCompatible = false;
            break;
          }
        }
        if (sharesVariable && isCompatible) return false;
      }
      return true;
    });
  }

  private evaluateValues(op: Algebra.Values, seed: Bindings): Bindings[] {
    const result: Bindings[] = [];
    for (const binding of op.bindings) {
      const row = new Map<string, RDF.Term>();
      for (const [key, term] of Object.entries(binding)) row.set(key.startsWith("?") ? key.slice(1) : key, term);
      if (compatible(row, seed)) result.push(merge(seed, row));
    }
    return result;
  }

  private evaluateProject(op: Algebra.Project, seed: Bindings, graphs: GraphRef[]): Bindings[] {
    const names = op.variables.map((variable) => variable.value);
    const keep = new Set(names);
    // Only projected variables are visible to (and substituted into) a subquery.
    const innerSeed = new Map<string, RDF.Term>();
    for (const [name, term] of seed) if (keep.has(name)) innerSeed.set(name, term);
    return this.evaluate(op.input, innerSeed, graphs).map((row) => {
      const projected = new Map<string, RDF.Term>();
      for (const name of names) {
        const term = row.get(name);
        if (term) projected.set(name, term);
      }
      return seed.size === 0 ? projected : merge(seed, projected);
    });
  }

  distinct(rows: Bindings[]): Bindings[] {
    this.tick(rows.length);
    const seen = new Set<string>();
    return rows.filter((row) => {
      const key = [...row.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([name, term]) => `${name}=${bindingKey(term)}`)
        .join("\u0000");
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }

  private evaluateOrderBy(op: Algebra.OrderBy, seed: Bindings, graphs: GraphRef[]): Bindings[] {
    const rows = this.evaluate(op.input, seed, graphs);
    // A sort compares about n log2 n pairs: counted before it starts, since it cannot be interrupted.
    this.tick(rows.length * Math.ceil(Math.log2(rows.length + 1)));
    const keys = op.expressions.map((expression) => {
      const descending = expression.expressionType === "operator" && expression.operator === "desc";
      const inner =
        expression.expressionType === "operator" && (expression.operator === "desc" || expression.operator === "asc")
          ? (expression.args[0] as Algebra.Expression)
          : expression;
      return { descending, values: rows.map((row) => this.tryEvaluate(inner, row)) };
    });
    const order = rows.map((_, index) => index);
    order.sort((a, b) => {
      for (const key of keys) {
        const comparison = this.expressions.compareTerms(key.values[a], key.values[b]);
        if (comparison !== 0) return key.descending ? -comparison : comparison;
      }
      return a - b;
    });
    return order.map((index) => rows[index] as Bindings);
  }

  /** GROUP BY with only COUNT aggregates directly over a BGP: one SQL aggregate, no rows materialized. */
  private groupCountInSql(op: Algebra.Group, seed: Bindings, graphs: GraphRef[]): Bindings[] | null {
    if (op.input.type !== Algebra.types.BGP || seed.size > 0 || graphs.length === 0) return null;
    const counts: SqlCount[] = [];
    for (const aggregate of op.aggregates) {
      if (aggregate.aggregator !== "count") return null;
      const expression = aggregate.expression;
      if (expression.expressionType === "wildcard") counts.push({ variable: null, distinct: aggregate.distinct });
      else if (expression.expressionType === "term" && expression.term.termType === "Variable") {
        counts.push({ variable: expression.term.value, distinct: aggregate.distinct });
      } else return null;
    }
    const encoded = this.encodePatterns(op.input.patterns, seed);
    const names = op.variables.map((variable) => variable.value);
    if (encoded === null) return null;
    // The BGP's rows are counted, not held: only the step budget bounds them (SQLite stops one past it).
    // One pattern reads at most the version's triples (bounded by the plan's triple quota) and a LIMIT
    // would keep SQLite from flattening the subquery (1.5 times slower), so only joins get one.
    this.refuseOversizedProduct(encoded, graphs, 0, false);
    this.refuseOversizedPrefixes(encoded, graphs);
    this.budget.checkDeadline();
    const rowLimit = encoded.length > 1 ? this.budget.sqlRowLimit(0, false) : Number.POSITIVE_INFINITY;
    const compiled = compileBgpCount(encoded, graphs, names, counts, Number.isFinite(rowLimit) ? rowLimit : undefined);
    if (compiled === null) return null;
    const rows = this.queryRows(compiled.sql, names.length + counts.length + 1);
    let visited = 0;
    for (const row of rows) visited += Number(row[compiled.visitedColumn]);
    this.budget.checkSqlRows(visited, 0, false);
    this.tick(visited);
    const ids = new Set<number>();
    for (const row of rows) for (let i = 0; i < names.length; i++) ids.add(Number(row[i]));
    this.loadTerms(ids);
    const integer = dataFactory.namedNode("http://www.w3.org/2001/XMLSchema#integer");
    return rows.map((row) => {
      const bindings: Bindings = new Map();
      names.forEach((name, index) => {
        bindings.set(name, this.termOf(Number(row[index])));
      });
      op.aggregates.forEach((aggregate, index) => {
        bindings.set(aggregate.variable.value, dataFactory.literal(String(row[names.length + index]), integer));
      });
      return bindings;
    });
  }

  private evaluateGroup(op: Algebra.Group, seed: Bindings, graphs: GraphRef[]): Bindings[] {
    const pushed = this.groupCountInSql(op, seed, graphs);
    if (pushed) return pushed;
    const rows = this.evaluate(op.input, seed, graphs);
    const names = op.variables.map((variable) => variable.value);
    const groups = new Map<string, { key: Bindings; rows: Bindings[] }>();
    for (const row of rows) {
      const key = new Map<string, RDF.Term>();
      let id = "";
      for (const name of names) {
        const term = row.get(name);
        if (term) key.set(name, term);
        id += `${term ? bindingKey(term) : ""}\u0000`;
      }
      const group = groups.get(id);
      if (group) group.rows.push(row);
      else groups.set(id, { key, rows: [row] });
    }
    if (groups.size === 0 && names.length === 0) groups.set("", { key: new Map(), rows: [] });
    const result: Bindings[] = [];
    for (const group of groups.values()) {
      const output = new Map(group.key);
      for (const aggregate of op.aggregates) {
        const aggregator = this.expressions.createAggregator(aggregate, this.expressionContext);
        for (const row of group.rows) aggregator.put(row);
        this.tick(group.rows.length);
        let value: RDF.Term | undefined;
        try {
          value = aggregator.result();
        } catch (error) {
          if (!this.expressions.isExpressionError(error)) throw error;
          value = undefined;
        }
        if (value) output.set(aggregate.variable.value, value);
      }
      result.push(seed.size === 0 ? output : merge(seed, output));
    }
    return result;
  }

  private evaluateGraph(op: Algebra.Graph, seed: Bindings): Bindings[] {
    const named = this.dataset.namedGraphs;
    if (op.name.termType === "NamedNode") {
      const graph = named.find((candidate) => candidate.iri === op.name.value);
      return graph ? this.evaluate(op.input, seed, [graph.ref]) : [];
    }
    const name = op.name.value;
    const bound = seed.get(name);
    const result: Bindings[] = [];
    for (const graph of named) {
      if (bound && !(bound.termType === "NamedNode" && bound.value === graph.iri)) continue;
      const iri = dataFactory.namedNode(graph.iri);
      // ?g is not in scope inside the pattern: evaluate without it, then join on it.
      for (const row of this.evaluate(op.input, seed, [graph.ref])) {
        const value = row.get(name);
        if (value && !termsEqual(value, iri)) continue;
        result.push(value ? row : new Map(row).set(name, iri));
      }
    }
    return result;
  }

  // ---- property paths ----

  private evaluatePathPattern(op: Algebra.Path, seed: Bindings, graphs: GraphRef[]): Bindings[] {
    const endpoint = (term: RDF.Term): { id: number | null; name: string | null; fromSeed: boolean } => {
      if (term.termType === "Variable" || term.termType === "BlankNode") {
        const name = term.termType === "Variable" ? term.value : `_:${term.value}`;
        const bound = seed.get(name);
        return bound ? { id: this.idOf(bound), name: null, fromSeed: true } : { id: null, name, fromSeed: false };
      }
      return { id: this.idOf(term), name: null, fromSeed: false };
    };
    const subject = endpoint(op.subject);
    const object = endpoint(op.object);
    // A variable bound elsewhere (not a constant of the query) only matches nodes of the graph, even at length zero.
    for (const end of [subject, object]) {
      if (end.fromSeed && !this.inGraph(end.id as number, graphs)) return [];
    }
    let pairs = this.path(op.predicate, subject.id, object.id, graphs);
    if (subject.name !== null && subject.name === object.name) pairs = pairs.filter(([s, o]) => s === o);
    const ids = new Set<number>();
    for (const [s, o] of pairs) {
      ids.add(s);
      ids.add(o);
    }
    this.loadTerms(ids);
    return pairs.map(([s, o]) => {
      const row = new Map(seed);
      if (subject.name !== null) row.set(subject.name, this.termOf(s));
      if (object.name !== null) row.set(object.name, this.termOf(o));
      return row;
    });
  }

  /** Pairs (subject id, object id) connected by `path`; a non-null end is fixed. Bag semantics except closures. */
  path(
    path: Algebra.PropertyPathSymbol,
    subject: number | null,
    object: number | null,
    graphs: GraphRef[],
  ): PathPair[] {
    this.tick();
    switch (path.type) {
      case Algebra.types.LINK:
        return this.linkPairs(`p = ${this.idOf(path.iri) | 0}`, subject, object, graphs);
      case Algebra.types.NPS: {
        const excluded = path.iris.map((iri) => this.idOf(iri)).filter((id) => id > 0);
        // Prefixed with the quad alias by linkPairs, so "every predicate" is a test on the column too.
        const condition =
          excluded.length > 0 ? `p NOT IN (${excluded.map((id) => id | 0).join(", ")})` : "p IS NOT NULL";
        return this.linkPairs(condition, subject, object, graphs);
      }
      case Algebra.types.INV:
        return this.path(path.path, object, subject, graphs).map(([s, o]) => [o, s]);
      case Algebra.types.ALT: {
        const pairs: PathPair[] = [];
        for (const input of path.input) {
          for (const pair of this.path(input, subject, object, graphs)) pairs.push(pair);
          this.holdPairs(pairs);
        }
        return pairs;
      }
      case Algebra.types.SEQ:
        return this.sequence(path.input, subject, object, graphs);
      case Algebra.types.ZERO_OR_ONE_PATH: {
        const pairs = [...this.zeroLength(subject, object, graphs), ...this.path(path.path, subject, object, graphs)];
        return uniquePairs(pairs);
      }
      case Algebra.types.ZERO_OR_MORE_PATH:
        return this.closure(path.path, subject, object, graphs, true);
      case Algebra.types.ONE_OR_MORE_PATH:
        return this.closure(path.path, subject, object, graphs, false);
      default:
        throw new SparqlNotSupportedError(`property path ${(path as Algebra.Operation).type}`);
    }
  }

  /** Pairs of ids held for a path are held rows of two columns. */
  private holdPairs(pairs: PathPair[]): void {
    this.budget.holdRows(pairs.length, 2);
  }

  private linkPairs(condition: string, subject: number | null, object: number | null, graphs: GraphRef[]): PathPair[] {
    if (graphs.length === 0 || (subject !== null && subject < 0) || (object !== null && object < 0)) return [];
    const where = [graphCondition("q", graphs), `q.${condition}`];
    if (subject !== null) where.push(`q.s = ${subject | 0}`);
    if (object !== null) where.push(`q.o = ${object | 0}`);
    const distinct = graphs.length > 1 ? "DISTINCT " : "";
    const rows = this.queryRows(`SELECT ${distinct}q.s, q.o FROM rdf_quad q WHERE ${where.join(" AND ")}`, 2);
    return rows.map((row) => [Number(row[0]), Number(row[1])]);
  }

  private sequence(
    inputs: Algebra.PropertyPathSymbol[],
    subject: number | null,
    object: number | null,
    graphs: GraphRef[],
  ) {
    if (inputs.length === 1) return this.path(inputs[0] as Algebra.PropertyPathSymbol, subject, object, graphs);
    let chain = 0;
    while (chain < inputs.length && linkOf(inputs[chain] as Algebra.PropertyPathSymbol)) chain++;
    if (chain >= 2 && (subject !== null || object === null || chain === inputs.length)) {
      // Leading plain (or inverse) links are one BGP: a single SQL join instead of a lookup per node.
      const head = this.linkChain(inputs.slice(0, chain), subject, chain === inputs.length ? object : null, graphs);
      if (chain === inputs.length) return head;
      return this.continueSequence(head, inputs.slice(chain), object, graphs);
    }
    const [first, ...rest] = inputs as [Algebra.PropertyPathSymbol, ...Algebra.PropertyPathSymbol[]];
    const result: PathPair[] = [];
    if (subject === null && object !== null) {
      // Evaluate from the fixed end.
      const last = rest.pop() as Algebra.PropertyPathSymbol;
      const prefix = [first, ...rest];
      const tail = this.path(last, null, object, graphs);
      const byMiddle = groupBy(tail, 0);
      for (const [middle, count] of byMiddle) {
        for (const [s] of this.sequence(prefix, null, middle, graphs)) {
          this.tick(count);
          for (let i = 0; i < count; i++) result.push([s, object]);
        }
        this.holdPairs(result);
      }
      return result;
    }
    return this.continueSequence(this.path(first, subject, null, graphs), rest, object, graphs);
  }

  /** Extends each (s, middle) pair of `head` through `rest`, evaluating the rest once per distinct middle. */
  private continueSequence(
    head: PathPair[],
    rest: Algebra.PropertyPathSymbol[],
    object: number | null,
    graphs: GraphRef[],
  ): PathPair[] {
    const result: PathPair[] = [];
    const cache = new Map<number, PathPair[]>();
    for (const [s, middle] of head) {
      let tail = cache.get(middle);
      if (!tail) {
        tail = this.sequence(rest, middle, object, graphs);
        cache.set(middle, tail);
      }
      this.tick(tail.length);
      for (const [, o] of tail) result.push([s, o]);
      this.holdPairs(result);
    }
    return result;
  }

  /** A sequence of links as one BGP from ?s (or the fixed subject) through fresh nodes to ?o; bag semantics. */
  private linkChain(
    links: Algebra.PropertyPathSymbol[],
    subject: number | null,
    object: number | null,
    graphs: GraphRef[],
  ) {
    if (graphs.length === 0 || (subject !== null && subject < 0) || (object !== null && object < 0)) return [];
    const node = (index: number): PatternSlot => {
      if (index === 0) return subject !== null ? { id: subject } : { variable: "s" };
      if (index === links.length) return object !== null ? { id: object } : { variable: "o" };
      return { variable: `m${index}` };
    };
    const patterns: EncodedPattern[] = [];
    for (const [index, link] of links.entries()) {
      const { iri, inverse } = linkOf(link) as { iri: RDF.NamedNode; inverse: boolean };
      const predicate = this.idOf(iri);
      if (predicate < 0) return [];
      const [from, to] = [node(index), node(index + 1)];
      patterns.push(inverse ? [to, { id: predicate }, from] : [from, { id: predicate }, to]);
    }
    const { sql, variables } = compileBgp(patterns, graphs);
    const rows = this.queryRows(sql, 2);
    const sIndex = variables.indexOf("s");
    const oIndex = variables.indexOf("o");
    return rows.map(
      (row): PathPair => [
        sIndex >= 0 ? Number(row[sIndex]) : (subject as number),
        oIndex >= 0 ? Number(row[oIndex]) : (object as number),
      ],
    );
  }

  private zeroLength(subject: number | null, object: number | null, graphs: GraphRef[]): PathPair[] {
    if (subject !== null && object !== null) return subject === object ? [[subject, subject]] : [];
    if (subject !== null) return [[subject, subject]];
    if (object !== null) return [[object, object]];
    return this.allNodes(graphs).map((node) => [node, node]);
  }

  private inGraph(id: number, graphs: GraphRef[]): boolean {
    if (id < 0 || graphs.length === 0) return false;
    const condition = graphCondition("q", graphs);
    const rows = this.store.db.all(
      `SELECT EXISTS (SELECT 1 FROM rdf_quad q WHERE q.s = ${id | 0} AND ${condition})
       OR EXISTS (SELECT 1 FROM rdf_quad q WHERE q.o = ${id | 0} AND ${condition})`,
    );
    return Number(rows[0]?.[0]) === 1;
  }

  private allNodes(graphs: GraphRef[]): number[] {
    if (graphs.length === 0) return [];
    const condition = graphCondition("q", graphs);
    const rows = this.queryRows(
      `SELECT q.s FROM rdf_quad q WHERE ${condition} UNION SELECT q.o FROM rdf_quad q WHERE ${condition}`,
      2,
    );
    return rows.map((row) => Number(row[0]));
  }

  /** Transitive closure by breadth-first search from the fixed end (or from every node). */
  private closure(
    inner: Algebra.PropertyPathSymbol,
    subject: number | null,
    object: number | null,
    graphs: GraphRef[],
    includeZero: boolean,
  ): PathPair[] {
    if (subject === null && object !== null) {
      const step = (nodes: number[]) => this.stepMany(inner, nodes, false, graphs);
      return this.reach(step, object, includeZero).map((s): PathPair => [s, object]);
    }
    if (subject !== null) {
      const step = (nodes: number[]) => this.stepMany(inner, nodes, true, graphs);
      const reached = this.reach(step, subject, includeZero);
      return (object === null ? reached : reached.filter((o) => o === object)).map((o): PathPair => [subject, o]);
    }
    // Both ends free: one scan of the inner path, then breadth-first search in memory from every start.
    const adjacency = new Map<number, number[]>();
    for (const [s, o] of this.path(inner, null, null, graphs)) {
      const targets = adjacency.get(s);
      if (targets) targets.push(o);
      else adjacency.set(s, [o]);
    }
    const step = (nodes: number[]) => {
      const pairs: PathPair[] = [];
      for (const node of nodes) for (const target of adjacency.get(node) ?? []) pairs.push([node, target]);
      this.tick(pairs.length);
      return pairs;
    };
    const starts = includeZero ? this.allNodes(graphs) : [...adjacency.keys()];
    const result: PathPair[] = [];
    for (const start of starts) {
      for (const o of this.reach(step, start, includeZero)) result.push([start, o]);
      this.holdPairs(result);
    }
    return result;
  }

  /** One step of `inner` from each of `nodes` (forward: as subjects; backward: as objects), as [from, to] pairs. */
  private stepMany(
    inner: Algebra.PropertyPathSymbol,
    nodes: number[],
    forward: boolean,
    graphs: GraphRef[],
  ): PathPair[] {
    let path = inner;
    let direction = forward;
    if (path.type === Algebra.types.INV) {
      path = path.path;
      direction = !direction;
    }
    const known = nodes.filter((node) => node > 0);
    if ((path.type === Algebra.types.LINK || path.type === Algebra.types.NPS) && graphs.length > 0) {
      if (known.length === 0) return [];
      let condition: string;
      if (path.type === Algebra.types.LINK) condition = `q.p = ${this.idOf(path.iri) | 0}`;
      else {
        const excluded = path.iris.map((iri) => this.idOf(iri)).filter((id) => id > 0);
        condition = excluded.length > 0 ? `q.p NOT IN (${excluded.map((id) => id | 0).join(", ")})` : "1";
      }
      const from = direction ? "s" : "o";
      const to = direction ? "o" : "s";
      this.tick();
      const rows = this.queryRows(
        `SELECT DISTINCT q.${from}, q.${to} FROM rdf_quad q WHERE q.${from} IN (SELECT value FROM json_each(?))
         AND ${condition} AND ${graphCondition("q", graphs)}`,
        2,
        [JSON.stringify(known)],
      );
      return rows.map((row) => [Number(row[0]), Number(row[1])]);
    }
    const pairs: PathPair[] = [];
    for (const node of nodes) {
      const found = forward ? this.path(inner, node, null, graphs) : this.path(inner, null, node, graphs);
      for (const [s, o] of found) pairs.push(forward ? [node, o] : [node, s]);
      this.holdPairs(pairs);
    }
    return pairs;
  }

  private reach(step: (nodes: number[]) => PathPair[], start: number, includeZero: boolean): number[] {
    const visited = new Set<number>();
    const order: number[] = [];
    if (includeZero) {
      visited.add(start);
      order.push(start);
    }
    const expanded = new Set<number>([start]);
    let frontier = [start];
    while (frontier.length > 0) {
      const next: number[] = [];
      for (const [, reached] of step(frontier)) {
        if (!visited.has(reached)) {
          visited.add(reached);
          order.push(reached);
        }
        if (!expanded.has(reached)) {
          expanded.add(reached);
          next.push(reached);
        }
      }
      frontier = next;
    }
    return order;
  }
}

const NUMERIC_DATATYPES = new Set(
  ["integer", "decimal", "double", "float"].map((name) => `http://www.w3.org/2001/XMLSchema#${name}`),
);

/**
 * Numeric range constraints implied by a FILTER: conjuncts `?v op number` (op one of < <= > >= =).
 * Such a FILTER is false for anything but numeric literals in range, so SQL may pre-select by value.
 */
export function numericBoundsOf(expression: Algebra.Expression): Map<string, NumericBounds> {
  const bounds = new Map<string, NumericBounds>();
  const visit = (node: Algebra.Expression): void => {
    if (node.expressionType !== "operator") return;
    if (node.operator === "&&") {
      for (const arg of node.args) visit(arg);
      return;
    }
    if (!["<", "<=", ">", ">=", "="].includes(node.operator) || node.args.length !== 2) return;
    const [left, right] = node.args as [Algebra.Expression, Algebra.Expression];
    let variable: string;
    let constant: RDF.Term;
    let operator = node.operator;
    if (left.expressionType === "term" && right.expressionType === "term" && left.term.termType === "Variable") {
      variable = left.term.value;
      constant = right.term;
    } else if (
      left.expressionType === "term" &&
      right.expressionType === "term" &&
      right.term.termType === "Variable"
    ) {
      variable = right.term.value;
      constant = left.term;
      operator = ({ "<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=" } as Record<string, string>)[
        operator
      ] as string;
    } else return;
    if (constant.termType !== "Literal" || !NUMERIC_DATATYPES.has(constant.datatype.value)) return;
    const value = Number(constant.value);
    if (!Number.isFinite(value)) return;
    const current = bounds.get(variable) ?? {};
    if (operator === ">" || operator === ">=" || operator === "=")
      current.min = Math.max(current.min ?? -Infinity, value);
    if (operator === "<" || operator === "<=" || operator === "=")
      current.max = Math.min(current.max ?? Infinity, value);
    bounds.set(variable, current);
  };
  visit(expression);
  return bounds;
}

function randomNumber(): number {
  const buffer = new Uint32Array(1);
  crypto.getRandomValues(buffer);
  return (buffer[0] as number) / 4294967296;
}

/** A path step that is one triple pattern: `iri` or `^iri`. */
function linkOf(path: Algebra.PropertyPathSymbol): { iri: RDF.NamedNode; inverse: boolean } | null {
  if (path.type === Algebra.types.LINK) return { iri: path.iri, inverse: false };
  if (path.type === Algebra.types.INV && path.path.type === Algebra.types.LINK)
    return { iri: path.path.iri, inverse: true };
  return null;
}

function uniquePairs(pairs: PathPair[]): PathPair[] {
  const seen = new Set<string>();
  return pairs.filter(([s, o]) => {
    const key = `${s} ${o}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function groupBy(pairs: PathPair[], position: 0 | 1): Map<number, number> {
  const counts = new Map<number, number>();
  for (const pair of pairs) counts.set(pair[position], (counts.get(pair[position]) ?? 0) + 1);
  return counts;
}
