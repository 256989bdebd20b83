import type * as RDF from "@rdfjs/types";
import { DataFactory } from "rdf-data-factory";
import { XSD_STRING } from "../../core/rdf-vocabulary";

export const dataFactory = new DataFactory();

/** An RDF term that can be stored in the dictionary. */
export type StoredTerm = RDF.NamedNode | RDF.BlankNode | RDF.Literal;

export class TermKeyError extends Error {
  override name = "TermKeyError";
}

/**
 * The dictionary key of a term: one string per distinct RDF term (`<iri>`, `_:label`,
 * `"lexical"`, `"lexical"@lang`, `"lexical"^^datatype`). Lexical forms are kept raw: the last `"` ends them.
 */
export function termKey(term: RDF.Term): string {
  switch (term.termType) {
    case "NamedNode":
      return `<${term.value}>`;
    case "BlankNode":
      return `_:${term.value}`;
    case "Literal": {
      if (term.language) return `"${term.value}"@${term.language}`;
      const datatype = term.datatype.value;
      return datatype === XSD_STRING ? `"${term.value}"` : `"${term.value}"^^${datatype}`;
    }
    default:
      throw new TermKeyError(`cannot store a ${term.termType} term`);
  }
}

export function termFromKey(key: string): StoredTerm {
  const first = key.charCodeAt(0);
  if (first === 60 /* < */) return dataFactory.namedNode(key.slice(1, -1));
  if (first === 95 /* _ */) return dataFactory.blankNode(key.slice(2));
  const end = key.lastIndexOf('"');
  const lexical = key.slice(1, end);
  if (end === key.length - 1) return dataFactory.literal(lexical);
  if (key.charCodeAt(end + 1) === 64 /* @ */) return dataFactory.literal(lexical, key.slice(end + 2));
  return dataFactory.literal(lexical, dataFactory.namedNode(key.slice(end + 3)));
}
