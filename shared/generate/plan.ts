import { checkCaseCollisions } from "./path-collisions";
import {
  compare,
  type PlanDependencies,
  PlanError,
  type PlannedArtifact,
  type PlanOptions,
  type PlanTemplate,
  type PreparedTemplate,
  type SkippedUnit,
  TemplateUnitPipeline,
} from "./template-unit";

/**
 * A job's plan: every template of the generator through the template-unit pipeline, in template
 * path order, then every artifact sorted (path, mode, template path, row index) and checked for
 * outputs that cannot all be written.
 */

export interface JobPlan {
  artifacts: PlannedArtifact[];
  skipped: SkippedUnit[];
}

const MODE_RANK: Record<PlannedArtifact["mode"], number> = { write: 0, prepend: 1, inject: 2, lineAt: 3, append: 4 };

/** Every template, every unit, checked and sorted; more than `maxArtifacts` artifacts is an error. */
export async function planTemplates(
  pipeline: TemplateUnitPipeline,
  templates: readonly PlanTemplate[],
  maxArtifacts = Number.POSITIVE_INFINITY,
): Promise<JobPlan> {
  const ordered = [...templates].sort((a, b) => compare(a.path, b.path));
  const artifacts: PlannedArtifact[] = [];
  const skipped: SkippedUnit[] = [];
  for (const template of ordered) {
    const prepared = await pipeline.prepare(template);
    const units = await pipeline.renderUnits(prepared, { maxArtifacts, planned: artifacts.length });
    skipped.push(...units.skipped);
    artifacts.push(...units.artifacts);
  }
  sortArtifacts(artifacts);
  checkOutputConflicts(artifacts);
  return { artifacts, skipped };
}

export function sortArtifacts(artifacts: PlannedArtifact[]): PlannedArtifact[] {
  return artifacts.sort(
    (a, b) =>
      compare(a.path, b.path) ||
      MODE_RANK[a.mode] - MODE_RANK[b.mode] ||
      compare(a.template.path, b.template.path) ||
      (a.rowIndex ?? -1) - (b.rowIndex ?? -1) ||
      compare(a.sha256, b.sha256),
  );
}

/**
 * Two whole files for one path, a path that is both a file and a directory, or two paths that are
 * one file on a case-insensitive file system cannot be written.
 */
export function checkOutputConflicts(artifacts: readonly PlannedArtifact[]): void {
  const writers = new Map<string, PlannedArtifact>();
  for (const artifact of artifacts) {
    if (artifact.mode !== "write") continue;
    const previous = writers.get(artifact.path);
    if (previous) {
      throw new PlanError(
        "duplicate-output",
        `${JSON.stringify(artifact.path)} is written by ${describe(previous)} and ${describe(artifact)}`,
        { template: artifact.template.path, rowIndex: artifact.rowIndex },
      );
    }
    writers.set(artifact.path, artifact);
  }
  const paths = new Set(artifacts.map((artifact) => artifact.path));
  for (const artifact of artifacts) {
    const segments = artifact.path.split("/");
    for (let i = 1; i < segments.length; i++) {
      const directory = segments.slice(0, i).join("/");
      if (paths.has(directory)) {
        throw new PlanError("path-conflict", `${JSON.stringify(directory)} is both a file and a directory`, {
          template: artifact.template.path,
          rowIndex: artifact.rowIndex,
        });
      }
    }
  }
  checkCaseCollisions(artifacts);
}

function describe(artifact: PlannedArtifact): string {
  return artifact.rowIndex === null ? artifact.template.path : `${artifact.template.path} (row ${artifact.rowIndex})`;
}

/** A slice of one template's units, e.g. the body of one `generate` queue message. */
export interface UnitBatch {
  template: string;
  /** First unit (inclusive). */
  start: number;
  /** Last unit (exclusive). */
  end: number;
}

/**
 * Splits prepared templates' units into batches of at most `size` units, in template path
 * order; a batch never spans two templates. Templates without units give no batch.
 */
export function batchUnits(prepared: readonly PreparedTemplate[], size: number): UnitBatch[] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError("batch size must be an integer ≥ 1");
  const batches: UnitBatch[] = [];
  const ordered = [...prepared].sort((a, b) => compare(a.template.path, b.template.path));
  for (const item of ordered) {
    for (let start = 0; start < item.units; start += size) {
      batches.push({ template: item.template.path, start, end: Math.min(start + size, item.units) });
    }
  }
  return batches;
}

/** Plans a whole job with a fresh pipeline. */
export function planJob(
  templates: readonly PlanTemplate[],
  deps: PlanDependencies,
  options: PlanOptions = {},
): Promise<JobPlan> {
  return planTemplates(new TemplateUnitPipeline(deps, options), templates, options.maxArtifacts);
}
