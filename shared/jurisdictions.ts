/** Jurisdictions a tenant's Durable Object can be pinned to (data stays inside it). */
export const TENANT_JURISDICTIONS = ["eu", "fedramp"] as const;

export type TenantJurisdiction = (typeof TENANT_JURISDICTIONS)[number];

export function isTenantJurisdiction(value: unknown): value is TenantJurisdiction {
  return typeof value === "string" && (TENANT_JURISDICTIONS as readonly string[]).includes(value);
}
