import { quadStoreSchema } from "../../shared/rdf/store/quad-store-schema";
import type { SchemaComponent } from "../../shared/sql/migrations";
import { artifactIndexSchema } from "./artifact-index-schema";
import { driftReportsSchema } from "./drift-reports";
import { eventTicketsSchema } from "./event-tickets";
import { graphPrefixesSchema } from "./graph-prefixes";
import { monitorRunsSchema } from "./monitor-runs";
import { storedBytesSchema } from "./stored-bytes";
import { usageMeterSchema } from "./usage-meter";
import { webhooksSchema } from "./webhook-schema";

/** Tables of the tenant core: quota counters, request usage, event log. */
export const tenantCoreSchema: SchemaComponent = {
  name: "tenant-core",
  migrations: [
    {
      version: 1,
      description: "rate bucket, quota counters and their idempotency keys, request usage, event log",
      up: `
        CREATE TABLE rate_bucket (
          name TEXT PRIMARY KEY,
          units INTEGER NOT NULL,
          updated_at INTEGER NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE quota_usage (
          counter TEXT NOT NULL,
          period TEXT NOT NULL,
          used INTEGER NOT NULL,
          PRIMARY KEY (counter, period)
        ) WITHOUT ROWID;

        CREATE TABLE quota_operation (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          kind TEXT NOT NULL CHECK (kind IN ('reserve', 'release')),
          idempotency_key TEXT NOT NULL,
          counter TEXT NOT NULL,
          period TEXT NOT NULL,
          amount INTEGER NOT NULL,
          UNIQUE (kind, idempotency_key)
        );

        CREATE TABLE request_usage (
          day TEXT NOT NULL,
          route_class TEXT NOT NULL,
          requests INTEGER NOT NULL,
          client_errors INTEGER NOT NULL,
          server_errors INTEGER NOT NULL,
          PRIMARY KEY (day, route_class)
        ) WITHOUT ROWID;

        CREATE TABLE event_log (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          type TEXT NOT NULL,
          data TEXT NOT NULL,
          created_at INTEGER NOT NULL,
          idempotency_key TEXT UNIQUE
        );
      `,
    },
    {
      version: 2,
      description: "drop the request token bucket: request rates are limited at the edge",
      up: "DROP TABLE rate_bucket;",
    },
  ],
};

/**
 * Every schema component of the TenantObject's SQLite, applied in this order when the object
 * starts. Modules that keep data in the tenant's database append their own SchemaComponent
 * here; each keeps its own version row.
 */
export const TENANT_SCHEMA: readonly SchemaComponent[] = [
  tenantCoreSchema,
  quadStoreSchema,
  graphPrefixesSchema,
  eventTicketsSchema,
  webhooksSchema,
  driftReportsSchema,
  storedBytesSchema,
  monitorRunsSchema,
  artifactIndexSchema,
  usageMeterSchema,
];
