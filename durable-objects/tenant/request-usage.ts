import { dayPeriod } from "../../shared/plans";
import type { SqlDatabase } from "../../shared/sql/sql-database";

/** Days of request counters kept; older days are dropped as new requests are recorded. */
export const REQUEST_USAGE_RETENTION_DAYS = 400;

export interface RequestUsage {
  /** UTC day, `YYYY-MM-DD`. */
  day: string;
  routeClass: string;
  requests: number;
  /** Responses with a 4xx status (429 included). */
  clientErrors: number;
  /** Responses with a 5xx status. */
  serverErrors: number;
  /** SPARQL queries answered, and the milliseconds they took (counted in the month's usage, not per route class). */
  sparqlQueries?: number;
  sparqlMs?: number;
  /** Milliseconds spent rendering previews (counted in the month's usage). */
  renderMs?: number;
}

/** Request counters per UTC day and route class, for metering and billing rollups. */
export class RequestUsageCounters {
  constructor(private readonly db: SqlDatabase) {}

  /** Adds counts gathered elsewhere (a Worker's batch), all in one transaction. */
  recordAll(counts: RequestUsage[], now: number): void {
    this.db.transaction(() => {
      for (const count of counts) this.add(count);
      this.dropDaysBefore(now);
    });
  }

  private add(count: RequestUsage): RequestUsage {
    const row = this.db.query<{ requests: number; client_errors: number; server_errors: number }>(
      `INSERT INTO request_usage (day, route_class, requests, client_errors, server_errors) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (day, route_class) DO UPDATE SET
         requests = requests + excluded.requests,
         client_errors = client_errors + excluded.client_errors,
         server_errors = server_errors + excluded.server_errors
       RETURNING requests, client_errors, server_errors`,
      [count.day, count.routeClass, count.requests, count.clientErrors, count.serverErrors],
    )[0];
    return {
      day: count.day,
      routeClass: count.routeClass,
      requests: Number(row?.requests),
      clientErrors: Number(row?.client_errors),
      serverErrors: Number(row?.server_errors),
    };
  }

  private dropDaysBefore(now: number): void {
    const oldestKept = dayPeriod(now - (REQUEST_USAGE_RETENTION_DAYS - 1) * 86_400_000);
    this.db.query("DELETE FROM request_usage WHERE day < ?", [oldestKept]);
  }

  /** Counters for days in [fromDay, toDay] (both optional, inclusive), ordered by day then route class. */
  list(fromDay = "0000-00-00", toDay = "9999-99-99"): RequestUsage[] {
    return this.db
      .query<{ day: string; route_class: string; requests: number; client_errors: number; server_errors: number }>(
        `SELECT day, route_class, requests, client_errors, server_errors FROM request_usage
         WHERE day >= ? AND day <= ? ORDER BY day, route_class`,
        [fromDay, toDay],
      )
      .map((row) => ({
        day: row.day,
        routeClass: row.route_class,
        requests: Number(row.requests),
        clientErrors: Number(row.client_errors),
        serverErrors: Number(row.server_errors),
      }));
  }
}

export interface RecordRequestsInput {
  /** The caller's clock, epoch ms: days older than the retention are dropped relative to it. */
  now: number;
  /** At most MAX_REQUEST_COUNTS counts, each for one day and route class. */
  counts: RequestUsage[];
}

export const MAX_REQUEST_COUNTS = 500;

/** What a route class looks like, e.g. `get:graphs`. */
export const ROUTE_CLASS = /^[a-z0-9][a-z0-9._:-]{0,63}$/;
