import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";

/** The host of cache keys: never resolvable, so a key can only be read back through this cache. */
const CACHE_KEY_ORIGIN = "https://edge-content.kgen.invalid";
/** The caching the client gets, stored beside the response (the stored copy itself must be public). */
const CLIENT_CACHE_CONTROL = "x-kgen-client-cache-control";
export const EDGE_CACHE_HEADER = "x-kgen-edge-cache";
/**
 * Longer keys (a long SPARQL query, a long Accept) are answered without the cache: the cache's own
 * limit on a key's URL is of this order, and such requests are rarely repeated.
 */
export const MAX_CACHE_KEY_LENGTH = 8192;

/** The location's cache entry name for a tenant's request: tenant, path, query and Accept. */
export function edgeContentKey(tenantId: string, url: string, accept: string | undefined): Request {
  const { pathname, search } = new URL(url);
  const key = new URL(`${CACHE_KEY_ORIGIN}/t/${encodeURIComponent(tenantId)}${pathname}${search}`);
  key.searchParams.set("kgen-accept", accept ?? "");
  return new Request(key);
}

const opaqueTag = (tag: string) => tag.trim().replace(/^W\//, "");

/** If-None-Match compares weakly (RFC 9110, 13.1.2): `W/"x"` and `"x"` match. */
function etagMatches(ifNoneMatch: string | undefined, etag: string | null): boolean {
  if (!ifNoneMatch || !etag) return false;
  return ifNoneMatch.split(",").some((tag) => opaqueTag(tag) === opaqueTag(etag));
}

/** Which requests of a route the cache answers: all of them unless a route says otherwise. */
export type EdgeCacheableRequest = (c: Context<AppEnv>) => boolean;

/**
 * Serves a route's immutable 200 answers from the location's cache (`caches.default`), keyed by the
 * verified tenant: place it after `tenantRequest` and the role check, so a refused credential is
 * refused even when the content is cached, and one tenant's entry is never another's. A miss runs
 * the route and stores its 200 after the response (waitUntil), unless the route marked that answer
 * `no-store`. If-None-Match matching the ETag answers 304, from the cache or after the miss.
 */
export function edgeContentCache(cacheable: EdgeCacheableRequest = () => true): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!cacheable(c)) return next();
    const key = edgeContentKey(c.var.tenant.id, c.req.url, c.req.header("accept"));
    if (key.url.length > MAX_CACHE_KEY_LENGTH) return next();
    const cache = caches.default;
    const hit = await cache.match(key);
    if (hit) {
      const headers = new Headers(hit.headers);
      headers.set("cache-control", headers.get(CLIENT_CACHE_CONTROL) ?? "private, no-store");
      headers.delete(CLIENT_CACHE_CONTROL);
      headers.set(EDGE_CACHE_HEADER, "hit");
      // The stored answer's timings are those of the miss that made it.
      headers.delete("server-timing");
      if (etagMatches(c.req.header("if-none-match"), headers.get("etag"))) return notModified(headers);
      return new Response(hit.body, { status: 200, headers });
    }
    await next();
    if (c.res.status !== 200 || /\bno-store\b/.test(c.res.headers.get("cache-control") ?? "")) return;
    const stored = c.res.clone();
    const headers = new Headers(stored.headers);
    headers.set(CLIENT_CACHE_CONTROL, headers.get("cache-control") ?? "private, no-store");
    headers.set("cache-control", "public, max-age=31536000, immutable");
    c.executionCtx.waitUntil(cache.put(key, new Response(stored.body, { status: 200, headers })));
    c.res.headers.set(EDGE_CACHE_HEADER, "miss");
    if (etagMatches(c.req.header("if-none-match"), c.res.headers.get("etag"))) {
      const answered = c.res;
      c.res = notModified(new Headers(answered.headers));
      // Hono carries the answer's headers over to the replacement: a 304 has no body to measure.
      c.res.headers.delete("content-length");
      await answered.body?.cancel();
    }
  };
}

function notModified(headers: Headers): Response {
  headers.delete("content-length");
  headers.delete("content-type");
  return new Response(null, { status: 304, headers });
}

/** Graph reads that name a version's content hash (`?hash=`): only their answers never change. */
export const pinsContentHash: EdgeCacheableRequest = (c) => c.req.query("hash") !== undefined;

/** Every request of the route: its answers never change (artifact bytes, attestations). */
export const cacheImmutableContent = edgeContentCache();
