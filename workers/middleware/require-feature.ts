import type { MiddlewareHandler } from "hono";
import { type BooleanFlagName, resolveFlag } from "../../shared/contracts/flags";
import type { AppEnv, TenantSnapshot } from "../context";
import { HttpError } from "../problems/http-error";

/** 403 `feature-disabled` naming the flag, when the tenant's effective value of a boolean flag is off. */
export function assertFeatureEnabled(tenant: TenantSnapshot, flag: BooleanFlagName): void {
  if (resolveFlag(flag, tenant).value === true) return;
  throw new HttpError(403, "feature-disabled", "Forbidden", `The "${flag}" feature is turned off for this tenant.`, {
    extensions: { flag },
  });
}

/**
 * Refuses the route when a feature flag turns it off for the caller's tenant. It reads the flags the
 * edge already holds with the tenant (as old as its plan and status, at most the credential cache's
 * bound): no central round trip. Runs after authentication.
 */
export function requireFeature(flag: BooleanFlagName): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    assertFeatureEnabled(c.var.tenant, flag);
    await next();
  };
}
