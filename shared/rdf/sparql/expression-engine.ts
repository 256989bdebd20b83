import type * as RDF from "@rdfjs/types";
import type { Algebra } from "sparqlalgebrajs";

/** A solution mapping: variable name (without `?`) → term. */
export type Bindings = Map<string, RDF.Term>;

/** What the expression library needs from the query engine (mirrors expressions.ts's ExpressionContext). */
export interface ExpressionContext {
  /** EXISTS/NOT EXISTS: does `operation`, with `bindings` substituted, have a solution? */
  exists(operation: Algebra.Operation, bindings: ReadonlyMap<string, RDF.Term>): boolean;
  /** NOW(), fixed per query and supplied by the caller. */
  now: Date;
  baseIRI?: string;
  /** BNODE() / BNODE(label); labels are scoped per solution. */
  bnode(label?: string): RDF.BlankNode;
  random(): number;
  uuid(): string;
  functions?: ReadonlyMap<string, (args: RDF.Term[]) => RDF.Term>;
  /** Counts work measured inside a function (a regular expression's reads) against the query's steps. */
  chargeWork?(steps: number): void;
  /** Counts `length` characters of a string being built against the query's memory budget; throws past it. */
  chargeString?(length: number): void;
}

export interface Aggregator {
  put(bindings: ReadonlyMap<string, RDF.Term>): void;
  /** The aggregate's value, or undefined when it is an error (leaves the variable unbound). */
  result(): RDF.Term | undefined;
}

/**
 * The SPARQL function/operator library the evaluator calls (shared/rdf/sparql/expressions.ts).
 * `evaluate` throws on an expression error; callers apply SPARQL's error semantics.
 */
export interface ExpressionEngine {
  evaluate(
    expression: Algebra.Expression,
    bindings: ReadonlyMap<string, RDF.Term>,
    context: ExpressionContext,
  ): RDF.Term;
  effectiveBooleanValue(term: RDF.Term): boolean;
  /** ORDER BY order; undefined (unbound) sorts first. */
  compareTerms(a: RDF.Term | undefined, b: RDF.Term | undefined): number;
  createAggregator(expression: Algebra.AggregateExpression, context: ExpressionContext): Aggregator;
  /** True for the library's evaluation errors (turned into "unbound"/"false"); other errors propagate. */
  isExpressionError(error: unknown): boolean;
}
