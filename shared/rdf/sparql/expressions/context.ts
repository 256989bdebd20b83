import type * as RDF from "@rdfjs/types";
import type { Algebra } from "sparqlalgebrajs";

export type Bindings = ReadonlyMap<string, RDF.Term>;

/** What expression evaluation needs from the query evaluator; no clock or randomness inside this library. */
export interface ExpressionContext {
  /** Evaluates EXISTS { … } for the current solution. */
  exists(operation: Algebra.Operation, bindings: Bindings): boolean;
  /** Query time: NOW() returns this for the whole query. */
  now: Date;
  /** Base IRI for IRI()/URI() of relative references. */
  baseIRI?: string;
  /** BNODE() and BNODE(label); the caller scopes labels per solution. */
  bnode(label?: string): RDF.BlankNode;
  /** RAND(): a number in [0, 1). */
  random(): number;
  /** UUID()/STRUUID(): a fresh lowercase RFC 4122 UUID without the urn:uuid: prefix. */
  uuid(): string;
  /** Extension functions by IRI; an unknown function IRI is an evaluation error. */
  functions?: ReadonlyMap<string, (args: RDF.Term[]) => RDF.Term>;
  /** Counts work measured inside a function (a regular expression's reads) against the query's steps. */
  chargeWork?(steps: number): void;
  /** Counts `length` characters of a string being built against the query's memory budget; throws past it. */
  chargeString?(length: number): void;
}
