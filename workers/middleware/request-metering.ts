import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";
import { tenantObject } from "../tenant-object-stub";

/** `get:graphs` for GET /v1/graphs/…: the class a request is counted under in the tenant's usage. */
export function routeClassOf(method: string, routePath: string): string {
  return `${method.toLowerCase()}:${routePath.split("/")[2] ?? "root"}`;
}

/**
 * Counts the request, with the status it was answered with, in the tenant's daily usage. The count
 * is written after the response (waitUntil), so metering never delays or fails a request.
 */
export const meterRequest: MiddlewareHandler<AppEnv> = async (c, next) => {
  try {
    await next();
  } finally {
    const routeClass = routeClassOf(c.req.method, c.req.routePath);
    c.executionCtx.waitUntil(
      tenantObject(c.env, c.var.tenant).recordRequest({ now: Date.now(), routeClass, status: c.res.status }),
    );
  }
};
