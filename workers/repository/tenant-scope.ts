import { and, asc, desc, eq, gt, lt, or } from "drizzle-orm";
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

  async deleteApiKey(id: string, entry: Omit<AuditEntry, "action" | "target">): Promise<boolean> {
    const [deleted] = await this.db.batch([
      this.db
        .delete(apiKeys)
        .where(and(eq(apiKeys.tenantId, this.tenantId), eq(apiKeys.id, id)))
        .returning({ id: apiKeys.id }),
      this.db.insert(auditLog).values(this.audit({ ...entry, action: "api-key.delete", target: id })),
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

  async putMember(subject: string, role: Role, entry: Omit<AuditEntry, "action" | "target">): Promise<MemberRow> {
    const row: MemberRow = { tenantId: this.tenantId, subject, role, createdAt: entry.createdAt };
    await this.db.batch([
      this.db
        .insert(members)
        .values(row)
        .onConflictDoUpdate({ target: [members.tenantId, members.subject], set: { role } }),
      this.db
        .insert(auditLog)
        .values(this.audit({ ...entry, action: "member.put", target: subject, detail: { role } })),
    ]);
    return (await this.findMember(subject)) ?? row;
  }

  async deleteMember(subject: string, entry: Omit<AuditEntry, "action" | "target">): Promise<boolean> {
    const [deleted] = await this.db.batch([
      this.db
        .delete(members)
        .where(and(eq(members.tenantId, this.tenantId), eq(members.subject, subject)))
        .returning({ subject: members.subject }),
      this.db.insert(auditLog).values(this.audit({ ...entry, action: "member.delete", target: subject })),
    ]);
    return deleted.length > 0;
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
