import type { RequestRateLimit } from "../../shared/plans";
import type { SqlDatabase } from "../../shared/sql/sql-database";
import { type RateLimitDecision, takeToken } from "../../shared/token-bucket";

const REQUEST_BUCKET = "requests";

/** The tenant's request token bucket, persisted in `rate_bucket` so it survives eviction. */
export class RequestRateLimiter {
  constructor(private readonly db: SqlDatabase) {}

  consume(rate: RequestRateLimit, now: number): RateLimitDecision {
    const rows = this.db.query<{ units: number; updated_at: number }>(
      "SELECT units, updated_at FROM rate_bucket WHERE name = ?",
      [REQUEST_BUCKET],
    );
    const row = rows[0];
    const { state, decision } = takeToken(
      row === undefined ? undefined : { units: Number(row.units), updatedAt: Number(row.updated_at) },
      rate,
      now,
    );
    this.db.query(
      `INSERT INTO rate_bucket (name, units, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET units = excluded.units, updated_at = excluded.updated_at`,
      [REQUEST_BUCKET, state.units, state.updatedAt],
    );
    return decision;
  }
}
