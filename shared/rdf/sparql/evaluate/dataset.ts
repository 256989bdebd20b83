import type { Algebra } from "sparqlalgebrajs";
import type { GraphRef } from "../../store/quad-store";

/** A named graph of a dataset: its IRI in the query and the graph version it stands for. */
export interface NamedGraph {
  iri: string;
  ref: GraphRef;
}

/** The RDF dataset a query runs against: a default graph (possibly a merge) and named graphs by IRI. */
export interface QueryDataset {
  defaultGraph: GraphRef[];
  namedGraphs: NamedGraph[];
}

/** The dataset FROM / FROM NAMED describe, from the graphs they may name; unknown IRIs name no graph. */
export function datasetOf(op: Algebra.From, available: readonly NamedGraph[]): QueryDataset {
  const byIri = new Map(available.map((graph) => [graph.iri, graph.ref]));
  const defaultGraph: GraphRef[] = [];
  for (const iri of op.default) {
    const ref = byIri.get(iri.value);
    if (ref) defaultGraph.push(ref);
  }
  const namedGraphs: NamedGraph[] = [];
  for (const iri of op.named) {
    const ref = byIri.get(iri.value);
    if (ref && !namedGraphs.some((graph) => graph.iri === iri.value)) namedGraphs.push({ iri: iri.value, ref });
  }
  namedGraphs.sort((a, b) => (a.iri < b.iri ? -1 : a.iri > b.iri ? 1 : 0));
  return { defaultGraph, namedGraphs };
}
