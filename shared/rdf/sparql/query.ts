import type * as RDF from "@rdfjs/types";
import { Algebra, translate } from "sparqlalgebrajs";
import { Parser as SparqlParser } from "sparqljs";
import { NestingTooDeepError } from "../../core/budget-errors";
import type { QuadStore } from "../store/quad-store";
import { dataFactory, termKey } from "../store/term-key";
import { ResultLimitExceededError, SparqlError, SparqlNotSupportedError, SparqlSyntaxError } from "./errors";
import { type EvaluationOptions, Evaluator } from "./evaluator";
import type { Bindings } from "./expression-engine";
import { checkQueryNesting, MAX_QUERY_NESTING } from "./query-nesting";

export type QueryResult =
  | { type: "bindings"; variables: string[]; bindings: Bindings[] }
  | { type: "boolean"; value: boolean }
  | { type: "quads"; quads: RDF.Quad[] };

export interface QueryOptions extends Omit<EvaluationOptions, "store"> {
  /** Most solutions (or triples) a result may hold; more → ResultLimitExceededError. */
  maxRows?: number;
}

const UPDATE_TYPES = new Set<string>([
  Algebra.types.COMPOSITE_UPDATE,
  Algebra.types.DELETE_INSERT,
  Algebra.types.LOAD,
  Algebra.types.CLEAR,
  Algebra.types.CREATE,
  Algebra.types.DROP,
  Algebra.types.ADD,
  Algebra.types.MOVE,
  Algebra.types.COPY,
]);

interface ParserErrorShape {
  message?: string;
  hash?: { line?: number; loc?: { last_line?: number; last_column?: number } };
}

/** Recently parsed texts → algebra. Evaluation never mutates algebra, so cached operations are shared. */
const parseCache = new Map<string, Algebra.Operation>();
const PARSE_CACHE_SIZE = 64;

/** Parses SPARQL 1.1 (query or update) text into algebra; syntax errors become SparqlSyntaxError. */
export function parseSparql(text: string, options: { baseIRI?: string } = {}): Algebra.Operation {
  const cacheKey = `${options.baseIRI ?? ""}\u0000${text}`;
  const cached = parseCache.get(cacheKey);
  if (cached) {
    // Refresh its position: the Map's insertion order is the eviction order.
    parseCache.delete(cacheKey);
    parseCache.set(cacheKey, cached);
    return cached;
  }
  const operation = parseUncached(text, options);
  if (parseCache.size >= PARSE_CACHE_SIZE) parseCache.delete(parseCache.keys().next().value as string);
  parseCache.set(cacheKey, operation);
  return operation;
}

function parseUncached(text: string, options: { baseIRI?: string }): Algebra.Operation {
  checkQueryNesting(text);
  try {
    const parsed = new SparqlParser({ baseIRI: options.baseIRI, factory: dataFactory }).parse(unescapeIris(text));
    if (parsed.type === "query") {
      checkBlankNodeScopes(parsed.where ?? []);
      keepNestedOptionalFilters(parsed.where ?? []);
    }
    // Updates need quads (their templates name graphs); queries keep GRAPH as algebra operations.
    let operation = translate(parsed, { quads: parsed.type === "update", baseIRI: options.baseIRI, dataFactory });
    if (parsed.type === "query" && (parsed as { limit?: number }).limit === 0) operation = limitZero(operation);
    if (parsed.type === "query" && parsed.queryType === "SELECT" && isWildcard(parsed.variables)) {
      orderWildcardProjection(operation, parsed.where ?? []);
    }
    // The query's own BASE is what IRI()/URI() resolve against.
    const baseIRI = (parsed as { base?: string }).base ?? options.baseIRI;
    if (baseIRI) operation.metadata = { ...operation.metadata, baseIRI };
    return operation;
  } catch (error) {
    if (error instanceof SparqlSyntaxError) throw error;
    // Long operator chains (`1 + 1 + …`) nest without brackets: the parser's stack is their bound.
    if (error instanceof RangeError) throw new NestingTooDeepError("SPARQL query", MAX_QUERY_NESTING);
    const shape = error as ParserErrorShape;
    // Jison: hash.line is the 0-based line of the offending token; loc is the last token read before it.
    const line = shape.hash?.line !== undefined ? shape.hash.line + 1 : null;
    const loc = shape.hash?.loc;
    const column =
      line !== null && loc?.last_line === line && loc.last_column !== undefined ? loc.last_column + 1 : null;
    throw new SparqlSyntaxError(shape.message ?? String(error), line, column);
  }
}

const IRI_WITH_ESCAPES =
  /<(?:[^<>"{}|^`\\\s]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*\\[uU](?:[^<>"{}|^`\\\s]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>/g;

/** Codepoint escapes in IRIs (`<\u0078>`) are valid SPARQL that sparqljs rejects; decode them first. */
function unescapeIris(text: string): string {
  return text.replace(IRI_WITH_ESCAPES, (iri) =>
    iri.replace(/\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})/g, (_, short: string | undefined, long: string | undefined) =>
      String.fromCodePoint(Number.parseInt(short ?? long ?? "0", 16)),
    ),
  );
}

function isWildcard(variables: unknown): boolean {
  return (
    Array.isArray(variables) &&
    variables.length === 1 &&
    (variables[0] as { termType?: string }).termType === "Wildcard"
  );
}

/** `SELECT *` lists variables in order of first appearance (sparqlalgebrajs sorts them by name). */
function orderWildcardProjection(op: Algebra.Operation, where: unknown[]): void {
  const order = new Map<string, number>();
  JSON.stringify(where, (_key, value: unknown) => {
    const term = value as { termType?: string; value?: string } | null;
    if (term && term.termType === "Variable" && typeof term.value === "string" && !order.has(term.value)) {
      order.set(term.value, order.size);
    }
    return value;
  });
  let node: Algebra.Operation = op;
  while (node.type !== Algebra.types.PROJECT) {
    if (!("input" in node) || !node.input || Array.isArray(node.input)) return;
    node = node.input as Algebra.Operation;
  }
  const rank = (variable: RDF.Variable) => order.get(variable.value) ?? Number.MAX_SAFE_INTEGER;
  node.variables = [...node.variables].sort((a: RDF.Variable, b: RDF.Variable) => rank(a) - rank(b));
}

/** sparqlalgebrajs drops `LIMIT 0` (a falsy length); put the empty slice back. */
function limitZero(op: Algebra.Operation): Algebra.Operation {
  if (op.type === Algebra.types.FROM || op.type === Algebra.types.CONSTRUCT || op.type === Algebra.types.DESCRIBE) {
    return { ...op, input: limitZero(op.input) } as Algebra.Operation;
  }
  if (op.type === Algebra.types.ASK) return { ...op, input: limitZero(op.input) } as Algebra.Operation;
  return { type: Algebra.types.SLICE, input: op, start: 0, length: 0 } as Algebra.Slice;
}

interface PatternNode {
  type: string;
  triples?: { subject: RDF.Term; predicate: unknown; object: RDF.Term }[];
  patterns?: PatternNode[];
  where?: PatternNode[];
  expression?: unknown;
}

/** SPARQL forbids one blank node label in two basic graph patterns (sparqljs does not check this). */
function checkBlankNodeScopes(where: readonly unknown[]): void {
  const owner = new Map<string, number>();
  let nextBgp = 0;
  const visitExpression = (expression: unknown): void => {
    if (!expression || typeof expression !== "object") return;
    const node = expression as { type?: string; args?: unknown[] };
    if (node.type === "operation" && Array.isArray(node.args)) {
      for (const arg of node.args) {
        if (arg && typeof arg === "object" && (arg as PatternNode).type === "group") visitGroup([arg as PatternNode]);
        else visitExpression(arg);
      }
    }
  };
  const visitGroup = (patterns: readonly PatternNode[]): void => {
    let current = nextBgp++;
    for (const pattern of patterns) {
      if (pattern.type === "bgp") {
        for (const triple of pattern.triples ?? []) {
          for (const term of [triple.subject, triple.object]) {
            if (term.termType !== "BlankNode" || !term.value.startsWith("e_")) continue;
            const previous = owner.get(term.value);
            if (previous !== undefined && previous !== current) {
              throw new SparqlSyntaxError(
                `blank node label _:${term.value.slice(2)} is used in two basic graph patterns`,
                null,
                null,
              );
            }
            owner.set(term.value, current);
          }
        }
        continue;
      }
      if (pattern.type === "filter") {
        visitExpression(pattern.expression);
        continue;
      }
      current = nextBgp++;
      if (pattern.type === "union") for (const branch of pattern.patterns ?? []) visitGroup([branch]);
      else if (pattern.patterns) visitGroup(pattern.patterns);
      if (pattern.where) visitGroup(pattern.where);
      if (pattern.type === "bind") visitExpression(pattern.expression);
      current = nextBgp++;
    }
  };
  visitGroup(where as PatternNode[]);
}

/**
 * `OPTIONAL { { P FILTER(F) } }` filters inside the inner group, but sparqlalgebrajs lifts F into the
 * left join's condition, where it sees the left side's variables. Joining the unit table to the inner
 * group keeps it a group of its own.
 */
function keepNestedOptionalFilters(patterns: readonly unknown[]): void {
  for (const pattern of patterns as PatternNode[]) {
    if (!pattern || typeof pattern !== "object") continue;
    const inner = pattern.patterns;
    if (
      pattern.type === "optional" &&
      inner?.length === 1 &&
      inner[0]?.type === "group" &&
      inner[0].patterns?.some((child) => child.type === "filter")
    ) {
      (inner as unknown[]).push({ type: "values", values: [{}] });
    }
    if (inner) keepNestedOptionalFilters(inner);
    if (pattern.where) keepNestedOptionalFilters(pattern.where);
  }
}

/** Parses a query (not an update). */
export function parseQuery(text: string, options: { baseIRI?: string } = {}): Algebra.Operation {
  const operation = parseSparql(text, options);
  if (UPDATE_TYPES.has(operation.type)) throw new SparqlNotSupportedError("SPARQL Update in a query");
  return operation;
}

function projectedVariables(op: Algebra.Operation): string[] {
  switch (op.type) {
    case Algebra.types.PROJECT:
      return op.variables.map((variable: RDF.Variable) => variable.value);
    case Algebra.types.SLICE:
    case Algebra.types.DISTINCT:
    case Algebra.types.REDUCED:
    case Algebra.types.ORDER_BY:
    case Algebra.types.FROM:
      return projectedVariables(op.input);
    default:
      return [];
  }
}

/** Runs a SPARQL query (text or parsed algebra) against the store. Synchronous. */
export function executeQuery(store: QuadStore, query: string | Algebra.Operation, options: QueryOptions): QueryResult {
  const operation = typeof query === "string" ? parseQuery(query, { baseIRI: options.baseIRI }) : query;
  const queryBase = operation.metadata?.baseIRI;
  const baseIRI = typeof queryBase === "string" ? queryBase : options.baseIRI;
  const evaluator = new Evaluator({ ...options, baseIRI, store });
  const limit = options.maxRows ?? Number.POSITIVE_INFINITY;
  const run = (op: Algebra.Operation): QueryResult => {
    switch (op.type) {
      case Algebra.types.FROM:
        return evaluator.withDataset(op, () => run(op.input));
      case Algebra.types.ASK:
        return { type: "boolean", value: evaluator.evaluate(op.input, new Map(), evaluator.defaultGraph).length > 0 };
      case Algebra.types.CONSTRUCT: {
        const rows = evaluator.evaluate(op.input, new Map(), evaluator.defaultGraph);
        const quads = construct(op.template, rows);
        if (quads.length > limit) throw new ResultLimitExceededError(limit);
        return { type: "quads", quads };
      }
      case Algebra.types.DESCRIBE: {
        const quads = describe(evaluator, op);
        if (quads.length > limit) throw new ResultLimitExceededError(limit);
        return { type: "quads", quads };
      }
      default: {
        if (UPDATE_TYPES.has(op.type)) throw new SparqlNotSupportedError("SPARQL Update in a query");
        const bindings = evaluator.evaluate(op, new Map(), evaluator.defaultGraph);
        if (bindings.length > limit) throw new ResultLimitExceededError(limit);
        return { type: "bindings", variables: projectedVariables(op), bindings };
      }
    }
  };
  try {
    return run(operation);
  } catch (error) {
    if (error instanceof SparqlError) throw error;
    if (error instanceof RangeError) throw new ResultLimitExceededError(limit);
    throw error;
  }
}

function instantiate(term: RDF.Term, row: Bindings, rowIndex: number): RDF.Term | undefined {
  if (term.termType === "Variable") return row.get(term.value);
  if (term.termType === "BlankNode") return dataFactory.blankNode(`t${rowIndex}_${term.value}`);
  return term;
}

/** CONSTRUCT: the template instantiated per solution; invalid triples are dropped; the result is a set. */
export function construct(template: RDF.BaseQuad[], rows: Bindings[]): RDF.Quad[] {
  const seen = new Set<string>();
  const quads: RDF.Quad[] = [];
  rows.forEach((row, rowIndex) => {
    for (const pattern of template) {
      const subject = instantiate(pattern.subject, row, rowIndex);
      const predicate = instantiate(pattern.predicate, row, rowIndex);
      const object = instantiate(pattern.object, row, rowIndex);
      if (!subject || !predicate || !object) continue;
      if (subject.termType !== "NamedNode" && subject.termType !== "BlankNode") continue;
      if (predicate.termType !== "NamedNode") continue;
      if (object.termType === "Variable" || object.termType === "DefaultGraph" || object.termType === "Quad") continue;
      const key = `${termKey(subject)} ${termKey(predicate)} ${termKey(object)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      quads.push(dataFactory.quad(subject, predicate, object));
    }
  });
  return quads;
}

/** DESCRIBE: the concise bounded description (outgoing triples, following blank nodes) of each resource. */
function describe(evaluator: Evaluator, op: Algebra.Describe): RDF.Quad[] {
  const resources: RDF.Term[] = [];
  const variables = op.terms.filter((term: RDF.Term) => term.termType === "Variable");
  for (const term of op.terms) if (term.termType === "NamedNode") resources.push(term);
  if (variables.length > 0) {
    for (const row of evaluator.evaluate(op.input, new Map(), evaluator.defaultGraph)) {
      for (const variable of variables) {
        const value = row.get(variable.value);
        if (value && (value.termType === "NamedNode" || value.termType === "BlankNode")) resources.push(value);
      }
    }
  }
  const seenResources = new Set<string>();
  const seenTriples = new Set<string>();
  const quads: RDF.Quad[] = [];
  const s = dataFactory.variable("s");
  const p = dataFactory.variable("p");
  const o = dataFactory.variable("o");
  const pattern = dataFactory.quad(s, p, o);
  while (resources.length > 0) {
    const resource = resources.shift() as RDF.Term;
    const key = termKey(resource);
    if (seenResources.has(key)) continue;
    seenResources.add(key);
    const rows = evaluator.evaluateBgp([pattern], new Map([["s", resource]]), evaluator.defaultGraph);
    for (const row of rows) {
      const predicate = row.get("p") as RDF.NamedNode;
      const object = row.get("o") as RDF.Quad_Object;
      const tripleKey = `${key} ${termKey(predicate)} ${termKey(object)}`;
      if (seenTriples.has(tripleKey)) continue;
      seenTriples.add(tripleKey);
      quads.push(dataFactory.quad(resource as RDF.Quad_Subject, predicate, object));
      if (object.termType === "BlankNode") resources.push(object);
    }
  }
  return quads;
}
