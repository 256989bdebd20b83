import type * as RDF from "@rdfjs/types";
import type { Algebra } from "sparqlalgebrajs";
import { compareTerms } from "./compare";
import type { Bindings, ExpressionContext } from "./context";
import { ExpressionError } from "./errors";
import { evaluate } from "./evaluate";
import {
  arithmetic,
  Exact,
  integerLiteral,
  type NumericValue,
  numericToLiteral,
  numericValue,
  requireNumeric,
  smallIntegerValue,
} from "./numeric";
import { datatypeOf, stringLiteral, XSD } from "./vocab";

export interface Aggregator {
  /** Adds one solution of the group. */
  put(bindings: Bindings): void;
  /** The aggregate's value; undefined when it is an error (the variable stays unbound). */
  result(): RDF.Term | undefined;
}

/** A key identifying an RDF term, for DISTINCT (same key ⇔ same term). */
export function termKey(term: RDF.Term): string {
  switch (term.termType) {
    case "NamedNode":
      return `<${term.value}`;
    case "BlankNode":
      return `_${term.value}`;
    case "Literal":
      return term.language
        ? `@${term.language.toLowerCase()}\u0000${term.value}`
        : `^${datatypeOf(term)}\u0000${term.value}`;
    default:
      return `?${term.value}`;
  }
}

function solutionKey(bindings: Bindings): string {
  return [...bindings.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, term]) => `${name}\u0001${termKey(term)}`)
    .join("\u0002");
}

interface Accumulator {
  add(term: RDF.Term): void;
  result(): RDF.Term | undefined;
}

function sumAccumulator(average: boolean): Accumulator {
  let sum: NumericValue | undefined = { kind: "integer", exact: new Exact(0) };
  // Small integers are summed as JS numbers while the total stays exact, then folded into `sum`.
  let smallSum = 0;
  let count = 0;
  const total = (): NumericValue | undefined =>
    sum && (smallSum === 0 ? sum : arithmetic("+", sum, { kind: "integer", exact: new Exact(smallSum) }));
  return {
    add(term) {
      if (!sum) return;
      count++;
      const small = smallIntegerValue(term);
      if (small !== undefined && Number.isSafeInteger(smallSum + small)) {
        smallSum += small;
        return;
      }
      try {
        sum = arithmetic("+", sum, requireNumeric(term));
      } catch (error) {
        if (!(error instanceof ExpressionError)) throw error;
        sum = undefined;
      }
    },
    result() {
      const value = total();
      if (!value) return undefined;
      if (!average) return numericToLiteral(value);
      if (count === 0) return integerLiteral(0);
      return numericToLiteral(arithmetic("/", value, { kind: "integer", exact: new Exact(count) }));
    },
  };
}

const PRIMITIVE_NUMERIC = new Set<string>([XSD.integer, XSD.decimal, XSD.float, XSD.double]);

/** MIN/MAX by ORDER BY order; a number comes back in canonical form ("2E-1" → "2.0E-1", W3C agg-min-02). */
function extremeAccumulator(sign: 1 | -1): Accumulator {
  let best: RDF.Term | undefined;
  return {
    add(term) {
      if (best === undefined || sign * compareTerms(term, best) > 0) best = term;
    },
    result() {
      if (best?.termType !== "Literal" || !PRIMITIVE_NUMERIC.has(best.datatype.value)) return best;
      const value = numericValue(best);
      return value ? numericToLiteral(value) : best;
    },
  };
}

/** GROUP_CONCAT is always a simple literal, even when every value shares a language tag (W3C agg-groupconcat-04). */
function groupConcatAccumulator(separator: string, ctx: ExpressionContext): Accumulator {
  const parts: string[] = [];
  let failed = false;
  return {
    add(term) {
      // Non-string literals and IRIs contribute their string form, as STR() would; blank nodes have none.
      if (term.termType === "BlankNode") failed = true;
      else {
        ctx.chargeString?.(term.value.length + separator.length);
        parts.push(term.value);
      }
    },
    result() {
      return failed ? undefined : stringLiteral(parts.join(separator));
    },
  };
}

function countAccumulator(): Accumulator {
  let count = 0;
  return {
    add() {
      count++;
    },
    result: () => integerLiteral(count),
  };
}

function sampleAccumulator(): Accumulator {
  let sample: RDF.Term | undefined;
  return {
    add(term) {
      sample ??= term;
    },
    result: () => sample,
  };
}

/**
 * An accumulator for one aggregate of one group. Rows where the expression errs (e.g. unbound) are
 * skipped by COUNT, MIN, MAX and SAMPLE, and make SUM, AVG and GROUP_CONCAT an error (unbound).
 */
export function createAggregator(expression: Algebra.AggregateExpression, ctx: ExpressionContext): Aggregator {
  const aggregator = expression.aggregator.toLowerCase();
  const wildcard = (expression.expression.expressionType as string) === "wildcard";
  const seen = expression.distinct ? new Set<string>() : undefined;
  let accumulator: Accumulator;
  let errorPoisons = false;
  switch (aggregator) {
    case "count":
      accumulator = countAccumulator();
      break;
    case "sum":
      accumulator = sumAccumulator(false);
      errorPoisons = true;
      break;
    case "avg":
      accumulator = sumAccumulator(true);
      errorPoisons = true;
      break;
    case "min":
      accumulator = extremeAccumulator(-1);
      break;
    case "max":
      accumulator = extremeAccumulator(1);
      break;
    case "sample":
      accumulator = sampleAccumulator();
      break;
    case "group_concat": {
      const separator = (expression as Algebra.GroupConcatExpression).separator;
      accumulator = groupConcatAccumulator(separator ?? " ", ctx);
      errorPoisons = true;
      break;
    }
    default:
      throw new ExpressionError(`unknown aggregate ${expression.aggregator}`);
  }
  if (wildcard && aggregator !== "count") throw new ExpressionError(`${aggregator}(*) is not an aggregate`);
  let poisoned = false;
  return {
    put(bindings) {
      if (poisoned) return;
      if (wildcard) {
        if (seen) {
          const key = solutionKey(bindings);
          if (seen.has(key)) return;
          seen.add(key);
        }
        accumulator.add(stringLiteral(""));
        return;
      }
      let term: RDF.Term;
      try {
        term = evaluate(expression.expression, bindings, ctx);
      } catch (error) {
        if (!(error instanceof ExpressionError)) throw error;
        if (errorPoisons) poisoned = true;
        return;
      }
      if (seen) {
        const key = termKey(term);
        if (seen.has(key)) return;
        seen.add(key);
      }
      accumulator.add(term);
    },
    result() {
      return poisoned ? undefined : accumulator.result();
    },
  };
}
