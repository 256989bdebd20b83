import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";
import { childTrace, formatTraceparent, parseTraceparent } from "../observability/trace-context";
import { routeTemplate } from "./request-metrics";

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Request id (kept when the client sent a sane one), W3C trace context (our span as a child of the
 * caller's), and one JSON log line per request. Credentials never reach the log.
 */
export const requestContext: MiddlewareHandler<AppEnv> = async (c, next) => {
  const started = Date.now();
  const incomingId = c.req.header("x-request-id");
  const requestId = incomingId && REQUEST_ID.test(incomingId) ? incomingId : crypto.randomUUID();
  const parent = parseTraceparent(c.req.header("traceparent"));
  const trace = childTrace(c.req.header("traceparent"));
  const { traceId, spanId } = trace;
  c.set("requestId", requestId);
  c.set("traceId", traceId);
  c.set("spanId", spanId);
  c.set("traceparent", formatTraceparent(trace));

  await next();

  c.res.headers.set("X-Request-Id", requestId);
  c.res.headers.set("traceparent", formatTraceparent(trace));
  const principal = c.var.principal;
  console.log(
    JSON.stringify({
      level: c.res.status >= 500 ? "error" : "info",
      msg: "request",
      requestId,
      traceId,
      spanId,
      parentSpanId: parent?.spanId,
      method: c.req.method,
      route: c.var.routeName ?? routeTemplate(c),
      status: c.res.status,
      durationMs: Date.now() - started,
      tenant: principal?.tenantId,
      credential: principal?.credential,
      colo: (c.req.raw.cf as { colo?: string } | undefined)?.colo,
    }),
  );
};
