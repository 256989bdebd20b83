import { Algebra, translate } from "sparqlalgebrajs";
import { Parser as SparqlParser } from "sparqljs";
import { NestingTooDeepError } from "../../../core/budget-errors";
import { MAX_RDF_NESTING_DEPTH } from "../../formats";
import { dataFactory } from "../../store/term-key";
import { SparqlNotSupportedError, SparqlSyntaxError } from "../errors";
import {
  checkBlankNodeScopes,
  isWildcard,
  keepNestedOptionalFilters,
  limitZero,
  orderWildcardProjection,
  unescapeIris,
} from "./parser-workarounds";
import { checkQueryNesting, MAX_QUERY_NESTING } from "./query-nesting";

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

/** Is the operation a SPARQL Update (or a sequence of them)? */
export function isUpdateOperation(operation: Algebra.Operation): boolean {
  return UPDATE_TYPES.has(operation.type);
}

/** Parses a query (not an update). */
export function parseQuery(text: string, options: { baseIRI?: string } = {}): Algebra.Operation {
  const operation = parseSparql(text, options);
  if (isUpdateOperation(operation)) throw new SparqlNotSupportedError("SPARQL Update in a query");
  return operation;
}

/**
 * Parses a SPARQL Update into its steps. Brackets (collections, blank-node property lists, groups,
 * expressions) nest at most MAX_RDF_NESTING_DEPTH deep, as in the RDF documents an update edits.
 */
export function parseUpdate(text: string, options: { baseIRI?: string } = {}): Algebra.Operation[] {
  checkQueryNesting(text, "sparql update", MAX_RDF_NESTING_DEPTH);
  const operation = parseSparql(text, options);
  return operation.type === Algebra.types.COMPOSITE_UPDATE
    ? (operation as Algebra.CompositeUpdate).updates
    : [operation];
}
