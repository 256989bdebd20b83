// Typed errors of the template engine. The HTTP layer maps TemplateError to 422 with line/column,
// TemplateBudgetError to its own 422 problem type.

export class TemplateError extends Error {
  override name = "TemplateError";
  constructor(
    message: string,
    /** 1-based line, when nunjucks reported one. */
    readonly line: number | undefined,
    /** 1-based column, when nunjucks reported one. */
    readonly column: number | undefined,
    readonly templatePath: string | undefined,
  ) {
    super(message);
  }
}

export type BudgetKind = "steps" | "loopIterations" | "outputBytes" | "callDepth" | "includeDepth";

export class TemplateBudgetError extends Error {
  override name = "TemplateBudgetError";
  constructor(
    readonly budget: BudgetKind,
    readonly limit: number,
  ) {
    super(`template budget exceeded: ${budget} (limit ${limit})`);
  }
}

/** A deliberate sandbox refusal: the template reached for a name that could escape the sandbox. */
export class TemplateSecurityError extends Error {
  override name = "TemplateSecurityError";
  constructor(readonly key: string) {
    super(`access to "${key}" is denied by the template sandbox`);
  }
}
