import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";
import { requestUsageBatch } from "./request-usage-batch";

/** Used when USAGE_FLUSH_DELAY_MS is missing or not a positive number. */
const DEFAULT_USAGE_FLUSH_DELAY_MS = 5_000;

/** `get:graphs` for GET /v1/graphs/…: the class a request is counted under in the tenant's usage. */
export function routeClassOf(method: string, routePath: string): string {
  return `${method.toLowerCase()}:${routePath.split("/")[2] ?? "root"}`;
}

/** How long a request count may wait in the isolate's batch before it is written (the usage delay). */
export function usageFlushDelayMs(env: Env): number {
  const configured = Number(env.USAGE_FLUSH_DELAY_MS);
  return Number.isFinite(configured) && configured > 0 ? configured : DEFAULT_USAGE_FLUSH_DELAY_MS;
}

/**
 * Counts the request, with the status it was answered with, in the tenant's daily usage. The count
 * joins this isolate's batch, written after the response (waitUntil) at most USAGE_FLUSH_DELAY_MS
 * later, so metering never delays or fails a request and costs no central call on its path.
 */
export const meterRequest: MiddlewareHandler<AppEnv> = async (c, next) => {
  try {
    await next();
  } finally {
    requestUsageBatch.add(c.var.tenant, routeClassOf(c.req.method, c.req.routePath), c.res.status, Date.now());
    requestUsageBatch.scheduleFlush(c.env, c.executionCtx, usageFlushDelayMs(c.env), Date.now);
  }
};
