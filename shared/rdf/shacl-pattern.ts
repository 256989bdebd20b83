import type { Term } from "@rdfjs/types";
import { DataFactory } from "n3";
import { SH_NS } from "../core/rdf-vocabulary";
import { regexMatches } from "./sparql/expressions/xpath-regex";

// sh:pattern on the linear-time engine: SHACL defines it as XPath fn:matches with sh:flags, which is
// what SPARQL REGEX runs. Replaces shacl-engine's own compiler, which builds a backtracking RegExp.

export const SH_PATTERN = DataFactory.namedNode(`${SH_NS}pattern`);
const SH_FLAGS = DataFactory.namedNode(`${SH_NS}flags`);
const PATTERN_CONSTRAINT_COMPONENT = DataFactory.namedNode(`${SH_NS}PatternConstraintComponent`);

/** The slice of shacl-engine's shape and validation context a constraint compiler uses. */
interface PatternShape {
  ptr: { out(predicates: Term[]): { value: string | undefined } };
}
interface PatternContext {
  valueOrNode: { term: Term };
  factory: { literal(value: string): Term };
  test(success: boolean, component: Term, options: Record<string, unknown>): void;
}

export function compileLinearPattern(shape: PatternShape): { generic: (context: PatternContext) => void } {
  const pattern = shape.ptr.out([SH_PATTERN]).value as string;
  const flags = shape.ptr.out([SH_FLAGS]).value;
  // Compiles now, so a pattern the engine refuses fails before any data is read.
  regexMatches("", pattern, flags ?? "");
  return {
    generic: (context) => {
      context.test(regexMatches(context.valueOrNode.term.value, pattern, flags ?? ""), PATTERN_CONSTRAINT_COMPONENT, {
        args: { flags, pattern },
        message: [context.factory.literal('Value does not match pattern "{$pattern}"')],
        value: context.valueOrNode,
      });
    },
  };
}
