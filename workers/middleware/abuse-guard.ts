import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";
import { HttpError } from "../problems/http-error";

/**
 * Coarse per-client guard (Workers rate-limit binding) in front of everything, so floods are cut
 * before they cost a D1 lookup; the per-plan limit is the plan's binding keyed by tenant (tenant-rate-limit.ts).
 */
export const abuseGuard: MiddlewareHandler<AppEnv> = async (c, next) => {
  const client = c.req.header("cf-connecting-ip") ?? "local";
  const { success } = await c.env.ABUSE_LIMITER.limit({ key: client });
  if (!success) {
    throw new HttpError(429, "rate-limited", "Too Many Requests", "Too many requests from this client.", {
      headers: { "Retry-After": "60" },
    });
  }
  await next();
};
