import type * as RDF from "@rdfjs/types";
import { DataFactory } from "n3";
import { type Algebra, translate } from "sparqlalgebrajs";
import { type ExpressionContext, ExpressionError, evaluate } from "../../../shared/rdf/sparql/expressions";

export const PREFIXES = "PREFIX xsd: <http://www.w3.org/2001/XMLSchema#> PREFIX ex: <http://example.org/>\n";

/** The expression of `SELECT (expr AS ?x) {}` as sparqlalgebrajs translates it. */
export function parseExpression(text: string): Algebra.Expression {
  let operation = translate(`${PREFIXES}SELECT (${text} AS ?x) {}`) as Algebra.Operation;
  while (operation.type !== "extend") operation = (operation as Algebra.Single).input;
  return (operation as Algebra.Extend).expression;
}

export function testContext(overrides: Partial<ExpressionContext> = {}): ExpressionContext {
  let counter = 0;
  return {
    exists: () => false,
    now: new Date("2026-11-26T12:00:00.000Z"),
    baseIRI: "http://example.org/base/",
    bnode: (label) => DataFactory.blankNode(label ?? `b${counter++}`),
    random: () => 0.25,
    uuid: () => "0f2c4c1e-1111-4222-8333-444455556666",
    ...overrides,
  };
}

/** N-Triples-like rendering of a term, or "error". */
export function show(term: RDF.Term | undefined): string {
  if (term === undefined) return "error";
  switch (term.termType) {
    case "NamedNode":
      return `<${term.value}>`;
    case "BlankNode":
      return `_:${term.value}`;
    case "Literal": {
      const value = JSON.stringify(term.value);
      if (term.language) return `${value}@${term.language}`;
      const datatype = term.datatype.value;
      if (datatype === "http://www.w3.org/2001/XMLSchema#string") return value;
      return `${value}^^${datatype.replace("http://www.w3.org/2001/XMLSchema#", "xsd:")}`;
    }
    default:
      return `?${term.value}`;
  }
}

export function evalText(text: string, bindings: Map<string, RDF.Term> = new Map(), ctx = testContext()): string {
  try {
    return show(evaluate(parseExpression(text), bindings, ctx));
  } catch (error) {
    if (error instanceof ExpressionError) return "error";
    throw error;
  }
}
