import { canonicalJson } from "../../shared/core/canonical-json";
import type { RecordedDependency } from "../../shared/generate/attestation";
import { kgenContext } from "../../shared/generate/generate";
import { kgenPlanDependencies } from "../../shared/generate/kgen-dependencies";
import type { Lock } from "../../shared/generate/lock";
import {
  batchUnits,
  checkOutputConflicts,
  planTemplates,
  sortArtifacts,
  type UnitBatch,
} from "../../shared/generate/plan";
import { rowSemanticsOf, templateRows } from "../../shared/generate/row-values";
import {
  type ArtifactData,
  previewTemplate,
  type TemplatePreview,
  withoutBytes,
} from "../../shared/generate/template-preview";
import {
  type PlannedArtifact,
  type PlanTemplate,
  type PreparedTemplate,
  type SkippedUnit,
  TemplateUnitPipeline,
} from "../../shared/generate/template-unit";
import type { GraphService, QueryLimits } from "./graph-service";

export type { ArtifactData } from "../../shared/generate/template-preview";

export interface JobRequest {
  lock: Lock;
  /** Every template of the lock's generator, sources included. */
  templates: PlanTemplate[];
  params: Record<string, unknown>;
  limits: QueryLimits;
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

/**
 * Runs jobs inside the tenant's Durable Object, where the pinned graph version can be read
 * synchronously: frontmatter queries, `sparql()` and `label()` all see exactly lock.graph.version.
 */
/** Jobs whose prepared templates (query rows) stay in memory between queue batches. */
const PREPARED_JOBS = 4;

interface PlanSession {
  planner: TemplateUnitPipeline;
  prepared: Map<string, Promise<PreparedTemplate>>;
}

export class JobService {
  /** Keyed by the lock and limits: the same lock is the same graph version, templates and params. */
  private readonly sessions = new Map<string, PlanSession>();

  constructor(private readonly graphs: GraphService) {}

  private planner(request: JobRequest): TemplateUnitPipeline {
    const { lock } = request;
    const deps = kgenPlanDependencies({
      templates: request.templates,
      buildTime: lock.buildTime,
      params: request.params,
      throwOnUndefined: lock.options?.throwOnUndefined === true,
      runQuery: (sparql) =>
        templateRows(
          this.graphs.select(lock.graph.name, lock.graph.version as number, sparql, lock.buildTime, request.limits),
          rowSemanticsOf(lock.engineVersion),
        ),
    });
    return new TemplateUnitPipeline(deps, {
      params: request.params,
      kgen: kgenContext(lock),
      maxArtifacts: request.maxArtifacts,
    });
  }

  /**
   * A planner whose prepared templates are reused by every batch of the same job: each template's
   * query runs once per job in this object, not once per queue message. Eviction only costs a re-run.
   */
  private session(request: JobRequest): PlanSession {
    const key = canonicalJson({ lock: request.lock, limits: request.limits, maxArtifacts: request.maxArtifacts });
    let session = this.sessions.get(key);
    if (session) {
      this.sessions.delete(key);
    } else {
      session = { planner: this.planner(request), prepared: new Map() };
      if (this.sessions.size >= PREPARED_JOBS) this.sessions.delete(this.sessions.keys().next().value as string);
    }
    this.sessions.set(key, session);
    return session;
  }

  private prepared(session: PlanSession, template: PlanTemplate): Promise<PreparedTemplate> {
    const cached = session.prepared.get(template.path);
    if (cached) return cached;
    const prepared = session.planner.prepare(template);
    session.prepared.set(template.path, prepared);
    prepared.catch(() => session.prepared.delete(template.path));
    return prepared;
  }

  /** The whole plan, rendered (small jobs). */
  async renderAll(request: JobRequest): Promise<RenderedBatch> {
    // The session's planner already ran the queries when the job was counted: its results are reused.
    const plan = await planTemplates(this.session(request).planner, request.templates, request.maxArtifacts);
    return { artifacts: plan.artifacts.map(withoutBytes), skipped: plan.skipped };
  }

  /** How many units the plan has, split into batches for the queue (large jobs). */
  async count(request: JobRequest, batchSize: number): Promise<JobUnitCount> {
    const session = this.session(request);
    const prepared: PreparedTemplate[] = [];
    for (const template of request.templates) prepared.push(await this.prepared(session, template));
    const units = prepared.reduce((sum, item) => sum + item.units, 0);
    return { units, batches: batchUnits(prepared, batchSize) };
  }

  /**
   * What a job with this request would write for one of its templates (`POST /v1/render` with a
   * graph): the same pipeline, queries and context; at most `maxUnits` units.
   */
  async preview(request: JobRequest, templatePath: string, maxUnits: number): Promise<TemplatePreview> {
    const template = request.templates.find((candidate) => candidate.path === templatePath);
    if (!template) throw new RangeError(`template ${templatePath} is not in the request`);
    return previewTemplate(this.planner(request), template, { readsGraph: true, maxUnits });
  }

  /** One batch of units of one template. */
  async renderBatch(request: JobRequest, batch: UnitBatch): Promise<RenderedBatch> {
    const template = request.templates.find((candidate) => candidate.path === batch.template);
    if (!template) throw new RangeError(`template ${batch.template} is not in the job`);
    const session = this.session(request);
    const prepared = await this.prepared(session, template);
    const artifacts: PlannedArtifact[] = [];
    const skipped: SkippedUnit[] = [];
    for (let unit = batch.start; unit < Math.min(batch.end, prepared.units); unit++) {
      const result = await session.planner.renderUnit(prepared, unit);
      if ("reason" in result) skipped.push(result);
      else artifacts.push(result);
    }
    sortArtifacts(artifacts);
    checkOutputConflicts(artifacts);
    return { artifacts: artifacts.map(withoutBytes), skipped };
  }
}

export type { RecordedDependency };
