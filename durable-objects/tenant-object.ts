import { DurableObject } from "cloudflare:workers";
import { isPlanName, PLAN_NAMES, type PlanName, planLimits } from "../shared/plans";
import { applySchemaMigrations, readSchemaVersions } from "../shared/sql/migrations";
import type { SqlDatabase } from "../shared/sql/sql-database";
import type { RateLimitDecision } from "../shared/token-bucket";
import { sqlDatabaseFromStorage } from "./durable-object-sql-database";
import { RequestRateLimiter } from "./tenant/request-rate-limiter";
import { requireCount, requireObject } from "./tenant/rpc-input";
import { TENANT_SCHEMA } from "./tenant/tenant-schema";

export interface ConsumeRequestInput {
  plan: PlanName;
  /** The caller's clock, epoch ms (the Worker passes Date.now()). */
  now: number;
}

/**
 * One per tenant, named by tenant id (see tenantStub). Owns the tenant's SQLite: rate limiter,
 * quota counters, request usage and event log. Every RPC method runs synchronously against
 * SQLite, so each call is atomic with respect to every other call on the same tenant.
 */
export class TenantObject extends DurableObject<Env> {
  protected readonly db: SqlDatabase;
  private readonly rateLimiter: RequestRateLimiter;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = sqlDatabaseFromStorage(ctx.storage);
    this.rateLimiter = new RequestRateLimiter(this.db);
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

  /** Takes one token from the tenant's request bucket (capacity and refill from the plan). */
  consumeRequest(input: ConsumeRequestInput): RateLimitDecision {
    const { plan, now } = requireObject("consumeRequest input", input);
    if (!isPlanName(plan)) throw new RangeError(`plan must be one of ${PLAN_NAMES.join(", ")}`);
    return this.rateLimiter.consume(planLimits(plan).requests, requireCount("now", now));
  }
}
