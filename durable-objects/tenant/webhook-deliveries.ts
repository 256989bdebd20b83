import { CLOUD_EVENT_TYPE_PREFIX } from "../../shared/contracts/events";
import type {
  WebhookAttemptView,
  WebhookDeliveryDetailView,
  WebhookDeliveryView,
} from "../../shared/contracts/webhooks";
import type { SqlDatabase } from "../../shared/sql/sql-database";
import { notFound } from "../../workers/problems/problem-response";

export type DeliveryStatus = "pending" | "delivered" | "failed";

/** One attempt as the consumer reports it. */
export interface AttemptReport {
  succeeded: boolean;
  responseStatus: number | null;
  latencyMs: number;
  /** At most MAX_RECORDED_RESPONSE_CHARS are kept. */
  responseBody: string | null;
  error: string | null;
  attemptedAt: number;
}

export const MAX_RECORDED_RESPONSE_CHARS = 1024;
/** Attempts one delivery shows: the latest ones (redeliveries can add attempts without end). */
export const MAX_LISTED_ATTEMPTS = 50;
const MAX_ERROR_CHARS = 1000;

type DeliveryRow = {
  id: string;
  webhook_id: string;
  event_id: number | null;
  event_type: string;
  payload: string | null;
  status: DeliveryStatus;
  attempts: number;
  last_error: string | null;
  created_at: number;
  updated_at: number;
};

type AttemptRow = {
  delivery_id: string;
  attempt: number;
  succeeded: number;
  response_status: number | null;
  latency_ms: number;
  response_body: string | null;
  error: string | null;
  attempted_at: number;
};

export interface DeliveryListCursor {
  createdAt: number;
  id: string;
}

/** Deliveries (one per webhook and event, or per test) and their attempts. */
export class WebhookDeliveries {
  constructor(private readonly db: SqlDatabase) {}

  /**
   * The delivery of an event to a webhook, created at most once (unique per webhook and event).
   * Returns its id when it still has to be sent: new, or never attempted.
   */
  ensureForEvent(id: string, webhookId: string, eventId: number, eventType: string, now: number): string | null {
    this.db.run(
      `INSERT INTO webhook_delivery (id, webhook_id, event_id, event_type, status, created_at, updated_at)
       VALUES (?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT (webhook_id, event_id) DO NOTHING`,
      [id, webhookId, eventId, eventType, now, now],
    );
    const row = this.db.query<Pick<DeliveryRow, "id" | "status" | "attempts">>(
      "SELECT id, status, attempts FROM webhook_delivery WHERE webhook_id = ? AND event_id = ?",
      [webhookId, eventId],
    )[0];
    return row !== undefined && row.status === "pending" && Number(row.attempts) === 0 ? row.id : null;
  }

  /** A delivery of a synthetic event that is not in the log (the test route): its payload is stored with it. */
  createSynthetic(id: string, webhookId: string, eventType: string, payload: string, now: number): void {
    this.db.run(
      `INSERT INTO webhook_delivery (id, webhook_id, event_id, event_type, payload, status, created_at, updated_at)
       VALUES (?, ?, NULL, ?, ?, 'pending', ?, ?)`,
      [id, webhookId, eventType, payload, now, now],
    );
  }

  /** Drops up to `limit` finished deliveries (and their attempts) created before `before`; returns how many. */
  prune(before: number, limit: number): number {
    const stale =
      "SELECT id FROM webhook_delivery WHERE created_at < ? AND status <> 'pending' ORDER BY created_at LIMIT ?";
    return this.db.transaction(() => {
      this.db.run(`DELETE FROM webhook_attempt WHERE delivery_id IN (${stale})`, [before, limit]);
      return this.db.run(`DELETE FROM webhook_delivery WHERE id IN (${stale})`, [before, limit]).changes;
    });
  }

  remove(id: string): void {
    this.db.run("DELETE FROM webhook_attempt WHERE delivery_id = ?", [id]);
    this.db.run("DELETE FROM webhook_delivery WHERE id = ?", [id]);
  }

  find(id: string): DeliveryRow | undefined {
    return this.db.query<DeliveryRow>("SELECT * FROM webhook_delivery WHERE id = ?", [id])[0];
  }

  /** The delivery of that webhook, or 404 (another webhook's delivery id is not found either). */
  ofWebhook(webhookId: string, id: string): DeliveryRow {
    const row = this.find(id);
    if (row === undefined || row.webhook_id !== webhookId) throw notFound("The delivery");
    return row;
  }

  setStatus(id: string, status: DeliveryStatus, lastError: string | null, now: number): void {
    this.db.run("UPDATE webhook_delivery SET status = ?, last_error = ?, updated_at = ? WHERE id = ?", [
      status,
      lastError === null ? null : lastError.slice(0, MAX_ERROR_CHARS),
      now,
      id,
    ]);
  }

  /** Records the next attempt (numbered after the ones before) and returns its number. */
  recordAttempt(id: string, report: AttemptReport): number {
    const attempt =
      Number(this.db.query<{ n: number }>("SELECT attempts AS n FROM webhook_delivery WHERE id = ?", [id])[0]?.n ?? 0) +
      1;
    const error = report.error === null ? null : report.error.slice(0, MAX_ERROR_CHARS);
    this.db.run(
      `INSERT INTO webhook_attempt (delivery_id, attempt, succeeded, response_status, latency_ms, response_body, error, attempted_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        id,
        attempt,
        report.succeeded ? 1 : 0,
        report.responseStatus,
        report.latencyMs,
        report.responseBody === null ? null : report.responseBody.slice(0, MAX_RECORDED_RESPONSE_CHARS),
        error,
        report.attemptedAt,
      ],
    );
    // A late failure of a duplicate message never takes back a delivery that has succeeded.
    this.db.run(
      `UPDATE webhook_delivery SET attempts = ?, updated_at = ?,
         status = CASE WHEN status = 'delivered' THEN status ELSE ? END,
         last_error = CASE WHEN status = 'delivered' THEN last_error ELSE ? END
       WHERE id = ?`,
      [attempt, report.attemptedAt, report.succeeded ? "delivered" : "pending", error, id],
    );
    return attempt;
  }

  /** A webhook's deliveries, newest first. */
  list(webhookId: string, limit: number, before?: DeliveryListCursor): DeliveryRow[] {
    return before === undefined
      ? this.db.query<DeliveryRow>(
          "SELECT * FROM webhook_delivery WHERE webhook_id = ? ORDER BY created_at DESC, id DESC LIMIT ?",
          [webhookId, limit + 1],
        )
      : this.db.query<DeliveryRow>(
          `SELECT * FROM webhook_delivery WHERE webhook_id = ? AND (created_at < ? OR (created_at = ? AND id < ?))
           ORDER BY created_at DESC, id DESC LIMIT ?`,
          [webhookId, before.createdAt, before.createdAt, before.id, limit + 1],
        );
  }

  view(row: DeliveryRow): WebhookDeliveryView {
    const last = this.db.query<AttemptRow>(
      "SELECT * FROM webhook_attempt WHERE delivery_id = ? ORDER BY attempt DESC LIMIT 1",
      [row.id],
    )[0];
    return {
      id: row.id,
      webhookId: row.webhook_id,
      eventId: row.event_id === null ? row.id : String(row.event_id),
      eventType: `${CLOUD_EVENT_TYPE_PREFIX}${row.event_type}`,
      status: row.status,
      attemptCount: Number(row.attempts),
      lastAttempt: last === undefined ? null : attemptView(last),
      lastError: row.last_error,
      createdAt: new Date(Number(row.created_at)).toISOString(),
      updatedAt: new Date(Number(row.updated_at)).toISOString(),
    };
  }

  detail(row: DeliveryRow): WebhookDeliveryDetailView {
    const attempts = this.db
      .query<AttemptRow>(
        `SELECT * FROM (SELECT * FROM webhook_attempt WHERE delivery_id = ? ORDER BY attempt DESC LIMIT ?)
         ORDER BY attempt`,
        [row.id, MAX_LISTED_ATTEMPTS],
      )
      .map(attemptView);
    return { ...this.view(row), attempts };
  }
}

function attemptView(row: AttemptRow): WebhookAttemptView {
  return {
    attempt: Number(row.attempt),
    succeeded: Number(row.succeeded) === 1,
    responseStatus: row.response_status === null ? null : Number(row.response_status),
    latencyMs: Number(row.latency_ms),
    responseBody: row.response_body,
    error: row.error,
    attemptedAt: new Date(Number(row.attempted_at)).toISOString(),
  };
}
