import { and, asc, eq, gt, or } from "drizzle-orm";
import type { FlagOverrides } from "../../shared/contracts/flags";
import { randomId } from "../../shared/core/encoding";
import type { TenantSigningKey } from "../../shared/crypto/tenant-keys";
import type { Database } from "../db/client";
import {
  apiKeys,
  artifacts,
  auditLog,
  jobs,
  members,
  signingKeys,
  type TenantRow,
  templates,
  tenants,
  triggerDeliveries,
  triggers,
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

/** Operator-scope access to the tenants table: the only repository that spans tenants. */
export class TenantDirectory {
  constructor(private readonly db: Database) {}

  async findById(id: string): Promise<TenantRow | undefined> {
    return this.db.select().from(tenants).where(eq(tenants.id, id)).get();
  }

  async findBySlug(slug: string): Promise<TenantRow | undefined> {
    return this.db.select().from(tenants).where(eq(tenants.slug, slug)).get();
  }

  /** Creates the tenant, its owner key and the audit record in one D1 batch: all or nothing. */
  async create(
    input: NewTenant,
    ownerKey: OwnerKey,
    signingKey: (tenantId: string) => Promise<TenantSigningKey>,
    actor: string,
    requestId: string,
    now: string,
  ): Promise<TenantRow> {
    const row: TenantRow = {
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

  async list(limit: number, cursor?: string): Promise<TenantRow[]> {
    const after: Cursor | undefined = cursor ? decodeCursor(cursor) : undefined;
    return this.db
      .select()
      .from(tenants)
      .where(
        after
          ? or(
              gt(tenants.createdAt, after.createdAt),
              and(eq(tenants.createdAt, after.createdAt), gt(tenants.id, after.id)),
            )
          : undefined,
      )
      .orderBy(asc(tenants.createdAt), asc(tenants.id))
      .limit(limit + 1)
      .all();
  }

  async update(
    id: string,
    changes: Partial<Pick<TenantRow, "name" | "plan" | "status">>,
    actor: string,
    requestId: string,
    now: string,
  ): Promise<TenantRow | undefined> {
    const [updated] = await this.db.batch([
      this.db
        .update(tenants)
        .set({ ...changes, updatedAt: now })
        .where(eq(tenants.id, id))
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
    return updated[0];
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
      this.db.update(tenants).set({ flags: overrides, updatedAt: now }).where(eq(tenants.id, id)).returning(),
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

  /** Deletes the tenant and every control-plane row it owns, in one batch. */
  async delete(id: string, actor: string, requestId: string, now: string): Promise<boolean> {
    // Every tenant-owned table, children first (not relying on the database enforcing cascades).
    const [deleted] = await this.db.batch([
      this.db.delete(tenants).where(eq(tenants.id, id)).returning({ id: tenants.id }),
      this.db.delete(artifacts).where(eq(artifacts.tenantId, id)),
      this.db.delete(jobs).where(eq(jobs.tenantId, id)),
      this.db.delete(templates).where(eq(templates.tenantId, id)),
      this.db.delete(triggerDeliveries).where(eq(triggerDeliveries.tenantId, id)),
      this.db.delete(triggers).where(eq(triggers.tenantId, id)),
      this.db.delete(signingKeys).where(eq(signingKeys.tenantId, id)),
      this.db.delete(apiKeys).where(eq(apiKeys.tenantId, id)),
      this.db.delete(members).where(eq(members.tenantId, id)),
      this.db
        .insert(auditLog)
        .values({ tenantId: null, actor, action: "tenant.delete", target: id, requestId, createdAt: now }),
    ]);
    return deleted.length > 0;
  }
}
