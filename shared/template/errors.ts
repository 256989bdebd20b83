// Typed errors of the template engine. The HTTP layer maps TemplateError to 422 with line/column,
// TemplateBudgetError to its own 422 problem type.

/** A JavaScript error raised inside the engine or a filter, as nunjucks reports it (`TypeError: …`). */
const JAVASCRIPT_ERROR = /^(TypeError|RangeError|ReferenceError|SyntaxError|URIError|EvalError): (.*)$/;

/**
 * What went wrong, in template terms, for a message nunjucks built from a JavaScript error: the
 * engine's own variable names and wording stay out of what users see. Other messages are returned as they are.
 */
export function describeTemplateFailure(message: string): string {
  const match = JAVASCRIPT_ERROR.exec(message);
  if (!match) return message;
  const [, kind, text] = match as unknown as [string, string, string];
  if (kind === "RangeError") {
    if (/call stack/i.test(text)) return "the template nests calls or values too deeply";
    if (/Invalid (string|array|typed array) length/.test(text)) return "a value the template built is too large";
    return "a number argument is out of range (a count, length or precision)";
  }
  if (kind === "TypeError") {
    if (/undefined|null/.test(text))
      return "a filter, method or lookup was given an undefined or null value where it needs a value";
    if (/is not iterable/.test(text)) return "a filter or loop was given a value it cannot iterate";
    return "a filter or method was given a value of a type it cannot handle";
  }
  if (kind === "SyntaxError") return "the template has a syntax error";
  if (kind === "URIError") return "a value is not a valid URI component";
  return "the template failed while rendering";
}

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

  /** The message in template terms (never the text of a JavaScript error raised inside the engine). */
  get detail(): string {
    return describeTemplateFailure(this.message);
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
