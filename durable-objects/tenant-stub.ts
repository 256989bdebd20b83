import { isTenantJurisdiction, TENANT_JURISDICTIONS } from "../shared/jurisdictions";
import type { TenantObject } from "./tenant-object";

/** Thrown for a jurisdiction outside TENANT_JURISDICTIONS. */
export class InvalidJurisdictionError extends Error {
  readonly jurisdiction: string;

  constructor(jurisdiction: string) {
    super(`Unsupported jurisdiction "${jurisdiction}"; expected one of ${TENANT_JURISDICTIONS.join(", ")}`);
    this.name = "InvalidJurisdictionError";
    this.jurisdiction = jurisdiction;
  }
}

/** The part of a Durable Object namespace binding (`env.TENANT`) tenantStub uses. */
export interface TenantNamespace<T extends Rpc.DurableObjectBranded | undefined = TenantObject> {
  idFromName(name: string): DurableObjectId;
  get(id: DurableObjectId): DurableObjectStub<T>;
  jurisdiction(jurisdiction: DurableObjectJurisdiction): TenantNamespace<T>;
}

export interface TenantStubOptions {
  /**
   * Local workerd (wrangler dev, vitest) throws "Jurisdiction restrictions are not implemented
   * in workerd". When true, a jurisdiction is emulated by a separate name (`@eu/<tenantId>`)
   * in the default namespace. Set it only in development (`env.ENVIRONMENT === "development"`),
   * never where data residency matters.
   */
  emulateJurisdictions?: boolean;
}

/**
 * The stub of a tenant's TenantObject: named by the verified tenant id, inside the tenant's
 * jurisdiction when it has one (null/undefined: none). Always pass the jurisdiction stored
 * with the tenant: the same id in another jurisdiction is a different, empty object.
 */
export function tenantStub<T extends Rpc.DurableObjectBranded | undefined = TenantObject>(
  namespace: TenantNamespace<T>,
  tenantId: string,
  jurisdiction?: string | null,
  options: TenantStubOptions = {},
): DurableObjectStub<T> {
  if (typeof tenantId !== "string" || tenantId.length === 0) throw new TypeError("tenantId must be a non-empty string");
  if (jurisdiction === undefined || jurisdiction === null) return namespace.get(namespace.idFromName(tenantId));
  if (!isTenantJurisdiction(jurisdiction)) throw new InvalidJurisdictionError(jurisdiction);
  if (options.emulateJurisdictions === true) return namespace.get(namespace.idFromName(`@${jurisdiction}/${tenantId}`));
  const scoped = namespace.jurisdiction(jurisdiction);
  return scoped.get(scoped.idFromName(tenantId));
}
