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
}

/** Request counters per UTC day and route class, for metering and billing rollups. */
export class RequestUsageCounters {
  constructor(private readonly db: SqlDatabase) {}

  record(now: number, routeClass: string, status: number): RequestUsage {
    const day = dayPeriod(now);
    const clientError = status >= 400 && status < 500 ? 1 : 0;
    const serverError = status >= 500 ? 1 : 0;
    return this.db.transaction(() => {
      const row = this.db.query<{ requests: number; client_errors: number; server_errors: number }>(
        `INSERT INTO request_usage (day, route_class, requests, client_errors, server_errors) VALUES (?, ?, 1, ?, ?)
         ON CONFLICT (day, route_class) DO UPDATE SET
           requests = requests + 1,
           client_errors = client_errors + excluded.client_errors,
           server_errors = server_errors + excluded.server_errors
         RETURNING requests, client_errors, server_errors`,
        [day, routeClass, clientError, serverError],
      )[0];
      const oldestKept = dayPeriod(now - (REQUEST_USAGE_RETENTION_DAYS - 1) * 86_400_000);
      this.db.query("DELETE FROM request_usage WHERE day < ?", [oldestKept]);
      return {
        day,
        routeClass,
        requests: Number(row?.requests),
        clientErrors: Number(row?.client_errors),
        serverErrors: Number(row?.server_errors),
      };
    });
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
