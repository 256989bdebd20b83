import { unwrap } from "../../durable-objects/tenant/rpc-outcome";
import {
  assertEngineVersionSupported,
  assertParamsMatchLock,
  deriveBuildTime,
  type Lock,
  LockError,
} from "../../shared/generate/lock";
import type { TenantSnapshot } from "../context";
import { database } from "../db/client";
import { TemplateCatalog } from "../repository/templates";
import { tenantObject } from "../tenant-object-stub";

/**
 * A lock sent back to the platform (`POST /v1/jobs {lock}`) ends up in signed attestations,
 * so every field is checked against what the platform stores before anything runs: an engine
 * version it can run, params that hash to the lock's, the graph version's number, hash and build
 * time, and templates that really were the generator's. Template sources are checked against their
 * hashes when they are read (templatesOfLock). Each refusal is a LockError (422 invalid-lock).
 */
export async function verifyReplayedLock(
  env: Env,
  tenant: TenantSnapshot,
  lock: Lock,
  params: Record<string, unknown>,
): Promise<void> {
  assertEngineVersionSupported(lock);
  await assertParamsMatchLock(lock, params);
  await assertLockGraph(env, tenant, lock);
  await assertLockGenerator(env, tenant, lock);
}

/** The lock's graph version must exist with the same number, content hash and build time. */
export async function assertLockGraph(env: Env, tenant: TenantSnapshot, lock: Lock): Promise<void> {
  const { name, version: number } = lock.graph;
  if (typeof number !== "number" || !Number.isSafeInteger(number) || number < 1) {
    throw new LockError("the lock's graph version is not a version number", [
      `graph.version: ${JSON.stringify(number)}`,
    ]);
  }
  const version = unwrap(await tenantObject(env, tenant).graphVersion(name, number));
  if (version.hash !== lock.graph.hash) {
    throw new LockError("the lock's graph version has different content", [`${name}@${number}`]);
  }
  const buildTime = deriveBuildTime({ graphVersionCreatedAt: version.createdAt });
  if (buildTime !== lock.buildTime) {
    throw new LockError("the lock's build time is not its graph version's", [
      `buildTime ${lock.buildTime} != ${buildTime}`,
    ]);
  }
}

/** Every (path, hash) of the lock must have been a template of the lock's generator. */
async function assertLockGenerator(env: Env, tenant: TenantSnapshot, lock: Lock): Promise<void> {
  const { name, templates } = lock.generator;
  const pairs = Object.entries(templates).map(([path, hash]) => ({ path, hash }));
  const known = await new TemplateCatalog(database(env.DB), tenant.id).everPut(name, pairs);
  const unknown = pairs.filter(({ path, hash }) => !known.has(`${path}\n${hash}`));
  if (pairs.length === 0 || unknown.length > 0) {
    throw new LockError(
      `the lock's templates were never generator ${JSON.stringify(name)}'s`,
      unknown.map(({ path, hash }) => `${path}: ${hash}`),
    );
  }
}
