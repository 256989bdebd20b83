import type { MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import type { AppEnv } from "../context";
import { metricsBatch } from "../observability/metrics-batch";
import { observeRequest } from "../observability/operator-metrics";

/** The matched route template (`/v1/jobs/:id`); requests that matched no route share one name, never their URL. */
export function routeTemplate(c: Parameters<MiddlewareHandler<AppEnv>>[0]): string {
  const path = routePath(c, -1);
  return path === "" || path.endsWith("*") ? "unmatched" : path;
}

/** The request's execution context, or none where the app is driven directly (Node tests): then nothing is flushed. */
function executionContextOf(
  c: Parameters<MiddlewareHandler<AppEnv>>[0],
): { waitUntil(promise: Promise<unknown>): void } | undefined {
  try {
    return c.executionCtx;
  } catch {
    return undefined;
  }
}

/**
 * One data point and the operator counters for every request, after its answer is known. Written
 * to Analytics Engine (fire and forget) and to this isolate's metrics batch, flushed in waitUntil:
 * nothing here delays or fails a request.
 */
export const requestMetrics: MiddlewareHandler<AppEnv> = async (c, next) => {
  const started = Date.now();
  try {
    await next();
  } finally {
    try {
      const tenant = c.var.tenant;
      observeRequest(c.env, {
        tenant: tenant ? { id: tenant.id, plan: tenant.plan } : undefined,
        method: c.req.method,
        route: routeTemplate(c),
        status: c.res.status,
        durationMs: Date.now() - started,
        responseBytes: Number(c.res.headers.get("content-length") ?? 0) || 0,
        problemType: c.var.problemType,
        traceId: c.var.traceId,
      });
      const ctx = executionContextOf(c);
      if (ctx) metricsBatch.scheduleFlush(c.env, ctx);
    } catch (error) {
      console.error(JSON.stringify({ level: "error", msg: "request metrics failed", error: String(error) }));
    }
  }
};
