import type { MiddlewareHandler } from "hono";
import type { PlanName } from "../../shared/plans";
import type { AppEnv } from "../context";
import { tenantObject } from "../tenant-object-stub";
import { rateLimitedError, rateLimitHeaders } from "./rate-limit-headers";

/**
 * Takes one token from the authenticated tenant's request bucket (one Durable Object call): 429
 * when it is empty, otherwise the RateLimit headers on whatever the route answers, problems included.
 */
export const tenantRateLimit: MiddlewareHandler<AppEnv> = async (c, next) => {
  const { tenant } = c.var;
  const decision = await tenantObject(c.env, tenant).consumeRequest({ plan: tenant.plan as PlanName, now: Date.now() });
  if (!decision.allowed) throw rateLimitedError(decision);
  try {
    await next();
  } finally {
    for (const [name, value] of Object.entries(rateLimitHeaders(decision))) c.res.headers.set(name, value);
  }
};
