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

  read(after: number, limit: number): EventPage {
    const rows = this.db.query<EventRow>(
      "SELECT id, type, data, created_at FROM event_log WHERE id > ? ORDER BY id LIMIT ?",
      [after, limit + 1],
    );
    const hasMore = rows.length > limit;
    const events = rows.slice(0, limit).map(toEvent);
    const last = events[events.length - 1];
    return { events, nextCursor: last === undefined ? after : last.id, hasMore };
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
