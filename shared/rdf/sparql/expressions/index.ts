/**
 * SPARQL 1.1 expressions: operators, the function library, XSD casts, ORDER BY order and aggregates over
 * sparqlalgebrajs v5 `Algebra.Expression` nodes and RDF/JS terms. Synchronous and runtime-neutral; the
 * caller supplies the clock, randomness, UUIDs, blank nodes and EXISTS through `ExpressionContext`.
 *
 * - `evaluate` throws `ExpressionError` for type errors and unbound variables; `evaluateFilter` (error →
 *   false) and `tryEvaluate` (error → unbound) apply FILTER's and BIND's error semantics.
 * - Numbers: xsd:integer/decimal are exact (decimal.js); division keeps 18 fractional digits (truncated);
 *   float/double are IEEE. Results are canonical: "2"^^integer, "2.0"^^decimal ("2" from CEIL/FLOOR/ROUND/
 *   SECONDS, as the W3C tests expect), "2.0E0"^^double; unary +/- keep the operand's lexical shape.
 * - Deliberate choices where SPARQL leaves room: language-tagged strings have an EBV and compare with `<`
 *   within one tag; COUNT/MIN/MAX/SAMPLE skip rows whose expression errs, SUM/AVG/GROUP_CONCAT become
 *   unbound; GROUP_CONCAT is a simple literal and takes STR() of non-strings.
 */
export { type Aggregator, createAggregator, termKey } from "./aggregates";
export { castTo, isCastTarget } from "./casts";
export { compareCodePoints, compareTerms, lessThan, sameTerm, termsEqual } from "./compare";
export type { Bindings, ExpressionContext } from "./context";
export { ExpressionError } from "./errors";
export { effectiveBooleanValue, evaluate, evaluateFilter, tryEvaluate } from "./evaluate";
export { numericValue } from "./numeric";
