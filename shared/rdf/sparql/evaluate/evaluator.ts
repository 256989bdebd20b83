import type * as RDF from "@rdfjs/types";
import { Algebra } from "sparqlalgebrajs";
import { XSD } from "../../../core/rdf-vocabulary";
import type { GraphRef } from "../../store/quad-store";
import type { CountSpec, EncodedPattern, NumericBounds, QueryableGraph } from "../../store/queryable-graph";
import { dataFactory } from "../../store/term-key";
import { SparqlNotSupportedError } from "../errors";
import {
  type Bindings,
  compareTerms,
  createAggregator,
  type ExpressionContext,
  ExpressionError,
  effectiveBooleanValue,
  evaluate,
} from "../expressions";
import { datasetOf, type NamedGraph, type QueryDataset } from "./dataset";
import { GraphReader } from "./graph-reader";
import { numericBoundsOf } from "./numeric-bounds";
import { PathEvaluator } from "./paths";
import { QueryBudget } from "./query-budget";
import { bindingKey, compatible, merge, variablesOf } from "./solutions";

export interface EvaluationOptions {
  dataset: QueryDataset;
  /** Graphs FROM / FROM NAMED may name (default: the dataset's named graphs). */
  availableGraphs?: NamedGraph[];
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

/**
 * Evaluates SPARQL algebra over a QueryableGraph: basic graph patterns (with their joins, numeric
 * FILTER ranges, OPTIONALs between two of them and COUNTs over one) are pushed down to the store,
 * the rest runs in memory.
 */
export class Evaluator {
  private dataset: QueryDataset;
  private readonly available: NamedGraph[];
  readonly budget: QueryBudget;
  private readonly reader: GraphReader;
  private readonly paths: PathEvaluator;
  private freshBlankNodes = 0;
  /** The row an expression is being evaluated on, to scope BNODE(label) per solution. */
  private currentRow: Bindings | null = null;
  private solutionCount = 0;
  private readonly solutionIds = new WeakMap<Bindings, number>();
  /** Graphs of the pattern being evaluated, so EXISTS inside GRAPH sees the same graph. */
  private activeGraphs: GraphRef[];
  readonly expressionContext: ExpressionContext;

  constructor(graph: QueryableGraph, options: EvaluationOptions) {
    this.dataset = options.dataset;
    this.available = options.availableGraphs ?? options.dataset.namedGraphs;
    this.budget = new QueryBudget(options);
    this.reader = new GraphReader(graph, this.budget);
    this.paths = new PathEvaluator(this.reader, this.budget);
    this.activeGraphs = options.dataset.defaultGraph;
    this.expressionContext = {
      exists: (operation, bindings) => this.evaluate(operation, bindings, this.activeGraphs).length > 0,
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
        return this.paths.evaluate(op, seed, graphs);
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
    this.dataset = datasetOf(op, this.available);
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
      return effectiveBooleanValue(evaluate(expression, row, this.expressionContext));
    } catch (error) {
      if (error instanceof ExpressionError) return false;
      throw error;
    }
  }

  tryEvaluate(expression: Algebra.Expression, row: Bindings): RDF.Term | undefined {
    this.currentRow = row;
    try {
      return evaluate(expression, row, this.expressionContext);
    } catch (error) {
      if (error instanceof ExpressionError) return undefined;
      throw error;
    }
  }

  /** Refuses a set of rows (sized by its first row) that would pass the held-rows memory bound. */
  private holdRows(rows: Bindings[]): void {
    if (rows.length > 0) this.budget.holdRows(rows.length, (rows[0] as Bindings).size);
  }

  // ---- basic graph patterns ----

  /** A BGP with `seed` substituted, in one store scan; `numericBounds` pre-select a FILTER's numeric ranges. */
  evaluateBgp(
    patterns: RDF.BaseQuad[],
    seed: Bindings,
    graphs: GraphRef[],
    numericBounds?: ReadonlyMap<string, NumericBounds>,
  ): Bindings[] {
    if (patterns.length === 0) return [seed];
    if (graphs.length === 0) return [];
    const encoded = this.reader.encodePatterns(patterns, seed);
    if (encoded === null) return [];
    const width = seed.size + bgpVariableCount(encoded);
    this.reader.refuseOversizedProduct(encoded, graphs, width, true);
    this.reader.refuseOversizedPrefixes(encoded, graphs);
    const solutions = this.reader.readSolutions(width, (limit) =>
      this.reader.graph.matchBgp(encoded, graphs, { numericBounds, limit }),
    );
    return this.reader.decode(solutions, seed);
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

  /** OPTIONAL { BGP } after a BGP, without a filter: pushed down to the store as one left join. */
  private leftJoinInStore(op: Algebra.LeftJoin, seed: Bindings, graphs: GraphRef[]): Bindings[] | null {
    const [leftOp, rightOp] = op.input;
    if (op.expression || leftOp.type !== Algebra.types.BGP || rightOp.type !== Algebra.types.BGP) return null;
    if (graphs.length === 0 || leftOp.patterns.length === 0 || rightOp.patterns.length === 0) return null;
    const left = this.reader.encodePatterns(leftOp.patterns, seed);
    if (left === null) return [];
    const right = this.reader.encodePatterns(rightOp.patterns, seed);
    // An optional part that cannot match leaves the left rows as they are.
    if (right === null) return this.evaluateBgp(leftOp.patterns, seed, graphs);
    const width = seed.size + bgpVariableCount([...left, ...right]);
    this.reader.refuseOversizedProduct(left, graphs, width, true);
    this.reader.refuseOversizedPrefixes(left, graphs);
    this.reader.refuseOversizedPrefixes(right, graphs);
    const solutions = this.reader.readSolutions(width, (limit) =>
      this.reader.graph.matchOptional(left, right, graphs, limit),
    );
    return this.reader.decode(solutions, seed);
  }

  private evaluateLeftJoin(op: Algebra.LeftJoin, seed: Bindings, graphs: GraphRef[]): Bindings[] {
    const pushed = this.leftJoinInStore(op, seed, graphs);
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
          if (!equalTerms(term, other)) {
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
        const comparison = compareTerms(key.values[a], key.values[b]);
        if (comparison !== 0) return key.descending ? -comparison : comparison;
      }
      return a - b;
    });
    return order.map((index) => rows[index] as Bindings);
  }

  /** GROUP BY with only COUNT aggregates directly over a BGP: counted by the store, no rows materialized. */
  private groupCountInStore(op: Algebra.Group, seed: Bindings, graphs: GraphRef[]): Bindings[] | null {
    if (op.input.type !== Algebra.types.BGP || seed.size > 0 || graphs.length === 0) return null;
    const counts: CountSpec[] = [];
    for (const aggregate of op.aggregates) {
      if (aggregate.aggregator !== "count") return null;
      const expression = aggregate.expression;
      if (expression.expressionType === "wildcard") {
        // COUNT(DISTINCT *) compares whole solutions: counted in memory.
        if (aggregate.distinct) return null;
        counts.push({ variable: null, distinct: false });
      } else if (expression.expressionType === "term" && expression.term.termType === "Variable") {
        counts.push({ variable: expression.term.value, distinct: aggregate.distinct });
      } else return null;
    }
    const encoded = this.reader.encodePatterns(op.input.patterns, seed);
    if (encoded === null) return null;
    const names = op.variables.map((variable) => variable.value);
    const bound = bgpVariables(encoded);
    if (names.some((name) => !bound.has(name))) return null;
    if (counts.some((count) => count.variable !== null && !bound.has(count.variable))) return null;
    // The BGP's rows are counted, not held: only the step budget bounds them (the store stops one past it).
    // One pattern reads at most the version's triples (bounded by the plan's triple quota) and a limit
    // makes the SQLite store's scan 1.5 times slower (no subquery flattening), so only joins get one.
    this.reader.refuseOversizedProduct(encoded, graphs, 0, false);
    this.reader.refuseOversizedPrefixes(encoded, graphs);
    this.budget.checkDeadline();
    const bgpRowLimit = encoded.length > 1 ? this.budget.scanRowLimit(0, false) : Number.POSITIVE_INFINITY;
    let visitedColumn = 0;
    const rows = this.reader.read(names.length + counts.length + 1, true, (limit) => {
      const counted = this.reader.graph.countGroups(encoded, graphs, names, counts, {
        bgpRowLimit: Number.isFinite(bgpRowLimit) ? bgpRowLimit : undefined,
        limit,
      });
      visitedColumn = counted.visitedColumn;
      return counted.rows;
    });
    let visited = 0;
    for (const row of rows) visited += row[visitedColumn] as number;
    this.budget.checkScanRows(visited, 0, false);
    this.tick(visited);
    const ids = new Set<number>();
    for (const row of rows) for (let i = 0; i < names.length; i++) ids.add(row[i] as number);
    this.reader.loadTerms(ids);
    const integer = dataFactory.namedNode(XSD.integer);
    return rows.map((row) => {
      const bindings = new Map<string, RDF.Term>();
      names.forEach((name, index) => {
        bindings.set(name, this.reader.termOf(row[index] as number));
      });
      op.aggregates.forEach((aggregate, index) => {
        bindings.set(aggregate.variable.value, dataFactory.literal(String(row[names.length + index]), integer));
      });
      return bindings;
    });
  }

  private evaluateGroup(op: Algebra.Group, seed: Bindings, graphs: GraphRef[]): Bindings[] {
    const pushed = this.groupCountInStore(op, seed, graphs);
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
        const aggregator = createAggregator(aggregate, this.expressionContext);
        for (const row of group.rows) aggregator.put(row);
        this.tick(group.rows.length);
        let value: RDF.Term | undefined;
        try {
          value = aggregator.result();
        } catch (error) {
          if (!(error instanceof ExpressionError)) throw error;
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
        if (value && !equalTerms(value, iri)) continue;
        result.push(value ? row : new Map(row).set(name, iri));
      }
    }
    return result;
  }
}

function randomNumber(): number {
  const buffer = new Uint32Array(1);
  crypto.getRandomValues(buffer);
  return (buffer[0] as number) / 4294967296;
}

function equalTerms(a: RDF.Term, b: RDF.Term): boolean {
  return a.equals(b);
}

/** The variables a basic graph pattern binds. */
function bgpVariables(patterns: readonly EncodedPattern[]): Set<string> {
  const names = new Set<string>();
  for (const pattern of patterns) for (const slot of pattern) if ("variable" in slot) names.add(slot.variable);
  return names;
}

function bgpVariableCount(patterns: readonly EncodedPattern[]): number {
  return bgpVariables(patterns).size;
}
