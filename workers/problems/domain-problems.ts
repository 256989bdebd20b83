import {
  MemoryBudgetExceededError,
  NestingTooDeepError,
  WorkBudgetExceededError,
} from "../../shared/core/budget-errors";
import { PinnedQueryError } from "../../shared/generate/fetched-queries";
import { GraphRequiredError } from "../../shared/generate/graph-required-error";
import { ImpactBudgetExceededError } from "../../shared/generate/impact";
import { DiffTooLargeError } from "../../shared/generate/job-diff";
import { LockError } from "../../shared/generate/lock";
import { PathCollisionError } from "../../shared/generate/path-collisions";
import { PlanError } from "../../shared/generate/template-unit";
import { QuotaExceededError } from "../../shared/quota-errors";
import {
  QueryBudgetExceededError,
  ResultLimitExceededError,
  SparqlNotSupportedError,
  SparqlSyntaxError,
} from "../../shared/rdf/sparql/errors";
import { QuadStoreError } from "../../shared/rdf/store/quad-store";
import { RegexNotSupportedError } from "../../shared/regex/regex-errors";
import { TemplateBudgetError, TemplateError, TemplateSecurityError } from "../../shared/template/errors";
import { FrontmatterError, WriteModeError } from "../../shared/template/frontmatter/frontmatter-error";
import { TemplateSyntaxError } from "../../shared/template/kgen/analyze-template";
import { OutputPathError } from "../../shared/template/output-path";
import { UnsafeDestinationError } from "../outbound/destination-guard";
import { HttpError } from "./http-error";
import { rdfErrorToHttpError } from "./rdf-problems";

const unprocessable = (type: string, title: string, detail: string, extensions: Record<string, unknown> = {}) =>
  new HttpError(422, type, title, detail, { extensions });

/**
 * Maps the typed errors of the runtime-neutral libraries to HTTP problems, in one place, so
 * route handlers can let them propagate. Unknown errors stay unknown (opaque 500).
 */
export function problemFromDomainError(error: unknown): HttpError | undefined {
  if (error instanceof QuotaExceededError) {
    return new HttpError(403, "quota-exceeded", "Quota exceeded", error.message, {
      extensions: { counter: error.counter, limit: error.limit, used: error.used },
    });
  }
  if (error instanceof PinnedQueryError) {
    // A query that failed in the tenant's object, where it was mapped already: the same problem.
    const { status, type, title, detail, extensions } = error.failure;
    return new HttpError(status, type, title, detail, { extensions: { ...extensions } });
  }
  if (error instanceof DiffTooLargeError) {
    return unprocessable(
      "diff-too-large",
      "Diff too large",
      `${error.message} Read the comparison page by page as JSON instead.`,
      { subject: error.subject, limit: error.limit, path: error.path },
    );
  }
  if (error instanceof ImpactBudgetExceededError) {
    return unprocessable(
      "impact-too-large",
      "Impact analysis too large",
      `${error.message}; regenerate the job at that version instead.`,
      { budget: error.budget, limit: error.limit },
    );
  }
  if (error instanceof UnsafeDestinationError) {
    return unprocessable("unsafe-destination", "Destination not allowed", error.message, { reason: error.reason });
  }
  if (error instanceof NestingTooDeepError) {
    return unprocessable("nesting-too-deep", "Input nests too deeply", error.message, {
      subject: error.subject,
      limit: error.limit,
      ...(error.position.line !== undefined ? { line: error.position.line } : {}),
      ...(error.position.column !== undefined ? { column: error.position.column } : {}),
    });
  }
  if (error instanceof WorkBudgetExceededError) {
    return unprocessable("work-budget-exceeded", "Work budget exceeded", error.message, {
      subject: error.subject,
      limit: error.limit,
      unit: error.unit,
    });
  }
  if (error instanceof MemoryBudgetExceededError) {
    return unprocessable("memory-budget-exceeded", "Memory budget exceeded", error.message, {
      subject: error.subject,
      limit: error.limit,
      unit: error.unit,
    });
  }
  if (error instanceof RegexNotSupportedError) {
    return unprocessable(
      "regex-not-supported",
      "Regular expression not supported",
      `${error.message}: regular expressions run on a linear-time engine (RE2 syntax), without back-references or lookaround`,
      { feature: error.feature },
    );
  }
  const rdfProblem = rdfErrorToHttpError(error);
  if (rdfProblem) return rdfProblem;
  if (error instanceof SparqlSyntaxError) {
    return new HttpError(400, "sparql-syntax-error", "Invalid SPARQL", error.message, {
      extensions: { line: error.line, column: error.column },
    });
  }
  if (error instanceof SparqlNotSupportedError) {
    return unprocessable("sparql-not-supported", "Not supported", error.message, { feature: error.feature });
  }
  if (error instanceof QueryBudgetExceededError) {
    return unprocessable("query-time-limit", "Query time limit reached", `The query was stopped: ${error.message}.`, {
      reason: error.reason,
    });
  }
  if (error instanceof ResultLimitExceededError) {
    return unprocessable("query-result-limit", "Query result too large", error.message, { limit: error.limit });
  }
  if (error instanceof QuadStoreError && (error.code === "graph-not-found" || error.code === "version-not-found")) {
    return new HttpError(404, "not-found", "Not Found", error.message);
  }
  if (error instanceof PlanError && error.cause !== undefined) {
    const inner = problemFromDomainError(error.cause);
    if (inner) {
      inner.extensions.template = error.template;
      inner.extensions.rowIndex = error.rowIndex;
      return inner;
    }
  }
  if (error instanceof TemplateSyntaxError) {
    return unprocessable("template-syntax-error", "Template does not parse", error.message, {
      line: error.line ?? null,
      column: error.column ?? null,
    });
  }
  if (error instanceof TemplateError) {
    return unprocessable("template-error", "Template error", error.detail, {
      line: error.line ?? null,
      column: error.column ?? null,
      templatePath: error.templatePath ?? null,
    });
  }
  if (error instanceof TemplateBudgetError) {
    return unprocessable("template-budget-exceeded", "Template budget exceeded", error.message, {
      budget: error.budget,
      limit: error.limit,
    });
  }
  if (error instanceof TemplateSecurityError) {
    return unprocessable("template-sandbox-violation", "Denied by the template sandbox", error.message, {
      key: error.key,
    });
  }
  if (error instanceof FrontmatterError) {
    return unprocessable("invalid-frontmatter", "Invalid frontmatter", error.message, {
      field: error.field,
      line: error.line ?? null,
      column: error.column ?? null,
      errors: error.issues.map((issue) => ({ field: issue.field ?? "frontmatter", message: issue.message })),
    });
  }
  if (error instanceof WriteModeError) {
    return unprocessable("write-mode-error", "Write mode cannot be applied", error.message, { field: error.field });
  }
  if (error instanceof OutputPathError) {
    return unprocessable("invalid-output-path", "Invalid output path", error.message, {
      field: "to",
      reason: error.reason,
      path: error.path,
    });
  }
  if (error instanceof PathCollisionError) {
    return unprocessable("path-collision", "Output paths collide", error.message, {
      paths: [error.first.path, error.second.path],
      artifacts: [error.first, error.second],
    });
  }
  if (error instanceof GraphRequiredError) {
    return unprocessable("graph-required", "A graph is required", error.message, { field: "graph" });
  }
  if (error instanceof LockError) {
    return unprocessable("invalid-lock", "Lock does not match", error.message, { issues: error.issues });
  }
  if (error instanceof PlanError) {
    return unprocessable("generation-plan-error", "Generation cannot be planned", error.message, {
      code: error.code,
      template: error.template,
      rowIndex: error.rowIndex,
    });
  }
  return undefined;
}
