import { computeImpact, ImpactBudgetExceededError, type ImpactReport } from "../../shared/generate/impact";
import { parseLock } from "../../shared/generate/lock";
import { queryLimits } from "../../shared/plans";
import type { TenantSnapshot } from "../context";
import type { JobRow } from "../db/schema";
import { HttpError } from "../problems/http-error";
import { ArtifactIndex, type ArtifactRecord } from "../repository/artifact-index";
import { pinnedGraphVersion, rebasedLock, templatesOfLock } from "./job-inputs";
import { pinnedQuerySource } from "./job-renderers";

/** Artifacts of a job whose impact a request computes; a larger job is refused (422 impact-too-large). */
export const MAX_IMPACT_ARTIFACTS = 20_000;
/** Queries over both graph versions together, at most 8 per call to the tenant object. */
export const MAX_IMPACT_QUERIES = 2_000;
/** Rows answered over both graph versions together. */
export const MAX_IMPACT_ROWS = 250_000;
/** Index rows read per call while listing the job's artifacts. */
const INDEX_PAGE = 1_000;

/**
 * The impact of graph version `version` (the latest unless named) on a completed job, in the request: the
 * job's lock with the graph pinned to that version and its build time derived from that version's creation,
 * as `POST /v1/jobs` would pin it, against the artifacts the job wrote. Templates and params stay the job's.
 */
export async function jobImpact(
  env: Env,
  tenant: TenantSnapshot,
  job: JobRow,
  version: number | undefined,
): Promise<ImpactReport> {
  if (job.status !== "completed")
    throw new HttpError(409, "job-not-completed", "Conflict", `The job is ${job.status}.`);
  if (job.done > MAX_IMPACT_ARTIFACTS) throw new ImpactBudgetExceededError("artifacts", MAX_IMPACT_ARTIFACTS);
  const lock = parseLock(job.lock);
  const graph = await pinnedGraphVersion(env, tenant, lock.graph.name, version);
  const targetLock = rebasedLock(lock, graph);
  const templates = await templatesOfLock(env, tenant.id, lock);
  const artifacts = await recordedArtifacts(new ArtifactIndex(env, tenant), job.id);
  const limits = queryLimits(tenant.plan);
  return computeImpact({
    baseline: { lock, templates, params: job.params, source: pinnedQuerySource(env, tenant, lock, limits) },
    target: {
      lock: targetLock,
      templates,
      params: job.params,
      source: pinnedQuerySource(env, tenant, targetLock, limits),
    },
    artifacts,
    limits: {
      maxArtifacts: MAX_IMPACT_ARTIFACTS,
      maxQueries: MAX_IMPACT_QUERIES,
      maxRows: MAX_IMPACT_ROWS,
      query: limits,
    },
  });
}

async function recordedArtifacts(index: ArtifactIndex, jobId: string): Promise<ArtifactRecord[]> {
  const all: ArtifactRecord[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await index.list(jobId, INDEX_PAGE, after);
    all.push(...page.slice(0, INDEX_PAGE));
    if (all.length > MAX_IMPACT_ARTIFACTS) throw new ImpactBudgetExceededError("artifacts", MAX_IMPACT_ARTIFACTS);
    if (page.length <= INDEX_PAGE) return all;
    after = page[INDEX_PAGE - 1]?.path;
  }
}
