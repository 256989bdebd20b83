import type * as RDF from "@rdfjs/types";
import { Algebra } from "sparqlalgebrajs";
import type { QueryableGraph } from "../../store/queryable-graph";
import { ResultLimitExceededError, SparqlError, SparqlNotSupportedError } from "../errors";
import { type EvaluationOptions, Evaluator } from "../evaluate/evaluator";
import type { Bindings } from "../expressions";
import { isUpdateOperation, parseQuery } from "../parse/parse";
import { construct, describe } from "./graph-results";

export type QueryResult =
  | { type: "bindings"; variables: string[]; bindings: Bindings[] }
  | { type: "boolean"; value: boolean }
  | { type: "quads"; quads: RDF.Quad[] };

export interface SparqlQueryOptions extends EvaluationOptions {
  /** Most solutions (or triples) a result may hold; more → ResultLimitExceededError. */
  maxRows?: number;
}

/** The variables a SELECT's solutions are listed with. */
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

/** Runs a SPARQL query (text or parsed algebra) against the graph: its form decides the result's shape. Synchronous. */
export function executeQuery(
  graph: QueryableGraph,
  query: string | Algebra.Operation,
  options: SparqlQueryOptions,
): QueryResult {
  const operation = typeof query === "string" ? parseQuery(query, { baseIRI: options.baseIRI }) : query;
  const queryBase = operation.metadata?.baseIRI;
  const baseIRI = typeof queryBase === "string" ? queryBase : options.baseIRI;
  const evaluator = new Evaluator(graph, { ...options, baseIRI });
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
        if (isUpdateOperation(op)) throw new SparqlNotSupportedError("SPARQL Update in a query");
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
