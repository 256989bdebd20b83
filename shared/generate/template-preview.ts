import type { Frontmatter } from "../template/frontmatter/parse-frontmatter";
import { GraphRequiredError } from "./graph-required-error";
import { checkOutputConflicts, sortArtifacts } from "./plan";
import type { PlannedArtifact, PlanTemplate, SkippedUnit, TemplateUnitPipeline } from "./template-unit";

/** A planned artifact as plain data (its bytes are the UTF-8 of `content`). */
export type ArtifactData = Omit<PlannedArtifact, "bytes">;

export interface TemplatePreview {
  frontmatter: Frontmatter;
  /** Every unit a job would write for the template, in unit (row) order. */
  units: ArtifactData[];
  skipped: SkippedUnit[];
  /**
   * The body as the engine rendered it, before normalization: the first unit's, or that of a
   * template without `to:` (a partial or macro library); null when no unit was rendered.
   */
  rawOutput: string | null;
}

export const withoutBytes = ({ bytes: _bytes, ...artifact }: PlannedArtifact): ArtifactData => artifact;

/**
 * One template through the same pipeline a job runs, answering what the job would write for it.
 * Without a graph (`readsGraph` false) a template that declares a query is refused rather than
 * rendered as if its query had no rows; its `sparql()`/`label()` calls fail the same way through
 * the pipeline's runQuery. Units that two rows would write to one path fail as they would in a job.
 */
export async function previewTemplate(
  pipeline: TemplateUnitPipeline,
  template: PlanTemplate,
  options: { readsGraph: boolean; maxUnits: number },
): Promise<TemplatePreview> {
  const prepared = await pipeline.prepare(template);
  const { frontmatter } = prepared;
  if (!options.readsGraph && frontmatter.query !== undefined) {
    throw new GraphRequiredError("The frontmatter query (sparql:/query:)");
  }
  if (frontmatter.to === undefined) {
    return { frontmatter, units: [], skipped: [], rawOutput: await pipeline.renderBodyWithoutTo(prepared) };
  }
  const { artifacts, skipped, rawBodies } = await pipeline.renderUnits(prepared, {
    maxArtifacts: options.maxUnits,
    keepRawBodies: true,
  });
  checkOutputConflicts(sortArtifacts([...artifacts]));
  return { frontmatter, units: artifacts.map(withoutBytes), skipped, rawOutput: rawBodies[0] ?? null };
}
