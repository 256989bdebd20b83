import { TemplateError } from "./errors";

/** What nunjucks says when `throwOnUndefined` stops an output of undefined or null. */
export const UNDEFINED_OUTPUT_MESSAGE = "attempted to output null or undefined value";

/** Longest expression quoted back in the message: the rest is elided. */
const MAX_QUOTED_EXPRESSION = 120;

function lineStart(source: string, line: number): number {
  let offset = 0;
  for (let current = 1; current < line; current++) {
    const next = source.indexOf("\n", offset);
    if (next < 0) return -1;
    offset = next + 1;
  }
  return offset;
}

/**
 * The expression of the `{{ … }}` whose output is undefined: nunjucks places the output at its
 * opening `{{` (1-based line and column of the rendered source). Undefined when the source has no
 * output there.
 */
export function undefinedOutputExpression(source: string, line: number, column: number): string | undefined {
  const start = lineStart(source, line);
  if (start < 0) return undefined;
  const open = start + column - 1;
  if (!source.startsWith("{{", open)) return undefined;
  const close = source.indexOf("}}", open + 2);
  if (close < 0) return undefined;
  const expression = source
    .slice(open + 2, close)
    .replace(/^-|-$/g, "")
    .trim()
    .replace(/\s+/g, " ");
  if (expression === "") return undefined;
  return expression.length > MAX_QUOTED_EXPRESSION ? `${expression.slice(0, MAX_QUOTED_EXPRESSION)}…` : expression;
}

/**
 * A throwOnUndefined failure worded for the template author: which template, where in its file
 * (`firstLine` is the file line of the rendered text's first line, after a frontmatter) and which
 * expression is undefined. Any other error is returned as it is.
 */
export function describeUndefinedOutput(
  error: unknown,
  source: string,
  template: { path: string; firstLine: number },
): unknown {
  if (!(error instanceof TemplateError) || error.line === undefined || error.column === undefined) return error;
  // A position inside an included template is not a position in `source`.
  if (error.templatePath !== undefined) return error;
  if (!error.message.endsWith(UNDEFINED_OUTPUT_MESSAGE)) return error;
  const expression = undefinedOutputExpression(source, error.line, error.column);
  if (expression === undefined) return error;
  const line = error.line + template.firstLine - 1;
  return new TemplateError(
    `\`${expression}\` is undefined in ${template.path} at line ${line}, column ${error.column} (throwOnUndefined is on)`,
    line,
    error.column,
    template.path,
  );
}
