import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";

/** What a response may be cached as when its route says nothing: responses carry tenant data and secrets. */
export const DEFAULT_CACHE_CONTROL = "private, no-store";

/**
 * `X-Content-Type-Options: nosniff` on every response, and `Cache-Control: private, no-store` on
 * every response whose route did not choose its own caching (public keys, immutable content).
 */
export const responseHeaders: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  c.res.headers.set("X-Content-Type-Options", "nosniff");
  if (!c.res.headers.has("cache-control")) c.res.headers.set("Cache-Control", DEFAULT_CACHE_CONTROL);
};
