import { MAX_QUERIES_PER_CALL, type PinnedQueryAnswers } from "../../durable-objects/tenant/job-service";
import { type RpcOutcome, unwrap } from "../../durable-objects/tenant/rpc-outcome";
import { canonicalJson } from "../../shared/core/canonical-json";
import { chunkedQuerySource, type PinnedQuerySource } from "../../shared/generate/fetched-queries";
import { JobRenderer } from "../../shared/generate/job-renderer";
import type { Lock } from "../../shared/generate/lock";
import { queryLimits } from "../../shared/plans";
import type { TenantSnapshot } from "../context";
import { tenantObject } from "../tenant-object-stub";
import { templatesOfLock } from "./job-inputs";

/** Artifacts one job may have (fan-out guard). */
export const MAX_QUEUED_ARTIFACTS = 100_000;
/** Jobs whose renderers (prepared templates, fetched query results) stay in this isolate between messages. */
const KEPT_RENDERERS = 4;

const renderers = new Map<string, Promise<JobRenderer>>();

/** Units rendered between two turns of the event loop (a turn costs about half a millisecond in workerd). */
const UNITS_PER_TURN = 4;

/** Every UNITS_PER_TURN units a macrotask turn: requests waiting for this isolate run before the next renders. */
function eventLoopTurns(): () => Promise<void> {
  let units = 0;
  return () =>
    ++units % UNITS_PER_TURN === 0 ? new Promise<void>((resolve) => setTimeout(resolve, 0)) : Promise.resolve();
}

export interface JobRendering {
  renderer: JobRenderer;
  /** Query results of the pinned version from the tenant's object, through this invocation's stub. */
  source: PinnedQuerySource;
}

/**
 * The renderer of a job: templates from R2 by the lock's hashes; query results of the pinned graph version
 * from the tenant's object in bounded batches (`jobQueries`). The renderer (prepared templates, fetched
 * results: plain data) is kept per isolate and shared by the messages of one job, so each template's query
 * runs once per isolate, not once per message; the source is this invocation's own, since a stub cannot be
 * used from another request. Keyed by tenant, lock and limits: the same key is the same graph version,
 * templates and params.
 */
export async function jobRenderer(
  env: Env,
  tenant: TenantSnapshot,
  lock: Lock,
  params: Record<string, unknown>,
): Promise<JobRendering> {
  const limits = queryLimits(tenant.plan);
  const key = `${tenant.id}\n${canonicalJson({ lock, limits })}`;
  let renderer = renderers.get(key);
  if (renderer) {
    renderers.delete(key);
  } else {
    renderer = templatesOfLock(env, tenant.id, lock).then(
      (templates) =>
        new JobRenderer(
          { lock, params, templates, limits, maxArtifacts: MAX_QUEUED_ARTIFACTS },
          { betweenUnits: eventLoopTurns() },
        ),
    );
    renderer.catch(() => renderers.delete(key));
    if (renderers.size >= KEPT_RENDERERS) renderers.delete(renderers.keys().next().value as string);
  }
  renderers.set(key, renderer);
  return { renderer: await renderer, source: pinnedQuerySource(env, tenant, lock, limits) };
}

/**
 * The lock's pinned graph version read from the tenant's object in bounded batches (`jobQueries`), through a
 * stub of this invocation (a stub cannot be used from another request).
 */
export function pinnedQuerySource(
  env: Env,
  tenant: TenantSnapshot,
  lock: Lock,
  limits: { maxRows: number; maxSteps: number },
): PinnedQuerySource {
  const stub = tenantObject(env, tenant);
  const pinned = { graph: lock.graph.name, version: lock.graph.version as number, buildTime: lock.buildTime, limits };
  return chunkedQuerySource(
    MAX_QUERIES_PER_CALL,
    // The stub's inferred type loses the answer's shape (RPC serialization types): it is the method's own.
    async (queries) =>
      unwrap((await stub.jobQueries({ ...pinned, queries })) as RpcOutcome<PinnedQueryAnswers>).results,
  );
}
