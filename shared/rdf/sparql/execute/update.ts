import type * as RDF from "@rdfjs/types";
import { Algebra } from "sparqlalgebrajs";
import type { QueryableGraph } from "../../store/queryable-graph";
import { termKey } from "../../store/term-key";
import { SparqlNotSupportedError } from "../errors";
import { parseUpdate } from "../parse/parse";
import { executeQuery, type SparqlQueryOptions } from "./execute";
import { construct } from "./graph-results";

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
 * for the same triple. LOAD, CLEAR, CREATE, DROP, ADD, MOVE and COPY are not supported.
 */
export function planGraphUpdate(graph: QueryableGraph, text: string, options: SparqlQueryOptions): UpdatePlan {
  const steps = parseUpdate(text, { baseIRI: options.baseIRI });
  const add = new Map<string, RDF.Quad>();
  const remove = new Map<string, RDF.Quad>();
  for (const step of steps) {
    if (step.type !== Algebra.types.DELETE_INSERT) {
      throw new SparqlNotSupportedError(`SPARQL Update ${String(step.type).toUpperCase()}`);
    }
    const { delete: deleteTemplate, insert: insertTemplate, where } = step as Algebra.DeleteInsert;
    const rows = where
      ? (() => {
          const result = executeQuery(graph, where, options);
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
