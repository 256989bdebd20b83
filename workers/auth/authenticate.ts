import type { MiddlewareHandler } from "hono";
import { type Role, roleAtLeast } from "../../shared/contracts/roles";
import type { AppEnv } from "../context";
import { HttpError } from "../problems/http-error";
import { tokenConfig } from "./config";
import { unauthorized } from "./credential-problems";
import { type EdgeCredentials, edgeCredentials } from "./edge-credentials";

export function bearerCredential(header: string | undefined): string {
  if (!header) throw unauthorized("Send an API key or token as `Authorization: Bearer <credential>`.");
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match?.[1]) throw unauthorized("The Authorization header must use the Bearer scheme.");
  return match[1];
}

/**
 * Establishes principal and tenant from the verified credential only, at the edge (see
 * EdgeCredentials); rate limiting, metering and the plan's body limit are the next middlewares of
 * `tenantRequest`. A client-sent X-Tenant-ID may only confirm that tenant; a suspended tenant can
 * still read GET /v1/me and nothing else.
 */
export function authenticateAt(location: EdgeCredentials, clock: () => number): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const credential = bearerCredential(c.req.header("authorization"));
    const { principal, tenant } = await location.identify(credential, c.env, () => tokenConfig(c.env), clock());
    const claimedTenant = c.req.header("x-tenant-id");
    if (claimedTenant !== undefined && claimedTenant !== tenant.id && claimedTenant !== tenant.slug) {
      throw new HttpError(
        403,
        "tenant-mismatch",
        "Forbidden",
        "X-Tenant-ID names a tenant other than the credential's.",
      );
    }
    const isMe = c.req.method === "GET" && new URL(c.req.url).pathname === "/v1/me";
    if (tenant.status === "suspended" && !isMe) {
      throw new HttpError(403, "tenant-suspended", "Forbidden", "This tenant is suspended.");
    }
    c.set("principal", principal);
    c.set("tenant", tenant);
    await next();
  };
}

export const authenticate = authenticateAt(edgeCredentials, Date.now);

export function requireRole(required: Role): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!roleAtLeast(c.var.principal.role, required)) {
      throw new HttpError(403, "insufficient-role", "Forbidden", `This action needs the ${required} role or higher.`);
    }
    await next();
  };
}
