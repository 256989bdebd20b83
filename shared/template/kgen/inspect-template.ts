import { type Frontmatter, parseFrontmatter } from "../frontmatter/parse-frontmatter";
import { parseSkipIf } from "../frontmatter/skip-if";
import {
  type AnalyzeTemplateOptions,
  analyzeTemplate,
  type TemplateAnalysis,
  TemplateSyntaxError,
} from "./analyze-template";

export interface TemplateInspection extends TemplateAnalysis {
  frontmatter: Frontmatter;
  /** 1-based source line on which the body starts. */
  bodyLine: number;
  /** Variables of the body only (TemplateAnalysis.variables also counts `to`, `skipIf` and `foreach`). */
  bodyVariables: string[];
}

/**
 * Everything `templates show` reports about a template source with optional frontmatter: the
 * validated frontmatter and the analysis of its body. `variables` is the union of what the
 * body, the `to` path template, the `skipIf` condition and `foreach` read. Syntax errors in the
 * body carry source line numbers; errors in `to` are FrontmatterErrors naming `to`.
 */
export function inspectTemplate(source: string, options: AnalyzeTemplateOptions = {}): TemplateInspection {
  const { frontmatter, body, bodyLine } = parseFrontmatter(source);
  let analysis: TemplateAnalysis;
  try {
    analysis = analyzeTemplate(body, options);
  } catch (error) {
    if (!(error instanceof TemplateSyntaxError) || error.line === undefined) throw error;
    const bare = error.message.replace(/ \(line \d+(?:, column \d+)?\)$/, "");
    throw new TemplateSyntaxError(bare, error.line + bodyLine - 1, error.column);
  }
  const variables = new Set(analysis.variables);
  const globals = new Set(analysis.globals);
  const filters = new Set(analysis.filters);
  if (frontmatter.to !== undefined) {
    const pathAnalysis = analyzeTemplate(frontmatter.to, options);
    for (const name of pathAnalysis.variables) variables.add(name);
    for (const name of pathAnalysis.globals) globals.add(name);
    for (const name of pathAnalysis.filters) filters.add(name);
  }
  if (frontmatter.skipIf !== undefined) variables.add(parseSkipIf(frontmatter.skipIf).path[0] as string);
  if (frontmatter.foreach !== undefined) variables.add(frontmatter.foreach.split(".")[0] as string);
  return {
    ...analysis,
    variables: [...variables].sort(),
    globals: [...globals].sort(),
    filters: [...filters].sort(),
    frontmatter,
    bodyLine,
    bodyVariables: analysis.variables,
  };
}
