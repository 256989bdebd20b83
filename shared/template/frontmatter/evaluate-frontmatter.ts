import { normalizeOutputPath } from "../output-path";
import type { Frontmatter } from "./parse-frontmatter";
import { evaluateSkipIf } from "./skip-if";

export interface EvaluatedFrontmatter {
  /** The frontmatter with `to` replaced by the rendered, normalised output path. */
  frontmatter: Frontmatter;
  /** The rendered, normalised `to`, or undefined when the frontmatter has none. */
  outputPath?: string;
  /** Whether `skipIf` says to skip this render. */
  skip: boolean;
}

/**
 * Evaluates a frontmatter for one render context: `skipIf`, then `to` rendered with the given
 * template renderer (the same engine and KGEN environment as the body) and normalised by
 * normalizeOutputPath (which refuses `..`, absolute paths, backslashes and empty segments).
 * A skipped render does not render `to`.
 */
export function evaluateFrontmatter(
  frontmatter: Frontmatter,
  context: Record<string, unknown>,
  renderString: (template: string, context: Record<string, unknown>) => string,
): EvaluatedFrontmatter {
  const skip = evaluateSkipIf(frontmatter.skipIf, context);
  if (skip || frontmatter.to === undefined) return { frontmatter, skip };
  const outputPath = normalizeOutputPath(renderString(frontmatter.to, context));
  return { frontmatter: { ...frontmatter, to: outputPath }, outputPath, skip };
}
