import { and, asc, desc, eq, gt, lt, or, type SQL, sql } from "drizzle-orm";
import type { Role } from "../../shared/contracts/roles";
import type { Database } from "../db/client";
import { type ApiKeyRow, apiKeys, auditLog, type MemberRow, members } from "../db/schema";
import { type Cursor, decodeCursor } from "./pagination";

export interface NewApiKey {
  id: string;
  name: string;
  role: Role;
  prefix: string;
  secretHash: string;
  expiresAt: string | null;
  createdAt: string;
  createdBy: string;
}

export interface AuditEntry {
  actor: string;
  action: string;
  target?: string;
  requestId: string;
  detail?: Record<string, unknown>;
  createdAt: string;
}

/**
 * Every query on tenant-owned rows goes through here, with the tenant fixed at construction from
 * the verified credential; another tenant's ids simply do not match.
 */
export class TenantScope {
  constructor(
    private readonly db: Database,
    readonly tenantId: string,
  ) {}

  async createApiKey(key: NewApiKey, requestId: string): Promise<ApiKeyRow> {
    const row: ApiKeyRow = { ...key, tenantId: this.tenantId };
    await this.db.batch([
      this.db.insert(apiKeys).values(row),
      this.db.insert(auditLog).values(
        this.audit({
          actor: key.createdBy,
          action: "api-key.create",
          target: key.id,
          requestId,
          detail: { name: key.name, role: key.role },
          createdAt: key.createdAt,
        }),
      ),
    ]);
    return row;
  }

  async listApiKeys(limit: number, cursor?: string): Promise<ApiKeyRow[]> {
    const after: Cursor | undefined = cursor ? decodeCursor(cursor) : undefined;
    return this.db
      .select()
      .from(apiKeys)
      .where(
        and(
          eq(apiKeys.tenantId, this.tenantId),
          after
            ? or(
                gt(apiKeys.createdAt, after.createdAt),
                and(eq(apiKeys.createdAt, after.createdAt), gt(apiKeys.id, after.id)),
              )
            : undefined,
        ),
      )
      .orderBy(asc(apiKeys.createdAt), asc(apiKeys.id))
      .limit(limit + 1)
      .all();
  }

  async findApiKey(id: string): Promise<ApiKeyRow | undefined> {
    return this.db
      .select()
      .from(apiKeys)
      .where(and(eq(apiKeys.tenantId, this.tenantId), eq(apiKeys.id, id)))
      .get();
  }

  /** Deletes the key unless it is the tenant's last lasting owner (see `otherOwnerExists`); false when nothing was deleted. */
  async deleteApiKey(id: string, entry: Omit<AuditEntry, "action" | "target">): Promise<boolean> {
    const removable = sql`(role <> 'owner' OR expires_at IS NOT NULL OR ${this.otherOwnerExists({ apiKeyId: id })})`;
    const [, deleted] = await this.db.batch([
      this.auditWhen(
        { ...entry, action: "api-key.delete", target: id },
        sql`EXISTS (SELECT 1 FROM api_keys WHERE tenant_id = ${this.tenantId} AND id = ${id} AND ${removable})`,
      ),
      this.db
        .delete(apiKeys)
        .where(and(eq(apiKeys.tenantId, this.tenantId), eq(apiKeys.id, id), removable))
        .returning({ id: apiKeys.id }),
    ]);
    return deleted.length > 0;
  }

  async findMember(subject: string): Promise<MemberRow | undefined> {
    return this.db
      .select()
      .from(members)
      .where(and(eq(members.tenantId, this.tenantId), eq(members.subject, subject)))
      .get();
  }

  async listMembers(limit: number, afterSubject?: string): Promise<MemberRow[]> {
    return this.db
      .select()
      .from(members)
      .where(and(eq(members.tenantId, this.tenantId), afterSubject ? gt(members.subject, afterSubject) : undefined))
      .orderBy(asc(members.subject))
      .limit(limit + 1)
      .all();
  }

  /**
   * Gives the subject the role, unless the subject is an owner and the change is not allowed: by a
   * caller who may not change owners, or demoting the tenant's last owner. Then nothing changes and
   * the returned row keeps its owner role.
   */
  async putMember(
    subject: string,
    role: Role,
    entry: Omit<AuditEntry, "action" | "target">,
    mayChangeOwners: boolean,
  ): Promise<MemberRow> {
    const row: MemberRow = { tenantId: this.tenantId, subject, role, createdAt: entry.createdAt };
    const ownerMayChange = mayChangeOwners ? sql`(${role} = 'owner' OR ${this.otherOwnerExists({ subject })})` : sql`0`;
    await this.db.batch([
      this.auditWhen(
        { ...entry, action: "member.put", target: subject, detail: { role } },
        sql`(NOT EXISTS (SELECT 1 FROM members WHERE tenant_id = ${this.tenantId} AND subject = ${subject} AND role = 'owner') OR ${ownerMayChange})`,
      ),
      this.db
        .insert(members)
        .values(row)
        .onConflictDoUpdate({
          target: [members.tenantId, members.subject],
          set: { role },
          setWhere: sql`(${members.role} <> 'owner' OR ${ownerMayChange})`,
        }),
    ]);
    return (await this.findMember(subject)) ?? row;
  }

  /** Removes the member unless it is the tenant's last owner; false when nothing was removed. */
  async deleteMember(subject: string, entry: Omit<AuditEntry, "action" | "target">): Promise<boolean> {
    const removable = sql`(role <> 'owner' OR ${this.otherOwnerExists({ subject })})`;
    const [, deleted] = await this.db.batch([
      this.auditWhen(
        { ...entry, action: "member.delete", target: subject },
        sql`EXISTS (SELECT 1 FROM members WHERE tenant_id = ${this.tenantId} AND subject = ${subject} AND ${removable})`,
      ),
      this.db
        .delete(members)
        .where(and(eq(members.tenantId, this.tenantId), eq(members.subject, subject), removable))
        .returning({ subject: members.subject }),
    ]);
    return deleted.length > 0;
  }

  /**
   * Whether the tenant keeps a lasting owner besides the given key or member: an owner API key
   * without expiry, or a member with the owner role. An expiring owner key is a temporary owner and
   * does not count, nor do owners asserted only by the identity provider's claim (KGEN cannot know
   * they exist). Evaluated inside the write statement, so two concurrent removals cannot both take
   * the last owner.
   */
  private otherOwnerExists(except: { apiKeyId?: string; subject?: string }): SQL {
    return sql`(EXISTS (SELECT 1 FROM api_keys WHERE tenant_id = ${this.tenantId} AND role = 'owner' AND expires_at IS NULL AND id <> ${except.apiKeyId ?? ""}) OR EXISTS (SELECT 1 FROM members WHERE tenant_id = ${this.tenantId} AND role = 'owner' AND subject <> ${except.subject ?? ""}))`;
  }

  /** An audit row written in the same batch as its change, only when the change's condition holds. */
  private auditWhen(entry: AuditEntry, condition: SQL) {
    const row = this.audit(entry);
    const detail = row.detail === undefined ? null : JSON.stringify(row.detail);
    // Every column of audit_log in declaration order; a null id is assigned by SQLite.
    return this.db
      .insert(auditLog)
      .select(
        sql`SELECT NULL, ${row.tenantId}, ${row.actor}, ${row.action}, ${row.target ?? null}, ${row.requestId}, ${detail}, ${row.createdAt} WHERE ${condition}`,
      );
  }

  async recordAudit(entry: AuditEntry): Promise<void> {
    await this.db.insert(auditLog).values(this.audit(entry));
  }

  async listAudit(limit: number, beforeId?: number) {
    return this.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.tenantId, this.tenantId), beforeId ? lt(auditLog.id, beforeId) : undefined))
      .orderBy(desc(auditLog.id))
      .limit(limit + 1)
      .all();
  }

  private audit(entry: AuditEntry) {
    return { tenantId: this.tenantId, ...entry, requestId: entry.requestId || null };
  }
}

/** Credential lookup: the one query that cannot be tenant-scoped, because it establishes the tenant. */
export async function findApiKeyByHash(db: Database, secretHash: string): Promise<ApiKeyRow | undefined> {
  return db.select().from(apiKeys).where(eq(apiKeys.secretHash, secretHash)).get();
}
