import {
  FetchedQueryResults,
  type FetchedRows,
  inOrderWithFetchedQueries,
  type PinnedQuerySource,
} from "./fetched-queries";
import { kgenContext } from "./generate";
import { kgenPlanDependencies } from "./kgen-dependencies";
import type { Lock } from "./lock";
import { batchUnits, checkOutputConflicts, sortArtifacts, type UnitBatch } from "./plan";
import { type RowSemantics, rowSemanticsOf } from "./row-values";
import { type ArtifactData, withoutBytes } from "./template-preview";
import {
  compare,
  PlanError,
  type PlannedArtifact,
  type PlanTemplate,
  type PreparedTemplate,
  type QueryRows,
  type SkippedUnit,
  TemplateUnitPipeline,
  type UnitPath,
} from "./template-unit";

export interface JobRequest {
  lock: Lock;
  /** Every template of the lock's generator, sources included. */
  templates: PlanTemplate[];
  params: Record<string, unknown>;
  /** Per query, as the plan allows (rows, evaluation steps). */
  limits: { maxRows: number; maxSteps: number };
  /** Fan-out guard: more artifacts than this is an error. */
  maxArtifacts: number;
}

export interface JobUnitCount {
  units: number;
  batches: UnitBatch[];
}

export interface RenderedBatch {
  artifacts: ArtifactData[];
  skipped: SkippedUnit[];
}

type UnitResult = PlannedArtifact | SkippedUnit;

/**
 * A job's planning and rendering where it runs (a queue consumer, a dry run), reading the pinned graph
 * version only through the `source` each call is given: the query results arrive in batches
 * (fetched-queries.ts), the renders are the template-unit pipeline's. One renderer per job and isolate:
 * the queries each template and unit ran are kept for every later batch of the same job.
 */
export class JobRenderer {
  private readonly results: FetchedQueryResults;
  private readonly pipeline: TemplateUnitPipeline;
  private readonly prepared = new Map<string, Promise<PreparedTemplate>>();
  private readonly templates: PlanTemplate[];

  /**
   * `betweenUnits` runs before each unit after the first: a Worker hands the event loop back there, so the
   * requests its isolate also serves are not queued behind a whole batch of renders.
   */
  constructor(
    private readonly request: JobRequest,
    private readonly options: { betweenUnits?: () => Promise<void> } = {},
  ) {
    const { lock } = request;
    this.results = new FetchedQueryResults(rowSemanticsOf(lock.engineVersion));
    this.templates = [...request.templates].sort((a, b) => compare(a.path, b.path));
    const deps = kgenPlanDependencies({
      templates: request.templates,
      buildTime: lock.buildTime,
      params: request.params,
      throwOnUndefined: lock.options?.throwOnUndefined === true,
      runQuery: this.results.runQuery,
    });
    this.pipeline = new TemplateUnitPipeline(deps, {
      params: request.params,
      kgen: kgenContext(lock),
      maxArtifacts: request.maxArtifacts,
    });
  }

  /** How many units the plan has, split into batches for the queue: runs every template's query, renders nothing. */
  async count(batchSize: number, source: PinnedQuerySource): Promise<JobUnitCount> {
    const prepared = await this.prepareAll(this.templates, source);
    const units = prepared.reduce((sum, item) => sum + item.units, 0);
    return { units, batches: batchUnits(prepared, batchSize) };
  }

  /** The whole plan, rendered, sorted and checked for outputs that cannot all be written (small jobs, dry runs). */
  async renderAll(source: PinnedQuerySource): Promise<RenderedBatch> {
    const artifacts: PlannedArtifact[] = [];
    const skipped: SkippedUnit[] = [];
    const { maxArtifacts } = this.request;
    for (const template of this.templates) {
      const [prepared] = await this.prepareAll([template], source);
      if (!prepared) continue;
      if (prepared.frontmatter.to === undefined) {
        skipped.push({ template: prepared.template.path, rowIndex: null, reason: "no-to" });
        continue;
      }
      await this.renderUnits(
        prepared,
        prepared.units,
        (index) => index,
        source,
        (result) => {
          if ("reason" in result) {
            skipped.push(result);
            return;
          }
          artifacts.push(result);
          if (artifacts.length > maxArtifacts) {
            throw new PlanError("too-many-artifacts", `the plan exceeds ${maxArtifacts} artifacts`, {
              template: prepared.template.path,
            });
          }
        },
      );
    }
    sortArtifacts(artifacts);
    checkOutputConflicts(artifacts);
    return { artifacts: artifacts.map(withoutBytes), skipped };
  }

  /**
   * One batch of units of one template (a queue message); with `units`, only those units of the batch, in
   * that order (an incremental job re-renders only the affected ones).
   */
  async renderBatch(batch: UnitBatch, source: PinnedQuerySource, units?: readonly number[]): Promise<RenderedBatch> {
    const template = this.templates.find((candidate) => candidate.path === batch.template);
    if (!template) throw new RangeError(`template ${batch.template} is not in the job`);
    const [prepared] = await this.prepareAll([template], source);
    if (!prepared) throw new RangeError(`template ${batch.template} was not prepared`);
    const artifacts: PlannedArtifact[] = [];
    const skipped: SkippedUnit[] = [];
    const end = Math.min(batch.end, prepared.units);
    const selected = units?.filter((unit) => unit >= batch.start && unit < end);
    const accept = (result: UnitResult) => {
      if ("reason" in result) skipped.push(result);
      else artifacts.push(result);
    };
    if (selected)
      await this.renderUnits(prepared, selected.length, (index) => selected[index] as number, source, accept);
    else
      await this.renderUnits(prepared, Math.max(0, end - batch.start), (index) => batch.start + index, source, accept);
    sortArtifacts(artifacts);
    checkOutputConflicts(artifacts);
    return { artifacts: artifacts.map(withoutBytes), skipped };
  }

  /** Every template after frontmatter and query, in template path order; renders nothing. */
  preparedTemplates(source: PinnedQuerySource): Promise<PreparedTemplate[]> {
    return this.prepareAll(this.templates, source);
  }

  /** One template after frontmatter and query; renders nothing. */
  async preparedTemplate(path: string, source: PinnedQuerySource): Promise<PreparedTemplate> {
    const [prepared] = await this.prepareAll([this.template(path)], source);
    return prepared as PreparedTemplate;
  }

  /**
   * One template over some rows of its result (TemplateUnitPipeline.prepareRows) and the output paths of
   * those rows, in row order.
   */
  async rowPaths(
    path: string,
    rows: QueryRows,
    source: PinnedQuerySource,
  ): Promise<{ prepared: PreparedTemplate; paths: (UnitPath | SkippedUnit)[] }> {
    const prepared = await this.pipeline.prepareRows(this.template(path), rows);
    const units = Array.from({ length: prepared.units }, (_, unit) => unit);
    return { prepared, paths: await this.unitPaths(prepared, units, source) };
  }

  private template(path: string): PlanTemplate {
    const template = this.templates.find((candidate) => candidate.path === path);
    if (!template) throw new RangeError(`template ${path} is not in the job`);
    return template;
  }

  /**
   * The output paths of some units of one prepared template (skipIf and `to:` only, never the body), in
   * the given unit order; skipped units give their reason.
   */
  async unitPaths(
    prepared: PreparedTemplate,
    units: readonly number[],
    source: PinnedQuerySource,
  ): Promise<(UnitPath | SkippedUnit)[]> {
    const out: (UnitPath | SkippedUnit)[] = [];
    await inOrderWithFetchedQueries(
      units.length,
      (index) => this.pipeline.unitPath(prepared, units[index] as number),
      (result) => out.push(result),
      this.results,
      source,
    );
    return out;
  }

  /** Query results of the pinned version as templates see them, fetched in batches and kept for later renders. */
  async queryRows(queries: readonly string[], source: PinnedQuerySource): Promise<Map<string, QueryRows>> {
    await this.results.fetch(queries, source);
    return new Map(queries.map((query) => [query, this.results.runQuery(query)]));
  }

  /** Query results of the pinned version in whichever form they are kept (see FetchedQueryResults.fetched). */
  async fetchedRows(queries: readonly string[], source: PinnedQuerySource): Promise<Map<string, FetchedRows>> {
    await this.results.fetch(queries, source);
    return new Map(queries.map((query) => [query, this.results.fetched(query)]));
  }

  get rowSemantics(): RowSemantics {
    return this.results.semantics;
  }

  /** `count` units of one prepared template, the `index`-th being unit `unitAt(index)`. */
  private renderUnits(
    prepared: PreparedTemplate,
    count: number,
    unitAt: (index: number) => number,
    source: PinnedQuerySource,
    accept: (result: UnitResult) => void,
  ): Promise<void> {
    return inOrderWithFetchedQueries(
      count,
      async (index) => {
        if (index > 0 && this.options.betweenUnits) await this.options.betweenUnits();
        return this.pipeline.renderUnit(prepared, unitAt(index));
      },
      accept,
      this.results,
      source,
    );
  }

  /** Templates after frontmatter and query, in the given order; each is prepared once per renderer. */
  private async prepareAll(templates: readonly PlanTemplate[], source: PinnedQuerySource): Promise<PreparedTemplate[]> {
    const open = templates.filter((template) => !this.prepared.has(template.path));
    if (open.length > 0) {
      const preparing = (async () => {
        const done = new Map<string, PreparedTemplate>();
        await inOrderWithFetchedQueries(
          open.length,
          (index) => this.pipeline.prepare(open[index] as PlanTemplate),
          (prepared, index) => done.set((open[index] as PlanTemplate).path, prepared),
          this.results,
          source,
        );
        return done;
      })();
      for (const template of open) {
        const prepared = preparing.then((done) => done.get(template.path) as PreparedTemplate);
        this.prepared.set(template.path, prepared);
        prepared.catch(() => this.prepared.delete(template.path));
      }
    }
    const out: PreparedTemplate[] = [];
    for (const template of templates) out.push(await (this.prepared.get(template.path) as Promise<PreparedTemplate>));
    return out;
  }
}
