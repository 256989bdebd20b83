import type { RequestRateLimit } from "./plans";

/**
 * Bucket fill in integer units: one token is 60,000 units, so a rate of N tokens per minute
 * adds exactly N units per millisecond and the arithmetic never rounds.
 */
export const UNITS_PER_TOKEN = 60_000;

export interface TokenBucketState {
  units: number;
  /** Epoch ms up to which refill has been credited. */
  updatedAt: number;
}

/** Outcome of taking one request token; plain data, the HTTP layer turns it into headers. */
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
 * Refills `state` up to `now` and takes one token if there is one. A missing state is a full
 * bucket. A `now` earlier than the last update (clock skew between callers) credits nothing
 * and never moves the bucket back in time.
 */
export function takeToken(
  state: TokenBucketState | undefined,
  rate: RequestRateLimit,
  now: number,
): { state: TokenBucketState; decision: RateLimitDecision } {
  const capacityUnits = rate.capacity * UNITS_PER_TOKEN;
  const unitsPerMs = rate.refillPerMinute;
  let units: number;
  let updatedAt: number;
  if (state === undefined) {
    units = capacityUnits;
    updatedAt = now;
  } else {
    const msToFill = Math.ceil(capacityUnits / unitsPerMs);
    const elapsed = Math.min(Math.max(0, now - state.updatedAt), msToFill);
    units = Math.min(capacityUnits, state.units + elapsed * unitsPerMs);
    updatedAt = Math.max(state.updatedAt, now);
  }
  const allowed = units >= UNITS_PER_TOKEN;
  if (allowed) units -= UNITS_PER_TOKEN;
  const decision: RateLimitDecision = {
    allowed,
    limit: rate.capacity,
    remaining: Math.floor(units / UNITS_PER_TOKEN),
    resetSeconds: Math.ceil((capacityUnits - units) / unitsPerMs / 1000),
    retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((UNITS_PER_TOKEN - units) / unitsPerMs / 1000)),
  };
  return { state: { units, updatedAt }, decision };
}
