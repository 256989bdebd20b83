// The three ways a request's work can be refused for its size rather than its meaning. Every parser,
// canonicalizer, query engine, validator and renderer throws one of these when a bound is passed;
// `workers/` maps each to one stable problem type (nesting-too-deep, work-budget-exceeded,
// memory-budget-exceeded), always a 4xx.

/** Input nests deeper than the documented depth (RDF collections, JSON, YAML, template contexts, …). */
export class NestingTooDeepError extends Error {
  override name = "NestingTooDeepError";
  constructor(
    /** What nests: "turtle", "json", "yaml", "render context", … */
    readonly subject: string,
    readonly limit: number,
    readonly position: { line?: number; column?: number } = {},
  ) {
    super(`${subject} nests deeper than ${limit} levels`);
  }
}

/** The work done for one request passed its bound (steps, bytes hashed, rows visited). */
export class WorkBudgetExceededError extends Error {
  override name = "WorkBudgetExceededError";
  constructor(
    /** Which work: "canonicalization", "sparql aggregate", "regular expression", … */
    readonly subject: string,
    readonly limit: number,
    readonly unit: string,
  ) {
    super(`${subject} needs more than ${limit} ${unit}`);
  }
}

/** Values built for one request (strings, arrays, group concatenations) passed their size bound. */
export class MemoryBudgetExceededError extends Error {
  override name = "MemoryBudgetExceededError";
  constructor(
    /** What was being built: "template string", "GROUP_CONCAT", … */
    readonly subject: string,
    readonly limit: number,
    readonly unit: string,
  ) {
    super(`${subject} would exceed ${limit} ${unit}`);
  }
}
