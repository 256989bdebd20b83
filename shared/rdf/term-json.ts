import type { Term } from "@rdfjs/types";
import { RDF_LANG_STRING, XSD_STRING } from "../core/rdf-vocabulary";

/** A term in the SPARQL 1.1 Query Results JSON shape. */
export type JsonTerm =
  | { type: "uri"; value: string }
  | { type: "bnode"; value: string }
  | { type: "literal"; value: string; datatype?: string; "xml:lang"?: string };

/** An RDF term as SPARQL-results JSON (plain string literals carry no datatype, as in that format). */
export function termToJson(term: Term): JsonTerm {
  switch (term.termType) {
    case "NamedNode":
      return { type: "uri", value: term.value };
    case "BlankNode":
      return { type: "bnode", value: term.value };
    case "Literal": {
      if (term.language) return { type: "literal", value: term.value, "xml:lang": term.language };
      const datatype = term.datatype?.value ?? XSD_STRING;
      return datatype === XSD_STRING || datatype === RDF_LANG_STRING
        ? { type: "literal", value: term.value }
        : { type: "literal", value: term.value, datatype };
    }
    default:
      throw new TypeError(`A ${term.termType} has no SPARQL-results JSON form`);
  }
}
