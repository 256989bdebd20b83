import type { MiddlewareHandler } from "hono";
import { type PlanName, planLimits } from "../../shared/plans";
import { ExpiringCache } from "../auth/expiring-cache";
import type { AppEnv, TenantSnapshot } from "../context";
import { type RateLimitDecision, rateLimitedError, rateLimitHeaders } from "./rate-limit-headers";

/** The period of every plan's rate-limit binding (wrangler.toml). */
export const RATE_WINDOW_MS = 60_000;

/** The Workers Rate Limiting binding of each plan, keyed by tenant id (limit = the plan's requests per minute). */
export function planRateLimiter(env: Env, plan: PlanName): RateLimit {
  switch (plan) {
    case "free":
      return env.RATE_LIMIT_FREE;
    case "standard":
      return env.RATE_LIMIT_STANDARD;
    case "premium":
      return env.RATE_LIMIT_PREMIUM;
    case "enterprise":
      return env.RATE_LIMIT_ENTERPRISE;
  }
}

/**
 * What this isolate has let through per tenant in the current minute: the binding only answers
 * allowed or not, so `RateLimit-Remaining` is this location's own count against the plan's limit.
 */
export class LocalRequestWindow {
  private readonly windows = new ExpiringCache<{ windowStartMs: number; allowed: number }>(RATE_WINDOW_MS, 10_000);

  decide(tenantId: string, limit: number, allowed: boolean, nowMs: number): RateLimitDecision {
    const windowStartMs = nowMs - (nowMs % RATE_WINDOW_MS);
    const current = this.windows.get(tenantId, nowMs)?.value;
    const counted = current && current.windowStartMs === windowStartMs ? current.allowed : 0;
    const used = allowed ? counted + 1 : counted;
    if (allowed) this.windows.set(tenantId, { windowStartMs, allowed: used }, nowMs);
    const resetSeconds = Math.max(1, Math.ceil((windowStartMs + RATE_WINDOW_MS - nowMs) / 1000));
    return {
      allowed,
      limit,
      remaining: allowed ? Math.max(0, limit - used) : 0,
      resetSeconds,
      retryAfterSeconds: allowed ? 0 : resetSeconds,
    };
  }
}

const localWindow = new LocalRequestWindow();

/** One request of the tenant's plan rate, decided at the location: every tenant-scoped entry point takes one. */
export async function takeTenantRequest(
  env: Env,
  tenant: Pick<TenantSnapshot, "id" | "plan">,
  nowMs: number,
): Promise<RateLimitDecision> {
  const plan = tenant.plan as PlanName;
  const limit = planLimits(plan).requestsPerMinute;
  const { success } = await planRateLimiter(env, plan).limit({ key: tenant.id });
  return localWindow.decide(tenant.id, limit, success, nowMs);
}

/**
 * The tenant's request rate, answered at the location by its plan's rate-limit binding (no central
 * call): 429 when refused, otherwise the RateLimit headers on whatever the route answers, problems
 * included. Limit is the plan's requests per minute; Remaining and Reset describe this location's
 * current minute (see LocalRequestWindow).
 */
export const tenantRateLimit: MiddlewareHandler<AppEnv> = async (c, next) => {
  const decision = await takeTenantRequest(c.env, c.var.tenant, Date.now());
  if (!decision.allowed) throw rateLimitedError(decision);
  try {
    await next();
  } finally {
    for (const [name, value] of Object.entries(rateLimitHeaders(decision))) c.res.headers.set(name, value);
  }
};
