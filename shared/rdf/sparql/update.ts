import type * as RDF from "@rdfjs/types";
import { Algebra } from "sparqlalgebrajs";
import { MAX_RDF_NESTING_DEPTH } from "../formats";
import type { QuadStore } from "../store/quad-store";
import { termKey } from "../store/term-key";
import { expressionEngine } from "./engine";
import { SparqlNotSupportedError } from "./errors";
import { construct, executeQuery, parseSparql, type QueryOptions } from "./query";
import { checkQueryNesting } from "./query-nesting";

export interface UpdatePlan {
  add: RDF.Quad[];
  remove: RDF.Quad[];
}

const quadKey = (quad: RDF.Quad) => `${termKey(quad.subject)} ${termKey(quad.predicate)} ${termKey(quad.object)}`;

function inDefaultGraph(patterns: readonly RDF.BaseQuad[] | undefined): RDF.BaseQuad[] {
  for (const pattern of patterns ?? []) {
    if (pattern.graph && pattern.graph.termType !== "DefaultGraph") {
      throw new SparqlNotSupportedError("GRAPH in an update template (updates apply to the graph of the URL)");
    }
  }
  return [...(patterns ?? [])];
}

/**
 * SPARQL 1.1 Update (INSERT DATA, DELETE DATA, DELETE/INSERT … WHERE, DELETE WHERE, and sequences
 * of them) turned into one patch of the graph: the triples to remove and to add. Every WHERE is
 * evaluated against the graph as it was before the request; later operations override earlier ones
 * for the same triple. LOAD, CLEAR, CREATE, DROP, ADD, MOVE and COPY are not supported. Brackets (collections,
 * blank-node property lists, groups, expressions) nest at most MAX_RDF_NESTING_DEPTH deep.
 */
export function planUpdate(store: QuadStore, text: string, options: Omit<QueryOptions, "expressions">): UpdatePlan {
  checkQueryNesting(text, "sparql update", MAX_RDF_NESTING_DEPTH);
  const operation = parseSparql(text, { baseIRI: options.baseIRI });
  const steps: Algebra.Operation[] =
    operation.type === Algebra.types.COMPOSITE_UPDATE ? (operation as Algebra.CompositeUpdate).updates : [operation];
  const add = new Map<string, RDF.Quad>();
  const remove = new Map<string, RDF.Quad>();
  for (const step of steps) {
    if (step.type !== Algebra.types.DELETE_INSERT) {
      throw new SparqlNotSupportedError(`SPARQL Update ${String(step.type).toUpperCase()}`);
    }
    const { delete: deleteTemplate, insert: insertTemplate, where } = step as Algebra.DeleteInsert;
    const rows = where
      ? (() => {
          const result = executeQuery(store, where, { ...options, expressions: expressionEngine });
          return result.type === "bindings" ? result.bindings : [];
        })()
      : [new Map()];
    for (const quad of construct(inDefaultGraph(deleteTemplate), rows)) {
      const key = quadKey(quad);
      add.delete(key);
      remove.set(key, quad);
    }
    for (const quad of construct(inDefaultGraph(insertTemplate), rows)) {
      const key = quadKey(quad);
      remove.delete(key);
      add.set(key, quad);
    }
  }
  return { add: [...add.values()], remove: [...remove.values()] };
}
