import { DurableObject } from "cloudflare:workers";
import { applySchemaMigrations, readSchemaVersions } from "../shared/sql/migrations";
import type { SqlDatabase } from "../shared/sql/sql-database";
import { sqlDatabaseFromStorage } from "./durable-object-sql-database";
import { TENANT_SCHEMA } from "./tenant/tenant-schema";

/**
 * One per tenant, named by tenant id (see tenantStub). Owns the tenant's SQLite: rate limiter,
 * quota counters, request usage and event log. Every RPC method runs synchronously against
 * SQLite, so each call is atomic with respect to every other call on the same tenant.
 */
export class TenantObject extends DurableObject<Env> {
  protected readonly db: SqlDatabase;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = sqlDatabaseFromStorage(ctx.storage);
    ctx.blockConcurrencyWhile(async () => {
      applySchemaMigrations(this.db, TENANT_SCHEMA);
    });
  }

  ping(): string {
    return "pong";
  }

  /** Stored schema version of every component, e.g. `{ "tenant-core": 1 }`. */
  getSchemaVersions(): Record<string, number> {
    return readSchemaVersions(this.db);
  }
}
