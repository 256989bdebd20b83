import {
  chunkedQuerySource,
  type PinnedQueryOutcome,
  type PinnedQuerySource,
} from "../../shared/generate/fetched-queries";
import { kgenContext } from "../../shared/generate/generate";
import { JobRenderer, type JobRequest, type RenderedBatch } from "../../shared/generate/job-renderer";
import { isQueryRefusal, kgenPlanDependencies } from "../../shared/generate/kgen-dependencies";
import { rowSemanticsOf, templateRows } from "../../shared/generate/row-values";
import { previewTemplate, type TemplatePreview } from "../../shared/generate/template-preview";
import { TemplateUnitPipeline } from "../../shared/generate/template-unit";
import { problemFromDomainError } from "../../workers/problems/domain-problems";
import { HttpError } from "../../workers/problems/http-error";
import type { GraphService, QueryLimits } from "./graph-service";

export type { JobRequest, RenderedBatch } from "../../shared/generate/job-renderer";
export type { ArtifactData } from "../../shared/generate/template-preview";

/** Most queries one `jobQueries` call runs: the tenant's other calls wait for at most this many. */
export const MAX_QUERIES_PER_CALL = 8;
/** A call stops taking further queries once its answers hold this many rows (the rest is asked for again). */
export const MAX_ROWS_PER_CALL = 1_000;

/** A batch of generation queries over one pinned graph version (what a job's lock pins). */
export interface PinnedQueries {
  graph: string;
  version: number;
  /** The lock's build time: what NOW() sees. */
  buildTime: string;
  limits: QueryLimits;
  /** At most MAX_QUERIES_PER_CALL. */
  queries: string[];
}

export interface PinnedQueryAnswers {
  /** Answers for the first `results.length` queries, in order: at least one, fewer once the row budget is used. */
  results: PinnedQueryOutcome[];
}

/**
 * Generation reads inside the tenant's Durable Object: batches of frontmatter/`sparql()`/`label()` queries
 * over a pinned version for the Workers that render jobs (shared/generate/job-renderer.ts), and the
 * preview of one template (`POST /v1/render` with a graph), which renders here next to the graph.
 */
export class JobService {
  constructor(private readonly graphs: GraphService) {}

  /** Runs the queries in order until MAX_ROWS_PER_CALL rows are answered; a failed query is answered with its problem. */
  queries(input: PinnedQueries): PinnedQueryAnswers {
    const { graph, version, buildTime, limits, queries } = input;
    if (!Array.isArray(queries) || queries.length === 0 || queries.length > MAX_QUERIES_PER_CALL) {
      throw new RangeError(`queries must be an array of 1 to ${MAX_QUERIES_PER_CALL} query strings`);
    }
    const results: PinnedQueryOutcome[] = [];
    let rows = 0;
    for (const query of queries) {
      if (typeof query !== "string") throw new RangeError("queries must be strings");
      if (results.length > 0 && rows >= MAX_ROWS_PER_CALL) break;
      try {
        const answer = this.graphs.select(graph, version, query, buildTime, limits);
        rows += answer.length;
        results.push({ ok: true, rows: answer });
      } catch (error) {
        const problem = error instanceof HttpError ? error : problemFromDomainError(error);
        if (!problem) throw error;
        results.push({
          ok: false,
          failure: {
            status: problem.status,
            type: problem.type,
            title: problem.title,
            detail: problem.message,
            extensions: problem.extensions,
            refusal: isQueryRefusal(error),
          },
        });
      }
    }
    return { results };
  }

  /**
   * The query source of a job reading this store in-process, through the same bounded batches a Worker
   * asks for over RPC (the CLI and the benchmarks' peer run jobs this way).
   */
  querySource(request: JobRequest): PinnedQuerySource {
    const { lock, limits } = request;
    const pinned = { graph: lock.graph.name, version: lock.graph.version as number, buildTime: lock.buildTime, limits };
    return chunkedQuerySource(MAX_QUERIES_PER_CALL, (queries) => this.queries({ ...pinned, queries }).results);
  }

  /** The whole plan of `request`, rendered in this process. */
  renderAll(request: JobRequest): Promise<RenderedBatch> {
    return new JobRenderer(request).renderAll(this.querySource(request));
  }

  /**
   * What a job with this request would write for one of its templates (`POST /v1/render` with a
   * graph): the same pipeline, queries and context; at most `maxUnits` units.
   */
  async preview(request: JobRequest, templatePath: string, maxUnits: number): Promise<TemplatePreview> {
    const template = request.templates.find((candidate) => candidate.path === templatePath);
    if (!template) throw new RangeError(`template ${templatePath} is not in the request`);
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
    const pipeline = new TemplateUnitPipeline(deps, {
      params: request.params,
      kgen: kgenContext(lock),
      maxArtifacts: request.maxArtifacts,
    });
    return previewTemplate(pipeline, template, { readsGraph: true, maxUnits });
  }
}
