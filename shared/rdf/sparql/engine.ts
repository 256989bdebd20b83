import type { Algebra } from "sparqlalgebrajs";
import type { QuadStore } from "../store/quad-store";
import type { ExpressionEngine } from "./expression-engine";
import * as library from "./expressions";
import { executeQuery, type QueryOptions, type QueryResult } from "./query";

/** The project's SPARQL function/operator library (expressions.ts) in the shape the evaluator calls. */
export const expressionEngine: ExpressionEngine = {
  evaluate: library.evaluate,
  effectiveBooleanValue: library.effectiveBooleanValue,
  compareTerms: library.compareTerms,
  createAggregator: library.createAggregator,
  isExpressionError: (error) => error instanceof library.ExpressionError,
};

export type SparqlQueryOptions = Omit<QueryOptions, "expressions">;

/** Runs a SPARQL 1.1 query over the store with the project's expression library. */
export function runSparqlQuery(
  store: QuadStore,
  query: string | Algebra.Operation,
  options: SparqlQueryOptions,
): QueryResult {
  return executeQuery(store, query, { ...options, expressions: expressionEngine });
}
