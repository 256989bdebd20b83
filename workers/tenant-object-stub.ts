import { tenantStub } from "../durable-objects/tenant-stub";
import type { TenantRow } from "./db/schema";

/** The verified tenant's Durable Object (never addressed from client input). */
export function tenantObject(env: Env, tenant: Pick<TenantRow, "id" | "jurisdiction">) {
  return tenantStub(env.TENANT, tenant.id, tenant.jurisdiction, {
    emulateJurisdictions: (env.ENVIRONMENT as string) === "development",
  });
}
