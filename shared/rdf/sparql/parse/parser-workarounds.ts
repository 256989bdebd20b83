import type * as RDF from "@rdfjs/types";
import { Algebra } from "sparqlalgebrajs";
import { SparqlSyntaxError } from "../errors";

/*
 * Where sparqljs and sparqlalgebrajs differ from SPARQL 1.1, and the text or syntax tree is patched
 * before (or the algebra after) translation. The nesting bound that runs before parsing is in
 * query-nesting.ts.
 */

const IRI_WITH_ESCAPES =
  /<(?:[^<>"{}|^`\\\s]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*\\[uU](?:[^<>"{}|^`\\\s]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>/g;

/** Codepoint escapes in IRIs (`<\u0078>`) are valid SPARQL that sparqljs rejects; decode them first. */
export function unescapeIris(text: string): string {
  return text.replace(IRI_WITH_ESCAPES, (iri) =>
    iri.replace(/\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})/g, (_, short: string | undefined, long: string | undefined) =>
      String.fromCodePoint(Number.parseInt(short ?? long ?? "0", 16)),
    ),
  );
}

export function isWildcard(variables: unknown): boolean {
  return (
    Array.isArray(variables) &&
    variables.length === 1 &&
    (variables[0] as { termType?: string }).termType === "Wildcard"
  );
}

/** `SELECT *` lists variables in order of first appearance (sparqlalgebrajs sorts them by name). */
export function orderWildcardProjection(op: Algebra.Operation, where: unknown[]): void {
  const order = new Map<string, number>();
  JSON.stringify(where, (_key, value: unknown) => {
    const term = value as { termType?: string; value?: string } | null;
    if (term && term.termType === "Variable" && typeof term.value === "string" && !order.has(term.value)) {
      order.set(term.value, order.size);
    }
    return value;
  });
  let node: Algebra.Operation = op;
  while (node.type !== Algebra.types.PROJECT) {
    if (!("input" in node) || !node.input || Array.isArray(node.input)) return;
    node = node.input as Algebra.Operation;
  }
  const rank = (variable: RDF.Variable) => order.get(variable.value) ?? Number.MAX_SAFE_INTEGER;
  node.variables = [...node.variables].sort((a: RDF.Variable, b: RDF.Variable) => rank(a) - rank(b));
}

/** sparqlalgebrajs drops `LIMIT 0` (a falsy length); put the empty slice back. */
export function limitZero(op: Algebra.Operation): Algebra.Operation {
  if (op.type === Algebra.types.FROM || op.type === Algebra.types.CONSTRUCT || op.type === Algebra.types.DESCRIBE) {
    return { ...op, input: limitZero(op.input) } as Algebra.Operation;
  }
  if (op.type === Algebra.types.ASK) return { ...op, input: limitZero(op.input) } as Algebra.Operation;
  return { type: Algebra.types.SLICE, input: op, start: 0, length: 0 } as Algebra.Slice;
}

interface PatternNode {
  type: string;
  triples?: { subject: RDF.Term; predicate: unknown; object: RDF.Term }[];
  patterns?: PatternNode[];
  where?: PatternNode[];
  expression?: unknown;
}

/** SPARQL forbids one blank node label in two basic graph patterns (sparqljs does not check this). */
export function checkBlankNodeScopes(where: readonly unknown[]): void {
  const owner = new Map<string, number>();
  let nextBgp = 0;
  const visitExpression = (expression: unknown): void => {
    if (!expression || typeof expression !== "object") return;
    const node = expression as { type?: string; args?: unknown[] };
    if (node.type === "operation" && Array.isArray(node.args)) {
      for (const arg of node.args) {
        if (arg && typeof arg === "object" && (arg as PatternNode).type === "group") visitGroup([arg as PatternNode]);
        else visitExpression(arg);
      }
    }
  };
  const visitGroup = (patterns: readonly PatternNode[]): void => {
    let current = nextBgp++;
    for (const pattern of patterns) {
      if (pattern.type === "bgp") {
        for (const triple of pattern.triples ?? []) {
          for (const term of [triple.subject, triple.object]) {
            if (term.termType !== "BlankNode" || !term.value.startsWith("e_")) continue;
            const previous = owner.get(term.value);
            if (previous !== undefined && previous !== current) {
              throw new SparqlSyntaxError(
                `blank node label _:${term.value.slice(2)} is used in two basic graph patterns`,
                null,
                null,
              );
            }
            owner.set(term.value, current);
          }
        }
        continue;
      }
      if (pattern.type === "filter") {
        visitExpression(pattern.expression);
        continue;
      }
      current = nextBgp++;
      if (pattern.type === "union") for (const branch of pattern.patterns ?? []) visitGroup([branch]);
      else if (pattern.patterns) visitGroup(pattern.patterns);
      if (pattern.where) visitGroup(pattern.where);
      if (pattern.type === "bind") visitExpression(pattern.expression);
      current = nextBgp++;
    }
  };
  visitGroup(where as PatternNode[]);
}

/**
 * `OPTIONAL { { P FILTER(F) } }` filters inside the inner group, but sparqlalgebrajs lifts F into the
 * left join's condition, where it sees the left side's variables. Joining the unit table to the inner
 * group keeps it a group of its own.
 */
export function keepNestedOptionalFilters(patterns: readonly unknown[]): void {
  for (const pattern of patterns as PatternNode[]) {
    if (!pattern || typeof pattern !== "object") continue;
    const inner = pattern.patterns;
    if (
      pattern.type === "optional" &&
      inner?.length === 1 &&
      inner[0]?.type === "group" &&
      inner[0].patterns?.some((child) => child.type === "filter")
    ) {
      (inner as unknown[]).push({ type: "values", values: [{}] });
    }
    if (inner) keepNestedOptionalFilters(inner);
    if (pattern.where) keepNestedOptionalFilters(pattern.where);
  }
}
