import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { TenantObject } from "../../durable-objects/tenant-object";
import { tenantObject } from "../../workers/tenant-object-stub";

/** Runs SQL in a tenant's Durable Object (e.g. to read or damage its artifact index), rows as objects. */
export async function tenantSql<T = Record<string, unknown>>(
  tenantId: string,
  query: string,
  ...params: (string | number | null)[]
): Promise<T[]> {
  return runInDurableObject(
    tenantObject(env, { id: tenantId, jurisdiction: null }),
    (_instance: TenantObject, state) => state.storage.sql.exec(query, ...params).toArray() as T[],
  );
}
