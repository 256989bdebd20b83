/**
 * When a failed delivery is tried again. Ten attempts over about a day: the n-th retry waits
 * RETRY_DELAYS_SECONDS[n-1], ±10 % jitter so endpoints that failed together are not retried together.
 * The queue's max_retries (wrangler.toml, kgen-deliver) is RETRY_DELAYS_SECONDS.length; after the last
 * retry the message goes to the dead-letter queue, which records the delivery as failed.
 */
export const RETRY_DELAYS_SECONDS = [
  30,
  2 * 60,
  10 * 60,
  30 * 60,
  60 * 60,
  2 * 60 * 60,
  4 * 60 * 60,
  8 * 60 * 60,
  10 * 60 * 60,
] as const;

/** The longest delay Queues accepts for a retry (12 hours); a longer Retry-After is capped to it. */
export const MAX_RETRY_DELAY_SECONDS = 12 * 60 * 60;
const JITTER = 0.1;

/**
 * The delay before the retry that follows attempt number `attempts` (1 = the first attempt failed).
 * `random` is in [0, 1); `retryAfterSeconds` (from the receiver's Retry-After) is a lower bound.
 */
export function retryDelaySeconds(attempts: number, random: number, retryAfterSeconds: number | null = null): number {
  const index = Math.min(Math.max(attempts, 1), RETRY_DELAYS_SECONDS.length) - 1;
  const base = RETRY_DELAYS_SECONDS[index] as number;
  const jittered = Math.round(base * (1 - JITTER + 2 * JITTER * random));
  const delay = retryAfterSeconds === null ? jittered : Math.max(jittered, retryAfterSeconds);
  return Math.min(delay, MAX_RETRY_DELAY_SECONDS);
}

/** `Retry-After` as seconds from `now` (epoch ms): delta-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number): number | null {
  if (value === null) return null;
  const text = value.trim();
  if (/^[0-9]{1,10}$/.test(text)) return Math.min(Number(text), MAX_RETRY_DELAY_SECONDS);
  if (!/[a-z]/i.test(text)) return null;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  return Math.min(Math.max(0, Math.ceil((at - now) / 1000)), MAX_RETRY_DELAY_SECONDS);
}
