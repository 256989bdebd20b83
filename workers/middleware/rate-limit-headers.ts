import type { RateLimitDecision } from "../../shared/token-bucket";
import { HttpError } from "../problems/http-error";

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
