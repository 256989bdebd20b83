import { eventTypeMatchesAny } from "../../shared/contracts/events";
import type { SqlDatabase } from "../../shared/sql/sql-database";

type JsonPrimitive = string | number | boolean | null;
type JsonLevel<Inner> = JsonPrimitive | Inner[] | { [key: string]: Inner };
/**
 * A JSON value, typed eight levels deep: a recursive type overwhelms the RPC stub typings
 * (TS2589). Deeper values are accepted at runtime.
 */
export type JsonValue = JsonLevel<
  JsonLevel<JsonLevel<JsonLevel<JsonLevel<JsonLevel<JsonLevel<JsonLevel<JsonPrimitive>>>>>>>
>;

export interface TenantEvent {
  /** Position in the tenant's log: strictly increasing, never reused; the cursor for readEvents. */
  id: number;
  type: string;
  data: JsonValue;
  /** Epoch ms, as the appending caller gave it (order is by id, not by this). */
  createdAt: number;
}

export interface EventPage {
  events: TenantEvent[];
  /** Pass as `after` to read on: the last id returned, or `after` itself when nothing was returned. */
  nextCursor: number;
  /** True when more events follow nextCursor right now. */
  hasMore: boolean;
}

export const DEFAULT_EVENT_PAGE = 100;
export const MAX_EVENT_PAGE = 1000;
/** Largest serialized `data` of one event. */
export const MAX_EVENT_DATA_BYTES = 64 * 1024;
/**
 * Rows one filtered read looks at, matching or not: a filter that matches nothing costs one bounded scan,
 * and the cursor moves past the rows it skipped.
 */
export const MAX_EVENT_SCAN = 2000;

export interface EventPrune {
  deleted: number;
  /** True when the call stopped at its row bound with older events possibly left: call again. */
  more: boolean;
}

type EventRow = {
  id: number;
  type: string;
  data: string;
  created_at: number;
};

/** The tenant's append-only, ordered event log (`event_log`, AUTOINCREMENT ids). */
export class EventLog {
  /**
   * `onAppend` runs after each new (not replayed) event is inserted, inside the appending
   * transaction: it may only schedule work that tolerates a rollback (the tenant object sets its
   * fan-out alarm, which finds nothing new if the event was rolled back).
   */
  constructor(
    private readonly db: SqlDatabase,
    private readonly onAppend: () => void = () => {},
  ) {}

  /** Appends one event; with an idempotency key already used, returns that event instead. */
  append(
    type: string,
    dataJson: string,
    createdAt: number,
    idempotencyKey?: string,
  ): { event: TenantEvent; replayed: boolean } {
    return this.db.transaction(() => {
      if (idempotencyKey !== undefined) {
        const existing = this.db.query<EventRow>(
          "SELECT id, type, data, created_at FROM event_log WHERE idempotency_key = ?",
          [idempotencyKey],
        )[0];
        if (existing !== undefined) {
          if (existing.type !== type) {
            throw new RangeError(
              `idempotencyKey ${JSON.stringify(idempotencyKey)} was already used for a ${existing.type} event`,
            );
          }
          return { event: toEvent(existing), replayed: true };
        }
      }
      const row = this.db.query<EventRow>(
        `INSERT INTO event_log (type, data, created_at, idempotency_key) VALUES (?, ?, ?, ?)
         RETURNING id, type, data, created_at`,
        [type, dataJson, createdAt, idempotencyKey ?? null],
      )[0] as EventRow;
      this.onAppend();
      return { event: toEvent(row), replayed: false };
    });
  }

  /**
   * Up to `limit` events after the cursor, oldest first; with `typePatterns` (normalized, see
   * eventTypeMatches) only those of matching types, looking at no more than MAX_EVENT_SCAN rows.
   * `nextCursor` is past every row looked at, so paging always advances.
   */
  read(after: number, limit: number, typePatterns?: readonly string[]): EventPage {
    const scanLimit = typePatterns === undefined ? limit : Math.max(limit, MAX_EVENT_SCAN);
    const scanned = this.db.all("SELECT id, type FROM event_log WHERE id > ? ORDER BY id LIMIT ?", [
      after,
      scanLimit + 1,
    ]) as [number, string][];
    const window = scanned.slice(0, scanLimit);
    const matched: number[] = [];
    for (const [id, type] of window) {
      if (typePatterns === undefined || eventTypeMatchesAny(typePatterns, type)) matched.push(Number(id));
      if (matched.length > limit) break;
    }
    const events = this.rowsById(matched.slice(0, limit));
    if (matched.length > limit) {
      return { events, nextCursor: (events[events.length - 1] as TenantEvent).id, hasMore: true };
    }
    const lastScanned = window[window.length - 1];
    return {
      events,
      nextCursor: lastScanned === undefined ? after : Number(lastScanned[0]),
      hasMore: scanned.length > scanLimit,
    };
  }

  /** The id of the newest event, 0 when the log is empty. */
  head(): number {
    const row = this.db.all("SELECT max(id) FROM event_log")[0];
    return Number(row?.[0] ?? 0);
  }

  /**
   * Deletes the oldest events created before `cutoff` (epoch ms), at most `maxRows` of them: the
   * log's prefix up to its first event that is not that old, so a kept event never has a deleted one
   * after it. AUTOINCREMENT keeps deleted ids from being reused.
   */
  prune(cutoff: number, maxRows: number): EventPrune {
    const oldest = this.db.all("SELECT id, created_at FROM event_log ORDER BY id LIMIT ?", [maxRows]) as [
      number,
      number,
    ][];
    let lastExpired: number | undefined;
    let reachedKept = false;
    for (const [id, createdAt] of oldest) {
      if (Number(createdAt) >= cutoff) {
        reachedKept = true;
        break;
      }
      lastExpired = Number(id);
    }
    if (lastExpired === undefined) return { deleted: 0, more: false };
    const { changes } = this.db.run("DELETE FROM event_log WHERE id <= ?", [lastExpired]);
    return { deleted: changes, more: !reachedKept && oldest.length === maxRows };
  }

  private rowsById(ids: number[]): TenantEvent[] {
    if (ids.length === 0) return [];
    const first = ids[0] as number;
    const last = ids[ids.length - 1] as number;
    if (last - first + 1 === ids.length) {
      return this.db
        .query<EventRow>("SELECT id, type, data, created_at FROM event_log WHERE id BETWEEN ? AND ? ORDER BY id", [
          first,
          last,
        ])
        .map(toEvent);
    }
    return this.db
      .query<EventRow>(
        `SELECT id, type, data, created_at FROM event_log
         WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id`,
        [JSON.stringify(ids)],
      )
      .map(toEvent);
  }
}

function toEvent(row: EventRow): TenantEvent {
  return {
    id: Number(row.id),
    type: row.type,
    data: JSON.parse(row.data) as JsonValue,
    createdAt: Number(row.created_at),
  };
}
