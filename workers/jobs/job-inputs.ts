import { unwrap } from "../../durable-objects/tenant/rpc-outcome";
import type { RenderOptions } from "../../shared/contracts/lock";
import { sha256Hex } from "../../shared/core/sha256";
import type { Lock } from "../../shared/generate/lock";
import { computeLock, deriveBuildTime, LockError, parseLock } from "../../shared/generate/lock";
import type { PlanTemplate } from "../../shared/generate/template-unit";
import { ENGINE_VERSION } from "../../shared/version";
import type { TenantSnapshot } from "../context";
import { database } from "../db/client";
import { HttpError } from "../problems/http-error";
import { TemplateCatalog } from "../repository/templates";
import { ContentStore } from "../storage/content-store";
import { tenantObject } from "../tenant-object-stub";

/** Sources are content-addressed, so a cached one can never be stale. */
const templateSources = new Map<string, string>();

/** Template sources by hash from R2: a lock names sources by content, so old ones stay reachable. */
export async function templatesOfLock(env: Env, tenantId: string, lock: Lock): Promise<PlanTemplate[]> {
  const content = new ContentStore(env.ARTIFACTS, tenantId);
  const templates: PlanTemplate[] = [];
  for (const [path, hash] of Object.entries(lock.generator.templates)) {
    const cacheKey = `${tenantId}/${hash}`;
    let source = templateSources.get(cacheKey);
    if (source === undefined) {
      const stored = await content.text(hash);
      if (stored === null) throw new LockError("a template of the lock is no longer stored", [`${path}: ${hash}`]);
      // Sources share the content store with other blobs: only a source with this very hash is the template.
      if ((await sha256Hex(stored)) !== hash)
        throw new LockError("a template of the lock does not hash to its pinned hash", [`${path}: ${hash}`]);
      if (templateSources.size > 512) templateSources.clear();
      templateSources.set(cacheKey, stored);
      source = stored;
    }
    templates.push({ path, hash, source });
  }
  return templates;
}

/** The graph version a job or preview pins: the latest unless one is named; 404 for unknown graphs and versions. */
export async function pinnedGraphVersion(
  env: Env,
  tenant: TenantSnapshot,
  graph: string,
  version: number | undefined,
): Promise<{ name: string; version: number; hash: string; createdAt: string }> {
  const stub = tenantObject(env, tenant);
  const found = unwrap(version === undefined ? await stub.graphLatest(graph) : await stub.graphVersion(graph, version));
  return pinnedVersionOf(graph, found);
}

/** A graph version as a lock pins it; 409 while it has no canonical hash. */
export function pinnedVersionOf(
  graph: string,
  found: { version: number; hash: string | null; createdAt: string },
): { name: string; version: number; hash: string; createdAt: string } {
  if (!found.hash)
    throw new HttpError(409, "graph-version-unhashed", "Conflict", "The graph version has no canonical hash yet.");
  return { name: graph, version: found.version, hash: found.hash, createdAt: found.createdAt };
}

/** The lock of `templates` as generator `generator` over a pinned graph version. */
export function lockOf(
  graph: { name: string; version: number; hash: string; createdAt: string },
  generator: { name: string; templates: ReadonlyArray<{ path: string; hash: string }> },
  params: Record<string, unknown>,
  options?: RenderOptions,
): Promise<Lock> {
  return computeLock({
    graph: { name: graph.name, version: graph.version, hash: graph.hash },
    generator,
    params,
    engineVersion: ENGINE_VERSION,
    buildTime: deriveBuildTime({ graphVersionCreatedAt: graph.createdAt }),
    options,
  });
}

/**
 * `lock` with its graph pinned to another version and its build time derived from that version's creation,
 * as `POST /v1/jobs` derives it: templates (at their locked hashes), params and options stay the lock's.
 * A full generation with this lock is what an incremental job over `lock` must equal.
 */
export function rebasedLock(
  lock: Lock,
  graph: { name: string; version: number; hash: string; createdAt: string },
): Lock {
  return parseLock({
    ...lock,
    graph: { name: graph.name, version: graph.version, hash: graph.hash },
    buildTime: deriveBuildTime({ graphVersionCreatedAt: graph.createdAt }),
  });
}

/** A generator's templates and options from the catalog (404 without templates), a job's own options winning. */
export async function generatorOf(
  db: D1Database,
  tenantId: string,
  request: { generator: string; options?: RenderOptions },
): Promise<{ name: string; templates: { path: string; hash: string }[]; options: RenderOptions }> {
  const generator = await new TemplateCatalog(database(db), tenantId).generatorWithOptions(request.generator);
  const rows = generator.templates;
  if (rows.length === 0)
    throw new HttpError(404, "not-found", "Not Found", `Generator "${request.generator}" has no templates.`);
  return {
    name: request.generator,
    templates: rows.map((row) => ({ path: row.path, hash: row.hash })),
    options: { ...generator.options, ...request.options },
  };
}

/**
 * The lock for generating `generator` over `graph` (latest version unless one is named): template
 * hashes from the catalog, graph hash from the store, build time from the graph version's creation.
 */
export async function lockFor(
  env: Env,
  tenant: TenantSnapshot,
  request: {
    graph: string;
    version?: number;
    generator: string;
    params: Record<string, unknown>;
    options?: RenderOptions;
  },
): Promise<Lock> {
  const generator = await generatorOf(env.DB, tenant.id, request);
  const graph = await pinnedGraphVersion(env, tenant, request.graph, request.version);
  const { name, templates, options } = generator;
  return lockOf(graph, { name, templates }, request.params, options);
}
