import { HttpError } from "../problems/http-error";

/** A rate-limit answer for one request; plain data that this module turns into headers. */
export interface RateLimitDecision {
  allowed: boolean;
  /** Bucket capacity: requests allowed in a burst. */
  limit: number;
  /** Whole tokens left after this request. */
  remaining: number;
  /** Seconds until the bucket is full again. */
  resetSeconds: number;
  /** Seconds until one token is available (0 when allowed). */
  retryAfterSeconds: number;
}

/**
 * Response headers for a rate-limit decision: `RateLimit-Limit`, `RateLimit-Remaining` and
 * `RateLimit-Reset` (delta seconds) always, `Retry-After` (delta seconds) when denied.
 */
export function rateLimitHeaders(decision: RateLimitDecision): Record<string, string> {
  const headers: Record<string, string> = {
    "RateLimit-Limit": String(decision.limit),
    "RateLimit-Remaining": String(decision.remaining),
    "RateLimit-Reset": String(decision.resetSeconds),
  };
  if (!decision.allowed) headers["Retry-After"] = String(Math.max(1, decision.retryAfterSeconds));
  return headers;
}

/** The 429 problem for a denied decision, carrying its headers (type `rate-limited`). */
export function rateLimitedError(decision: RateLimitDecision): HttpError {
  const retryAfter = Math.max(1, decision.retryAfterSeconds);
  return new HttpError(
    429,
    "rate-limited",
    "Too Many Requests",
    `Request rate limit of ${decision.limit} exceeded; retry in ${retryAfter} s`,
    { headers: rateLimitHeaders(decision), extensions: { retryAfterSeconds: retryAfter } },
  );
}
