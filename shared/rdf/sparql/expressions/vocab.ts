import type * as RDF from "@rdfjs/types";
import { DataFactory } from "rdf-data-factory";
import { RDF_LANG_STRING, XSD, XSD_NS } from "../../../core/rdf-vocabulary";

export { RDF_LANG_STRING, XSD, XSD_NS } from "../../../core/rdf-vocabulary";

/** Integer types derived from xsd:integer, with their inclusive value bounds (undefined: unbounded). */
export const DERIVED_INTEGER_TYPES: ReadonlyMap<string, readonly [bigint | undefined, bigint | undefined]> = new Map([
  [`${XSD_NS}nonPositiveInteger`, [undefined, 0n]],
  [`${XSD_NS}negativeInteger`, [undefined, -1n]],
  [`${XSD_NS}long`, [-(2n ** 63n), 2n ** 63n - 1n]],
  [`${XSD_NS}int`, [-(2n ** 31n), 2n ** 31n - 1n]],
  [`${XSD_NS}short`, [-32768n, 32767n]],
  [`${XSD_NS}byte`, [-128n, 127n]],
  [`${XSD_NS}nonNegativeInteger`, [0n, undefined]],
  [`${XSD_NS}unsignedLong`, [0n, 2n ** 64n - 1n]],
  [`${XSD_NS}unsignedInt`, [0n, 2n ** 32n - 1n]],
  [`${XSD_NS}unsignedShort`, [0n, 65535n]],
  [`${XSD_NS}unsignedByte`, [0n, 255n]],
  [`${XSD_NS}positiveInteger`, [1n, undefined]],
]);

// rdf-data-factory rather than n3: n3's index pulls in readable-stream, which needs aliasing in workerd.
const factory = new DataFactory();
const datatypeCache = new Map<string, RDF.NamedNode>();

export function namedNode(iri: string): RDF.NamedNode {
  return factory.namedNode(iri);
}

export function typedLiteral(value: string, datatype: string): RDF.Literal {
  let node = datatypeCache.get(datatype);
  if (node === undefined) {
    node = factory.namedNode(datatype);
    datatypeCache.set(datatype, node);
  }
  return factory.literal(value, node);
}

export function stringLiteral(value: string, language?: string): RDF.Literal {
  return language ? factory.literal(value, language) : typedLiteral(value, XSD.string);
}

export const TRUE = typedLiteral("true", XSD.boolean);
export const FALSE = typedLiteral("false", XSD.boolean);

export function booleanLiteral(value: boolean): RDF.Literal {
  return value ? TRUE : FALSE;
}

/** Datatype IRI of a literal; RDF 1.1: no datatype means xsd:string, a language tag means rdf:langString. */
export function datatypeOf(literal: RDF.Literal): string {
  if (literal.language) return RDF_LANG_STRING;
  return literal.datatype?.value || XSD.string;
}

/** A simple literal or xsd:string (no language tag). */
export function isSimpleString(term: RDF.Term): term is RDF.Literal {
  return term.termType === "Literal" && !term.language && datatypeOf(term) === XSD.string;
}

/** A simple literal, xsd:string or language-tagged string. */
export function isStringLiteral(term: RDF.Term): term is RDF.Literal {
  return term.termType === "Literal" && (term.language !== "" || datatypeOf(term) === XSD.string);
}
