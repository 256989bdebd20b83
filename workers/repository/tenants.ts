import { and, asc, eq, gt, ne, or, sql } from "drizzle-orm";
import type { FlagOverrides } from "../../shared/contracts/flags";
import { randomId } from "../../shared/core/encoding";
import type { TenantSigningKey } from "../../shared/crypto/tenant-keys";
import type { Database } from "../db/client";
import {
  apiKeys,
  auditLog,
  planChanges,
  signingKeys,
  type TenantErasureRow,
  type TenantRow,
  tenantErasures,
  tenants,
} from "../db/schema";
import { type Cursor, decodeCursor } from "./pagination";
import { signingKeyRow } from "./signing-keys";

export interface NewTenant {
  slug: string;
  name: string;
  plan: string;
  jurisdiction: string | null;
}

export interface OwnerKey {
  id: string;
  prefix: string;
  hash: string;
}

/**
 * A deleted tenant's row stays (status `erasing`) until its erasure has removed every row that references
 * it; to every reader it is gone. Any query that finds tenants for a caller adds this condition.
 */
export const liveTenant = ne(tenants.status, "erasing");

export type LiveTenantStatus = Exclude<TenantRow["status"], "erasing">;
export type LiveTenantRow = Omit<TenantRow, "status"> & { status: LiveTenantStatus };

/** Types a row read under `liveTenant` as what it is. */
export function asLiveTenant<T extends { status: TenantRow["status"] }>(
  row: T,
): Omit<T, "status"> & { status: LiveTenantStatus } {
  return row as Omit<T, "status"> & { status: LiveTenantStatus };
}

const liveOrUndefined = (row: TenantRow | undefined) => (row ? asLiveTenant(row) : undefined);

/** The tenant of findByIdQuery's rows, if live. */
export const liveTenantOf = (rows: TenantRow[]) => liveOrUndefined(rows[0]);

/** Operator-scope access to the tenants table: the only repository that spans tenants. */
export class TenantDirectory {
  constructor(private readonly db: Database) {}

  async findById(id: string): Promise<LiveTenantRow | undefined> {
    return liveOrUndefined(await this.findByIdQuery(id).get());
  }

  /** The query of findById, to send in one batch with others (one round trip); `liveTenantOf` reads its rows. */
  findByIdQuery(id: string) {
    return this.db
      .select()
      .from(tenants)
      .where(and(eq(tenants.id, id), liveTenant));
  }

  async findBySlug(slug: string): Promise<LiveTenantRow | undefined> {
    return liveOrUndefined(
      await this.db
        .select()
        .from(tenants)
        .where(and(eq(tenants.slug, slug), liveTenant))
        .get(),
    );
  }

  /** Creates the tenant, its owner key and the audit record in one D1 batch: all or nothing. */
  async create(
    input: NewTenant,
    ownerKey: OwnerKey,
    signingKey: (tenantId: string) => Promise<TenantSigningKey>,
    actor: string,
    requestId: string,
    now: string,
  ): Promise<LiveTenantRow> {
    const row: LiveTenantRow = {
      id: randomId("tn"),
      ...input,
      status: "active",
      flags: {},
      createdAt: now,
      updatedAt: now,
    };
    const key = await signingKey(row.id);
    await this.db.batch([
      this.db.insert(tenants).values(row),
      this.db.insert(signingKeys).values(signingKeyRow(row.id, key)),
      this.db.insert(apiKeys).values({
        id: ownerKey.id,
        tenantId: row.id,
        name: "owner",
        role: "owner",
        prefix: ownerKey.prefix,
        secretHash: ownerKey.hash,
        expiresAt: null,
        createdAt: now,
        createdBy: actor,
      }),
      this.db
        .insert(auditLog)
        .values({ tenantId: row.id, actor, action: "tenant.create", target: row.id, requestId, createdAt: now }),
    ]);
    return row;
  }

  async list(limit: number, cursor?: string): Promise<LiveTenantRow[]> {
    const after: Cursor | undefined = cursor ? decodeCursor(cursor) : undefined;
    const rows = await this.db
      .select()
      .from(tenants)
      .where(
        and(
          liveTenant,
          after
            ? or(
                gt(tenants.createdAt, after.createdAt),
                and(eq(tenants.createdAt, after.createdAt), gt(tenants.id, after.id)),
              )
            : undefined,
        ),
      )
      .orderBy(asc(tenants.createdAt), asc(tenants.id))
      .limit(limit + 1)
      .all();
    return rows.map(asLiveTenant);
  }

  async update(
    id: string,
    changes: Partial<Pick<LiveTenantRow, "name" | "plan" | "status">>,
    actor: string,
    requestId: string,
    now: string,
  ): Promise<LiveTenantRow | undefined> {
    // First in the batch, while the row still holds the plan being left; no row without a new plan.
    const recordPlanChange = this.db.insert(planChanges).select(
      sql`select null, ${tenants.id}, ${tenants.plan}, ${changes.plan ?? null}, ${now} from ${tenants}
          where ${and(eq(tenants.id, id), liveTenant)} and ${tenants.plan} != ${changes.plan ?? null}`,
    );
    const [, updated] = await this.db.batch([
      recordPlanChange,
      this.db
        .update(tenants)
        .set({ ...changes, updatedAt: now })
        .where(and(eq(tenants.id, id), liveTenant))
        .returning(),
      this.db.insert(auditLog).values({
        tenantId: id,
        actor,
        action: "tenant.update",
        target: id,
        requestId,
        detail: changes,
        createdAt: now,
      }),
    ]);
    return liveOrUndefined(updated[0]);
  }

  /** Replaces the tenant's feature-flag overrides and records the change in the audit log, in one batch. */
  async setFlagOverrides(
    id: string,
    overrides: FlagOverrides,
    actor: string,
    requestId: string,
    now: string,
  ): Promise<TenantRow | undefined> {
    const [updated] = await this.db.batch([
      this.db
        .update(tenants)
        .set({ flags: overrides, updatedAt: now })
        .where(and(eq(tenants.id, id), liveTenant))
        .returning(),
      this.db.insert(auditLog).values({
        tenantId: id,
        actor,
        action: "tenant.flags.update",
        target: id,
        requestId,
        detail: { overrides },
        createdAt: now,
      }),
    ]);
    return updated[0];
  }

  /**
   * Deletes the tenant as callers see it, in one batch: its row turns `erasing` (no credential of it
   * works from now on: every lookup requires a live tenant) and gives up its slug, so a new tenant may
   * take it; its erasure is recorded as queued (when two deletions race, the first one's record stays).
   * Its data is left to that erasure, whose record this returns.
   */
  async beginErasure(
    tenant: LiveTenantRow,
    actor: string,
    requestId: string,
    now: string,
  ): Promise<TenantErasureRow | undefined> {
    const [, , , erasure] = await this.db.batch([
      this.db
        .update(tenants)
        // The id can never be a slug (slugs have no underscore), so it frees the slug without colliding.
        .set({ status: "erasing", slug: tenant.id, updatedAt: now })
        .where(and(eq(tenants.id, tenant.id), liveTenant)),
      this.db
        .insert(tenantErasures)
        .values({
          tenantId: tenant.id,
          jurisdiction: tenant.jurisdiction,
          status: "queued",
          phase: "records",
          requestedAt: now,
          updatedAt: now,
        })
        .onConflictDoNothing(),
      this.db
        .insert(auditLog)
        .values({ tenantId: null, actor, action: "tenant.delete", target: tenant.id, requestId, createdAt: now }),
      this.db.select().from(tenantErasures).where(eq(tenantErasures.tenantId, tenant.id)),
    ]);
    return erasure[0];
  }

  /** The last step of an erasure: the row of a tenant whose data is gone; false when it was already removed. */
  async removeErased(id: string): Promise<boolean> {
    const removed = await this.db
      .delete(tenants)
      .where(and(eq(tenants.id, id), eq(tenants.status, "erasing")))
      .returning({ id: tenants.id });
    return removed.length > 0;
  }
}
