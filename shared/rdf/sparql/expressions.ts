export { type Aggregator, createAggregator, termKey } from "./expressions/aggregates";
export { castTo, isCastTarget } from "./expressions/casts";
export { compareCodePoints, compareTerms, lessThan, sameTerm, termsEqual } from "./expressions/compare";
export type { Bindings, ExpressionContext } from "./expressions/context";
export { ExpressionError } from "./expressions/errors";
export { effectiveBooleanValue, evaluate, evaluateFilter, tryEvaluate } from "./expressions/evaluate";
export { numericValue } from "./expressions/numeric";
