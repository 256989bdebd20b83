import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";
import { invalidField } from "../problems/problem-response";

/** Request and response header carrying the D1 Sessions bookmark. */
export const D1_BOOKMARK_HEADER = "x-d1-bookmark";
/** D1 bookmarks are opaque; this bounds what a client may send back. */
const BOOKMARK = /^[0-9A-Za-z-]{1,256}$/;
/**
 * Public webhook deliveries carry no bookmark: their sender has no session to continue, and the
 * header would tell a known trigger id (looked up in D1) from a malformed one (never looked up).
 */
const WITHOUT_BOOKMARK = /^\/v1\/hooks\//;

/**
 * Routes every D1 query of the request through one D1 session (`withSession`), so reads may be
 * answered by a nearby read replica. A client that sends back the `x-d1-bookmark` of its previous
 * response reads at least what that response wrote or read (read-your-writes); without one the
 * first query may go to any replica. The session's latest bookmark is returned on every response
 * that touched D1.
 */
export const d1Session: MiddlewareHandler<AppEnv> = async (c, next) => {
  const bookmark = c.req.header(D1_BOOKMARK_HEADER);
  if (bookmark !== undefined && !BOOKMARK.test(bookmark)) {
    throw invalidField(D1_BOOKMARK_HEADER, "Send back the x-d1-bookmark of a previous response, unchanged", "header");
  }
  const bindings = c.env;
  let session: D1DatabaseSession | undefined;
  // Opened on the first use of DB, so requests answered at the edge open none. drizzle needs only
  // prepare() and batch(), which a session has: every `database(c.env.DB)` of the request uses it.
  c.env = Object.defineProperty({ ...bindings }, "DB", {
    enumerable: true,
    get: () => {
      session ??= bindings.DB.withSession(bookmark ?? "first-unconstrained");
      return session as unknown as D1Database;
    },
  });
  try {
    await next();
  } finally {
    const latest = session?.getBookmark();
    if (latest && !WITHOUT_BOOKMARK.test(c.req.path)) c.res.headers.set(D1_BOOKMARK_HEADER, latest);
  }
};
