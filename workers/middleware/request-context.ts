import type { MiddlewareHandler } from "hono";
import { bytesToHex } from "../../shared/core/encoding";
import type { AppEnv } from "../context";

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

const randomHex = (bytes: number) => bytesToHex(crypto.getRandomValues(new Uint8Array(bytes)));

/**
 * Request id (kept when the client sent a sane one), W3C trace context (our span as a child of the
 * caller's), and one JSON log line per request. Credentials never reach the log.
 */
export const requestContext: MiddlewareHandler<AppEnv> = async (c, next) => {
  const started = Date.now();
  const incomingId = c.req.header("x-request-id");
  const requestId = incomingId && REQUEST_ID.test(incomingId) ? incomingId : crypto.randomUUID();
  const parent = TRACEPARENT.exec(c.req.header("traceparent") ?? "");
  const traceId = parent?.[1] && !/^0+$/.test(parent[1]) ? parent[1] : randomHex(16);
  const spanId = randomHex(8);
  const flags = parent?.[3] ?? "01";
  c.set("requestId", requestId);
  c.set("traceId", traceId);
  c.set("spanId", spanId);

  await next();

  c.res.headers.set("X-Request-Id", requestId);
  c.res.headers.set("traceparent", `00-${traceId}-${spanId}-${flags}`);
  const principal = c.var.principal;
  console.log(
    JSON.stringify({
      level: c.res.status >= 500 ? "error" : "info",
      msg: "request",
      requestId,
      traceId,
      spanId,
      parentSpanId: parent?.[2],
      method: c.req.method,
      route: c.var.routeName ?? c.req.routePath,
      status: c.res.status,
      durationMs: Date.now() - started,
      tenant: principal?.tenantId,
      credential: principal?.credential,
      colo: (c.req.raw.cf as { colo?: string } | undefined)?.colo,
    }),
  );
};
