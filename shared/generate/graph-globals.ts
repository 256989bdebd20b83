import { RDFS_LABEL } from "../core/rdf-vocabulary";
import { lexicalValueOf } from "./row-values";
import type { MaybePromise, QueryRows } from "./template-unit";

/**
 * The graph-reading globals templates get while rendering, built on RenderHelpers.query so every
 * read runs against the pinned graph version and is recorded as a dependency of the artifact:
 * - `sparql(query)` → the SELECT rows, valued as row-values.ts says;
 * - `label(iri)` → the IRI's label: rdfs:label, then skos:prefLabel, dc:title, dcterms:title,
 *   foaf:name (upstream KGEN's order); among several values of the winning predicate the
 *   smallest in code-unit order, so the choice does not depend on storage order; the IRI's
 *   local name when it has none.
 * Both are synchronous when the query function is (a synchronous template engine needs that).
 */
export const LABEL_PREDICATES = [
  RDFS_LABEL,
  "http://www.w3.org/2004/02/skos/core#prefLabel",
  "http://purl.org/dc/elements/1.1/title",
  "http://purl.org/dc/terms/title",
  "http://xmlns.com/foaf/0.1/name",
] as const;

export class GraphGlobalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GraphGlobalError";
  }
}

// IRIREF of SPARQL 1.1 (§19.8) without the angle brackets, and it must have a scheme.
// biome-ignore lint/suspicious/noControlCharactersInRegex: IRIREF excludes U+0000–U+0020 by definition.
const IRI = /^[A-Za-z][A-Za-z0-9+.-]*:[^\u0000-\u0020<>"{}|^`\\]*$/;

/** Throws unless `iri` can be written as `<iri>` in a query (no injection through labels). */
export function assertIri(iri: unknown): string {
  if (typeof iri !== "string" || !IRI.test(iri)) {
    throw new GraphGlobalError(`label() needs an absolute IRI, got ${JSON.stringify(iri)}`);
  }
  return iri;
}

/** The query label(iri) runs; exported so tests and the impact analysis can recognize it. */
export function labelQuery(iri: string): string {
  const values = LABEL_PREDICATES.map((predicate) => `<${predicate}>`).join(" ");
  return `SELECT ?p ?label WHERE { VALUES ?p { ${values} } <${assertIri(iri)}> ?p ?label }`;
}

function localName(iri: string): string {
  const cut = Math.max(iri.lastIndexOf("#"), iri.lastIndexOf("/"), iri.lastIndexOf(":"));
  return iri.slice(cut + 1);
}

function pickLabel(iri: string, rows: QueryRows): string {
  for (const predicate of LABEL_PREDICATES) {
    let best: string | undefined;
    for (const row of rows) {
      const label = lexicalValueOf(row, "label");
      if (lexicalValueOf(row, "p") !== predicate || label === undefined) continue;
      if (best === undefined || label < best) best = label;
    }
    if (best !== undefined) return best;
  }
  return localName(iri);
}

export interface GraphGlobals {
  sparql(query: string): MaybePromise<QueryRows>;
  label(iri: string): MaybePromise<string>;
}

export function createGraphGlobals(query: (sparql: string) => MaybePromise<QueryRows>): GraphGlobals {
  return {
    sparql(text: string) {
      if (typeof text !== "string" || text.trim() === "") throw new GraphGlobalError("sparql() needs a query string");
      return query(text);
    },
    label(iri: string) {
      const rows = query(labelQuery(iri));
      return rows instanceof Promise ? rows.then((resolved) => pickLabel(iri, resolved)) : pickLabel(iri, rows);
    },
  };
}
