import type { Algebra } from "sparqlalgebrajs";
import type { QuadStore } from "../store/quad-store";
import { SqliteQueryableGraph } from "../store/sqlite-queryable-graph";
import { executeQuery, type QueryResult, type SparqlQueryOptions } from "./execute/execute";
import { planGraphUpdate, type UpdatePlan } from "./execute/update";

/*
 * The SPARQL engine's entry points over the quad store. The stages behind them: parse/ (text →
 * algebra, with the parser workarounds), execute/ (query forms, result shapes, updates), evaluate/
 * (the algebra evaluator and property paths, talking to the store through QueryableGraph only) and
 * expressions/ (operators, functions, aggregates).
 */

/** Runs a SPARQL 1.1 query (text or parsed algebra) over the store. */
export function runSparqlQuery(
  store: QuadStore,
  query: string | Algebra.Operation,
  options: SparqlQueryOptions,
): QueryResult {
  return executeQuery(new SqliteQueryableGraph(store), query, options);
}

/** Turns a SPARQL 1.1 Update into the patch (triples to remove and to add) of the store's graph. */
export function planUpdate(store: QuadStore, text: string, options: SparqlQueryOptions): UpdatePlan {
  return planGraphUpdate(new SqliteQueryableGraph(store), text, options);
}
