import type { NunjucksParserNode } from "nunjucks/src/parser";
import { checkFrontmatterQuery } from "../shared/generate/frontmatter-query";
import { type Frontmatter, FrontmatterError, parseFrontmatter } from "../shared/template/frontmatter";
import {
  inspectTemplate,
  KGEN_GLOBALS,
  lintDeterminism,
  NUNJUCKS_GLOBALS,
  parseTemplate,
  type TemplateInspection,
  TemplateSyntaxError,
} from "../shared/template/kgen";

export type Severity = "error" | "warning";
export type LintRule =
  | "encoding"
  | "syntax"
  | "frontmatter"
  | "frontmatter-sparql"
  | "undefined-variable"
  | "non-deterministic";

export interface LintProblem {
  file: string;
  line: number;
  column: number;
  severity: Severity;
  rule: LintRule;
  message: string;
}

/** The graph-reading globals every generation render gets (shared/generate/graph-globals.ts). */
export const GRAPH_GLOBALS: readonly string[] = ["label", "sparql"];
/** What a template can read as a global while generating: nunjucks', KGEN's and the graph's. */
export const RENDER_GLOBALS: readonly string[] = [...NUNJUCKS_GLOBALS, ...KGEN_GLOBALS, ...GRAPH_GLOBALS];

/** Parses the template as a generation would and reports everything it can tell without the graph. */
export function inspectForGeneration(source: string): TemplateInspection {
  return inspectTemplate(source, { globals: RENDER_GLOBALS });
}

/**
 * The problems of one template source. `params` are the project's param names: with `params`,
 * `kgen`, `rows` (when the frontmatter has a query) and the `foreach` binding, they are every
 * name a unit's context holds, so any other free variable is undefined when it renders. Partials
 * (no `to:`) render inside the context of whatever includes them, so they are not checked for it.
 */
export function lintTemplate(file: string, source: string | undefined, params: readonly string[]): LintProblem[] {
  const problem = (line: number, column: number, severity: Severity, rule: LintRule, message: string) => ({
    file,
    line,
    column,
    severity,
    rule,
    message,
  });
  if (source === undefined) return [problem(1, 1, "error", "encoding", "the template is not valid UTF-8")];
  let frontmatter: Frontmatter;
  let bodyLine: number;
  let body: string;
  try {
    ({ frontmatter, bodyLine, body } = parseFrontmatter(source));
  } catch (error) {
    if (!(error instanceof FrontmatterError)) throw error;
    return error.issues.map((issue) =>
      problem(issue.line ?? 1, issue.column ?? 1, "error", "frontmatter", issue.message),
    );
  }
  const problems: LintProblem[] = [];
  try {
    checkFrontmatterQuery(source, frontmatter);
  } catch (error) {
    if (!(error instanceof FrontmatterError)) throw error;
    for (const issue of error.issues) {
      problems.push(problem(issue.line ?? 1, issue.column ?? 1, "error", "frontmatter-sparql", issue.message));
    }
  }
  let inspection: TemplateInspection;
  try {
    inspection = inspectForGeneration(source);
  } catch (error) {
    if (error instanceof TemplateSyntaxError) {
      const message = error.message.replace(/ \(line \d+(?:, column \d+)?\)$/, "");
      problems.push(problem(error.line ?? 1, error.column ?? 1, "error", "syntax", message));
      return problems;
    }
    if (error instanceof FrontmatterError) {
      for (const issue of error.issues) {
        problems.push(problem(issue.line ?? 1, issue.column ?? 1, "error", "frontmatter", issue.message));
      }
      return problems;
    }
    throw error;
  }
  const where = positionsOf(source, body, bodyLine);
  if (frontmatter.to !== undefined) {
    const known = new Set([...params, "params", "kgen"]);
    if (frontmatter.query !== undefined) known.add("rows");
    if (frontmatter.foreach !== undefined) known.add(frontmatter.foreach.split(".")[0] as string);
    for (const name of inspection.variables) {
      if (known.has(name) || HOST_OBJECTS.has(name)) continue;
      const at = where(name);
      problems.push(
        problem(
          at.line,
          at.column,
          "error",
          "undefined-variable",
          `${name} is not a param, kgen, rows nor the foreach binding: it renders as undefined`,
        ),
      );
    }
  }
  const findings = lintDeterminism(inspection);
  for (const finding of findings) {
    const at = where(finding.name);
    problems.push(problem(at.line, at.column, "warning", "non-deterministic", finding.message));
  }
  if (inspection.filters.includes("random")) {
    const at = where("random");
    problems.push(
      problem(at.line, at.column, "warning", "non-deterministic", "the random filter depends on the render seed"),
    );
  }
  return problems.sort((a, b) => a.line - b.line || a.column - b.column);
}

// Reported by lintDeterminism as host objects; once is enough.
const HOST_OBJECTS = new Set(["Date", "Math", "crypto", "globalThis", "process", "require", "window"]);

/**
 * Where a name is first written: in the body (nunjucks' 0-based positions, shifted by the
 * frontmatter), else in the frontmatter lines (`to`, `skipIf`, `foreach`), else the first line.
 */
function positionsOf(source: string, body: string, bodyLine: number) {
  const first = new Map<string, { line: number; column: number }>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
      return;
    }
    if (node === null || typeof node !== "object" || typeof (node as NunjucksParserNode).typename !== "string") return;
    const parsed = node as NunjucksParserNode & { lineno?: number; colno?: number };
    if (parsed.typename === "Symbol" && typeof parsed.lineno === "number" && typeof parsed.colno === "number") {
      const at = { line: parsed.lineno + bodyLine, column: parsed.colno + 1 };
      const seen = first.get(String(parsed.value));
      if (!seen || at.line < seen.line || (at.line === seen.line && at.column < seen.column)) {
        first.set(String(parsed.value), at);
      }
    }
    for (const field of parsed.fields ?? []) visit(parsed[field]);
    visit(parsed.children);
  };
  visit(parseTemplate(body));
  const lines = source.replace(/^\uFEFF/, "").split(/\r?\n/);
  return (name: string): { line: number; column: number } => {
    const found = first.get(name);
    if (found) return found;
    const word = new RegExp(`(?<![\\w$])${name.replace(/[$]/g, "\\$")}(?![\\w$])`);
    for (let index = 1; index < bodyLine - 1 && index < lines.length; index++) {
      const match = word.exec(lines[index] as string);
      if (match) return { line: index + 1, column: match.index + 1 };
    }
    return { line: 1, column: 1 };
  };
}
