import type { QuotaCounter } from "../../shared/plans";
import type { SqlDatabase } from "../../shared/sql/sql-database";

/** Period key of counters that never reset (triples, templates, stored artifact bytes). */
export const TOTAL_PERIOD = "total";

/** Applied idempotency keys kept (reserve and release together); the oldest are forgotten first. */
export const IDEMPOTENCY_KEYS_KEPT = 10_000;

export interface QuotaReservation {
  granted: boolean;
  /** Counter value after this call. */
  used: number;
  limit: number;
  /** True when the idempotency key was already applied: nothing was counted again. */
  replayed: boolean;
}

export interface QuotaRelease {
  /** Units taken off by this call (at most what was used; 0 on replay). */
  released: number;
  used: number;
  replayed: boolean;
}

export interface QuotaUsage {
  counter: QuotaCounter;
  period: string;
  used: number;
}

export interface QuotaRequest {
  counter: QuotaCounter;
  period: string;
  amount: number;
  limit: number;
  key?: string;
}

export interface QuotaBatchReservation {
  /** True when every request was granted (or replayed); false when nothing was counted. */
  granted: boolean;
  /**
   * One per request, in order, with the counter's value after the call. When the batch is denied,
   * `granted` says whether that request would have fit after the ones before it.
   */
  reservations: (QuotaReservation & { counter: QuotaCounter; period: string })[];
}

interface Operation {
  counter: string;
  period: string;
  amount: number;
}

/** Quota counters per (counter, period) with idempotent check-and-add and release. */
export class QuotaCounters {
  constructor(private readonly db: SqlDatabase) {}

  reserve(counter: QuotaCounter, period: string, amount: number, limit: number, key?: string): QuotaReservation {
    return this.db.transaction(() => {
      if (key !== undefined && this.findOperation("reserve", key, { counter, period, amount })) {
        return { granted: true, used: this.used(counter, period), limit, replayed: true };
      }
      const used = this.used(counter, period);
      if (amount > limit - used) return { granted: false, used, limit, replayed: false };
      this.write(counter, period, used + amount);
      if (key !== undefined) this.recordOperation("reserve", key, { counter, period, amount });
      return { granted: true, used: used + amount, limit, replayed: false };
    });
  }

  /** Reserves all requests or none: one atomic check-and-add over several counters. */
  reserveAll(requests: readonly QuotaRequest[]): QuotaBatchReservation {
    const keys = requests.flatMap((request) => (request.key === undefined ? [] : [request.key]));
    if (new Set(keys).size !== keys.length) throw new RangeError("idempotency keys must differ within one batch");
    return this.db.transaction(() => {
      const pending = new Map<string, number>();
      const checks = requests.map((request) => {
        const { counter, period, amount, limit, key } = request;
        const replayed = key !== undefined && this.findOperation("reserve", key, { counter, period, amount });
        const slot = `${counter}/${period}`;
        const used = this.used(counter, period) + (pending.get(slot) ?? 0);
        const fits = replayed || amount <= limit - used;
        if (fits && !replayed) pending.set(slot, (pending.get(slot) ?? 0) + amount);
        return { fits, replayed };
      });
      if (checks.every((check) => check.fits)) {
        const reservations = requests.map((request) => ({
          counter: request.counter,
          period: request.period,
          ...this.reserve(request.counter, request.period, request.amount, request.limit, request.key),
        }));
        return { granted: true, reservations };
      }
      const reservations = requests.map((request, index) => ({
        counter: request.counter,
        period: request.period,
        granted: checks[index]?.fits === true,
        used: this.used(request.counter, request.period),
        limit: request.limit,
        replayed: checks[index]?.replayed === true,
      }));
      return { granted: false, reservations };
    });
  }

  release(counter: QuotaCounter, period: string, amount: number, key?: string): QuotaRelease {
    return this.db.transaction(() => {
      if (key !== undefined && this.findOperation("release", key, { counter, period, amount })) {
        return { released: 0, used: this.used(counter, period), replayed: true };
      }
      const used = this.used(counter, period);
      const released = Math.min(used, amount);
      this.write(counter, period, used - released);
      if (key !== undefined) this.recordOperation("release", key, { counter, period, amount });
      return { released, used: used - released, replayed: false };
    });
  }

  /**
   * Gives back what was reserved under `reserveKey` (its counter, period and amount), once per `releaseKey`;
   * nothing when no such reservation is remembered.
   */
  releaseReservation(reserveKey: string, releaseKey: string): QuotaRelease {
    const [reserved] = this.db.query<{ counter: QuotaCounter; period: string; amount: number }>(
      "SELECT counter, period, amount FROM quota_operation WHERE kind = 'reserve' AND idempotency_key = ?",
      [reserveKey],
    );
    if (reserved === undefined) return { released: 0, used: 0, replayed: false };
    return this.release(reserved.counter, reserved.period, Number(reserved.amount), releaseKey);
  }

  list(period?: string): QuotaUsage[] {
    const rows =
      period === undefined
        ? this.db.query<{ counter: QuotaCounter; period: string; used: number }>(
            "SELECT counter, period, used FROM quota_usage ORDER BY counter, period",
          )
        : this.db.query<{ counter: QuotaCounter; period: string; used: number }>(
            "SELECT counter, period, used FROM quota_usage WHERE period = ? ORDER BY counter",
            [period],
          );
    return rows.map((row) => ({ counter: row.counter, period: row.period, used: Number(row.used) }));
  }

  private used(counter: QuotaCounter, period: string): number {
    const rows = this.db.query<{ used: number }>("SELECT used FROM quota_usage WHERE counter = ? AND period = ?", [
      counter,
      period,
    ]);
    return rows.length === 0 ? 0 : Number(rows[0]?.used);
  }

  private write(counter: QuotaCounter, period: string, used: number): void {
    this.db.query(
      `INSERT INTO quota_usage (counter, period, used) VALUES (?, ?, ?)
       ON CONFLICT (counter, period) DO UPDATE SET used = excluded.used`,
      [counter, period, used],
    );
  }

  /** True when `key` was applied; a key reused with other arguments is a caller bug. */
  private findOperation(kind: "reserve" | "release", key: string, expected: Operation): boolean {
    const row = this.db.query<{ counter: string; period: string; amount: number }>(
      "SELECT counter, period, amount FROM quota_operation WHERE kind = ? AND idempotency_key = ?",
      [kind, key],
    )[0];
    if (row === undefined) return false;
    if (row.counter !== expected.counter || row.period !== expected.period || Number(row.amount) !== expected.amount) {
      throw new RangeError(
        `idempotencyKey ${JSON.stringify(key)} was already used for ${kind} of ${row.amount} ${row.counter} in ${row.period}`,
      );
    }
    return true;
  }

  private recordOperation(kind: "reserve" | "release", key: string, op: Operation): void {
    const inserted = this.db.query<{ seq: number }>(
      `INSERT INTO quota_operation (kind, idempotency_key, counter, period, amount) VALUES (?, ?, ?, ?, ?)
       RETURNING seq`,
      [kind, key, op.counter, op.period, op.amount],
    )[0];
    const seq = Number(inserted?.seq);
    // Keys of the newest IDEMPOTENCY_KEYS_KEPT operations are kept, far longer than any redelivery
    // window; pruning by primary-key range every 100 operations keeps it cheap.
    if (seq % 100 === 0) this.db.query("DELETE FROM quota_operation WHERE seq <= ?", [seq - IDEMPOTENCY_KEYS_KEPT]);
  }
}
