import type { Role } from "../shared/contracts/roles";
import type { TenantRow } from "./db/schema";

/**
 * What the edge knows about the caller's tenant: enough to authorize, rate-limit and address its
 * Durable Object. It comes from a platform token's claims or from the credential cache, not from a
 * fresh D1 read, so it may be up to CREDENTIAL_CACHE_TTL_MS old; so may its feature-flag overrides.
 */
export type TenantSnapshot = Pick<TenantRow, "id" | "slug" | "plan" | "jurisdiction" | "flags"> & {
  /** Credential lookups find live tenants only: one being erased has no snapshot. */
  status: Exclude<TenantRow["status"], "erasing">;
};

/** Who is calling, established only from a verified credential. */
export interface Principal {
  tenantId: string;
  role: Role;
  /** `key:<id>` for API keys and tokens exchanged from them, the IdP subject for external tokens. */
  subject: string;
  /** `event-ticket`: a single-use ticket that opens the tenant's event stream, and nothing else. */
  credential: "api-key" | "platform-token" | "external-token" | "event-ticket";
  apiKeyId?: string;
  tokenId?: string;
  /** When the API key behind this credential expires (epoch ms); unset for keys that never expire. */
  apiKeyExpiresAtMs?: number;
  /** When the credential and its tenant were last confirmed against D1 (epoch ms). */
  confirmedAtMs: number;
}

export interface AppVariables {
  requestId: string;
  traceId: string;
  spanId: string;
  /** This request's span as a W3C `traceparent`: what queue messages, Durable Object calls and webhooks it causes carry. */
  traceparent: string;
  principal: Principal;
  tenant: TenantSnapshot;
  /** Route template for logs, e.g. `/v1/tenants/:id`. */
  routeName: string;
  /** The `type` slug of the problem the request was answered with, if any (for metrics). */
  problemType?: string;
}

export interface AppEnv {
  Bindings: Env;
  Variables: AppVariables;
}
