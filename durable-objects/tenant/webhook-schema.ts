import type { SchemaComponent } from "../../shared/sql/migrations";

/**
 * Outbound webhooks: the subscriptions (secrets sealed with secret-box), one delivery per webhook and
 * event (or per test), every attempt of a delivery, and the dispatcher's cursor in the event log.
 */
export const webhooksSchema: SchemaComponent = {
  name: "webhooks",
  migrations: [
    {
      version: 1,
      description: "webhook endpoints, deliveries, attempts and the dispatch cursor",
      up: `
        CREATE TABLE webhook_endpoint (
          id TEXT PRIMARY KEY,
          url TEXT NOT NULL,
          event_types TEXT NOT NULL,
          description TEXT,
          status TEXT NOT NULL CHECK (status IN ('enabled', 'disabled')),
          disabled_reason TEXT,
          secret TEXT NOT NULL,
          previous_secret TEXT,
          previous_secret_expires_at INTEGER,
          after_event INTEGER NOT NULL,
          failing_since INTEGER,
          created_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE webhook_delivery (
          id TEXT PRIMARY KEY,
          webhook_id TEXT NOT NULL,
          event_id INTEGER,
          event_type TEXT NOT NULL,
          payload TEXT,
          status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
          attempts INTEGER NOT NULL DEFAULT 0,
          last_error TEXT,
          created_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL,
          UNIQUE (webhook_id, event_id)
        );
        CREATE INDEX webhook_delivery_newest ON webhook_delivery (webhook_id, created_at, id);
        CREATE INDEX webhook_delivery_age ON webhook_delivery (created_at);

        CREATE TABLE webhook_attempt (
          delivery_id TEXT NOT NULL,
          attempt INTEGER NOT NULL,
          succeeded INTEGER NOT NULL,
          response_status INTEGER,
          latency_ms INTEGER NOT NULL,
          response_body TEXT,
          error TEXT,
          attempted_at INTEGER NOT NULL,
          PRIMARY KEY (delivery_id, attempt)
        ) WITHOUT ROWID;

        CREATE TABLE webhook_dispatch (
          id INTEGER PRIMARY KEY CHECK (id = 1),
          tenant_id TEXT NOT NULL,
          cursor INTEGER NOT NULL
        );
      `,
    },
  ],
};
