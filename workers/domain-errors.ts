import { HttpError } from "../shared/errors/http-error";
import { FrontmatterError } from "../shared/template/frontmatter/frontmatter-error";
import { TemplateSyntaxError } from "../shared/template/kgen/analyze-template";

/**
 * Maps the typed errors of the runtime-neutral libraries to HTTP problems, in one place, so
 * route handlers can let them propagate. Unknown errors stay unknown (opaque 500).
 */
export function problemFromDomainError(error: unknown): HttpError | undefined {
  if (error instanceof TemplateSyntaxError) {
    return new HttpError(422, "template-syntax-error", "Template does not parse", error.message, {
      extensions: { line: error.line ?? null, column: error.column ?? null },
    });
  }
  if (error instanceof FrontmatterError) {
    return new HttpError(422, "invalid-frontmatter", "Invalid frontmatter", error.message, {
      extensions: {
        field: error.field,
        line: error.line ?? null,
        column: error.column ?? null,
        errors: error.issues.map((issue) => ({ field: issue.field ?? "frontmatter", message: issue.message })),
      },
    });
  }
  return undefined;
}
