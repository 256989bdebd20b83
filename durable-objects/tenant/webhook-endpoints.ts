import { eventTypeMatchesAny } from "../../shared/contracts/events";
import { MAX_WEBHOOKS_PER_TENANT, type WebhookView } from "../../shared/contracts/webhooks";
import type { EncryptedSecret } from "../../shared/crypto/secret-box";
import type { SqlDatabase } from "../../shared/sql/sql-database";
import { HttpError } from "../../workers/problems/http-error";
import { notFound } from "../../workers/problems/problem-response";
import type { JsonValue, TenantEvent } from "./event-log";

/** How long a rotated-out secret keeps signing next to the new one. */
export const SECRET_ROTATION_OVERLAP_MS = 24 * 60 * 60 * 1000;

/** Appends one event to the tenant's log inside the current transaction. */
export type AppendWebhookEvent = (type: string, data: JsonValue, createdAt: number) => TenantEvent;

export interface NewWebhook {
  tenantId: string;
  id: string;
  url: string;
  /** Normalized type patterns (no `dev.kgen.` prefix). */
  events: string[];
  description: string | null;
  secret: EncryptedSecret;
  now: number;
}

export interface WebhookChanges {
  url?: string;
  events?: string[];
  description?: string | null;
  status?: "enabled" | "disabled";
}

export interface EnabledEndpoint {
  id: string;
  patterns: string[];
  afterEvent: number;
}

type EndpointRow = {
  id: string;
  url: string;
  event_types: string;
  description: string | null;
  status: "enabled" | "disabled";
  disabled_reason: string | null;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: number | null;
  after_event: number;
  failing_since: number | null;
  created_at: number;
  updated_at: number;
};

export interface WebhookListCursor {
  createdAt: number;
  id: string;
}

/** The tenant's webhook subscriptions: every change appends its `webhook.*` event in the same transaction. */
export class WebhookEndpoints {
  constructor(
    private readonly db: SqlDatabase,
    private readonly appendEvent: AppendWebhookEvent,
  ) {}

  create(input: NewWebhook): WebhookView {
    return this.db.transaction(() => {
      const count = Number(this.db.query<{ n: number }>("SELECT COUNT(*) AS n FROM webhook_endpoint")[0]?.n ?? 0);
      if (count >= MAX_WEBHOOKS_PER_TENANT) {
        throw new HttpError(
          409,
          "webhook-limit-reached",
          "Too many webhooks",
          `A tenant keeps at most ${MAX_WEBHOOKS_PER_TENANT} webhooks; delete one first.`,
          { extensions: { limit: MAX_WEBHOOKS_PER_TENANT } },
        );
      }
      this.db.run(
        `INSERT INTO webhook_endpoint (id, url, event_types, description, status, secret, after_event, created_at, updated_at)
         VALUES (?, ?, ?, ?, 'enabled', ?, 0, ?, ?)`,
        [
          input.id,
          input.url,
          JSON.stringify(input.events),
          input.description,
          JSON.stringify(input.secret),
          input.now,
          input.now,
        ],
      );
      const event = this.appendEvent(
        "webhook.created",
        { webhookId: input.id, url: input.url, events: input.events },
        input.now,
      );
      this.startDeliveringAfter(input.id, event.id, input.tenantId);
      return this.view(this.row(input.id));
    });
  }

  list(limit: number, after?: WebhookListCursor): EndpointRow[] {
    return after === undefined
      ? this.db.query<EndpointRow>("SELECT * FROM webhook_endpoint ORDER BY created_at, id LIMIT ?", [limit + 1])
      : this.db.query<EndpointRow>(
          `SELECT * FROM webhook_endpoint WHERE created_at > ? OR (created_at = ? AND id > ?)
           ORDER BY created_at, id LIMIT ?`,
          [after.createdAt, after.createdAt, after.id, limit + 1],
        );
  }

  get(id: string): WebhookView {
    return this.view(this.row(id));
  }

  update(tenantId: string, id: string, changes: WebhookChanges, now: number): WebhookView {
    return this.db.transaction(() => {
      const before = this.row(id);
      const assignments: [column: string, value: string | number | null][] = [["updated_at", now]];
      if (changes.url !== undefined) assignments.push(["url", changes.url]);
      if (changes.events !== undefined) assignments.push(["event_types", JSON.stringify(changes.events)]);
      if (changes.description !== undefined) assignments.push(["description", changes.description]);
      const sets = assignments.map(([column]) => `${column} = ?`);
      const params = assignments.map(([, value]) => value);
      const enabling = changes.status === "enabled" && before.status === "disabled";
      const disabling = changes.status === "disabled" && before.status === "enabled";
      if (enabling) sets.push("status = 'enabled', disabled_reason = NULL, failing_since = NULL");
      this.db.run(`UPDATE webhook_endpoint SET ${sets.join(", ")} WHERE id = ?`, [...params, id]);
      const changed = (["url", "events", "description", "status"] as const).filter(
        (field) => changes[field] !== undefined,
      );
      const event = this.appendEvent("webhook.updated", { webhookId: id, changed }, now);
      // A re-enabled endpoint receives what happens from now on, not the backlog of while it was off.
      if (enabling) this.startDeliveringAfter(id, event.id, tenantId);
      if (disabling) this.disable(id, "disabled by a user", now);
      return this.view(this.row(id));
    });
  }

  delete(id: string, now: number): void {
    this.db.transaction(() => {
      this.row(id);
      this.db.run(
        "DELETE FROM webhook_attempt WHERE delivery_id IN (SELECT id FROM webhook_delivery WHERE webhook_id = ?)",
        [id],
      );
      this.db.run("DELETE FROM webhook_delivery WHERE webhook_id = ?", [id]);
      this.db.run("DELETE FROM webhook_endpoint WHERE id = ?", [id]);
      this.appendEvent("webhook.deleted", { webhookId: id }, now);
    });
  }

  /** The new secret signs from now on; the one it replaces keeps signing alongside for SECRET_ROTATION_OVERLAP_MS. */
  rotateSecret(id: string, secret: EncryptedSecret, now: number): WebhookView {
    return this.db.transaction(() => {
      this.row(id);
      const expiresAt = now + SECRET_ROTATION_OVERLAP_MS;
      this.db.run(
        `UPDATE webhook_endpoint SET previous_secret = secret, previous_secret_expires_at = ?, secret = ?, updated_at = ?
         WHERE id = ?`,
        [expiresAt, JSON.stringify(secret), now, id],
      );
      this.appendEvent(
        "webhook.secret.rotated",
        { webhookId: id, previousSecretExpiresAt: new Date(expiresAt).toISOString() },
        now,
      );
      return this.view(this.row(id));
    });
  }

  /** Stops new deliveries to the endpoint and appends `webhook.disabled`; nothing when it is disabled already. */
  disable(id: string, reason: string, now: number): boolean {
    return this.db.transaction(() => {
      const { changes } = this.db.run(
        `UPDATE webhook_endpoint SET status = 'disabled', disabled_reason = ?, updated_at = ?
         WHERE id = ? AND status = 'enabled'`,
        [reason, now, id],
      );
      if (changes === 0) return false;
      this.appendEvent("webhook.disabled", { webhookId: id, reason }, now);
      return true;
    });
  }

  /** The secrets that sign a request at `now`: the current one, then the previous one while it overlaps. */
  signingSecrets(row: EndpointRow, now: number): EncryptedSecret[] {
    const secrets = [JSON.parse(row.secret) as EncryptedSecret];
    if (row.previous_secret !== null && (row.previous_secret_expires_at ?? 0) > now) {
      secrets.push(JSON.parse(row.previous_secret) as EncryptedSecret);
    }
    return secrets;
  }

  enabled(): EnabledEndpoint[] {
    return this.db
      .query<Pick<EndpointRow, "id" | "event_types" | "after_event">>(
        "SELECT id, event_types, after_event FROM webhook_endpoint WHERE status = 'enabled' ORDER BY id",
      )
      .map((row) => ({
        id: row.id,
        patterns: JSON.parse(row.event_types) as string[],
        afterEvent: Number(row.after_event),
      }));
  }

  /** Whether an endpoint wants an event: enabled, created before the event, and a pattern matches. */
  static wants(endpoint: EnabledEndpoint, event: Pick<TenantEvent, "id" | "type">): boolean {
    return event.id > endpoint.afterEvent && eventTypeMatchesAny(endpoint.patterns, event.type);
  }

  find(id: string): EndpointRow | undefined {
    return this.db.query<EndpointRow>("SELECT * FROM webhook_endpoint WHERE id = ?", [id])[0];
  }

  row(id: string): EndpointRow {
    const row = this.find(id);
    if (row === undefined) throw notFound("The webhook");
    return row;
  }

  /** Clears the failure streak after a success; starts it (if not running) after a failure. */
  recordOutcome(id: string, succeeded: boolean, now: number): { failingSince: number | null } {
    if (succeeded) {
      this.db.run("UPDATE webhook_endpoint SET failing_since = NULL WHERE id = ?", [id]);
      return { failingSince: null };
    }
    this.db.run("UPDATE webhook_endpoint SET failing_since = COALESCE(failing_since, ?) WHERE id = ?", [now, id]);
    const row = this.find(id);
    return { failingSince: row?.failing_since === null || row === undefined ? null : Number(row.failing_since) };
  }

  view(row: EndpointRow): WebhookView {
    const expiresAt = row.previous_secret_expires_at === null ? null : Number(row.previous_secret_expires_at);
    return {
      id: row.id,
      url: row.url,
      events: JSON.parse(row.event_types) as string[],
      description: row.description,
      status: row.status,
      disabledReason: row.disabled_reason,
      createdAt: new Date(Number(row.created_at)).toISOString(),
      updatedAt: new Date(Number(row.updated_at)).toISOString(),
      previousSecretExpiresAt: expiresAt === null ? null : new Date(expiresAt).toISOString(),
    };
  }

  /**
   * The endpoint receives events after `eventId`. When no other endpoint is enabled, the dispatcher's
   * cursor jumps there too: nothing before it has anyone to go to.
   */
  private startDeliveringAfter(id: string, eventId: number, tenantId: string): void {
    this.db.run("UPDATE webhook_endpoint SET after_event = ? WHERE id = ?", [eventId, id]);
    const othersEnabled = this.db.query("SELECT 1 FROM webhook_endpoint WHERE status = 'enabled' AND id <> ? LIMIT 1", [
      id,
    ]).length;
    this.db.run(
      `INSERT INTO webhook_dispatch (id, tenant_id, cursor) VALUES (1, ?, ?)
       ON CONFLICT (id) DO UPDATE SET tenant_id = excluded.tenant_id,
         cursor = CASE WHEN ? THEN cursor ELSE MAX(cursor, excluded.cursor) END`,
      [tenantId, eventId, othersEnabled > 0 ? 1 : 0],
    );
  }
}
