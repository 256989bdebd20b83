import type * as RDF from "@rdfjs/types";
import type { Algebra } from "sparqlalgebrajs";
import { XSD } from "../../../core/rdf-vocabulary";
import type { NumericBounds } from "../../store/queryable-graph";

const NUMERIC_DATATYPES = new Set<string>([XSD.integer, XSD.decimal, XSD.double, XSD.float]);

/**
 * Numeric range constraints implied by a FILTER: conjuncts `?v op number` (op one of < <= > >= =).
 * Such a FILTER is false for anything but numeric literals in range, so the store may pre-select by value.
 */
export function numericBoundsOf(expression: Algebra.Expression): Map<string, NumericBounds> {
  const bounds = new Map<string, NumericBounds>();
  const visit = (node: Algebra.Expression): void => {
    if (node.expressionType !== "operator") return;
    if (node.operator === "&&") {
      for (const arg of node.args) visit(arg);
      return;
    }
    if (!["<", "<=", ">", ">=", "="].includes(node.operator) || node.args.length !== 2) return;
    const [left, right] = node.args as [Algebra.Expression, Algebra.Expression];
    let variable: string;
    let constant: RDF.Term;
    let operator = node.operator;
    if (left.expressionType === "term" && right.expressionType === "term" && left.term.termType === "Variable") {
      variable = left.term.value;
      constant = right.term;
    } else if (
      left.expressionType === "term" &&
      right.expressionType === "term" &&
      right.term.termType === "Variable"
    ) {
      variable = right.term.value;
      constant = left.term;
      operator = ({ "<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=" } as Record<string, string>)[
        operator
      ] as string;
    } else return;
    if (constant.termType !== "Literal" || !NUMERIC_DATATYPES.has(constant.datatype.value)) return;
    const value = Number(constant.value);
    if (!Number.isFinite(value)) return;
    const current = bounds.get(variable) ?? {};
    if (operator === ">" || operator === ">=" || operator === "=")
      current.min = Math.max(current.min ?? -Infinity, value);
    if (operator === "<" || operator === "<=" || operator === "=")
      current.max = Math.min(current.max ?? Infinity, value);
    bounds.set(variable, current);
  };
  visit(expression);
  return bounds;
}
