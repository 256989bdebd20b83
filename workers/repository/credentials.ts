import { and, eq } from "drizzle-orm";
import type { Role } from "../../shared/contracts/roles";
import type { TenantSnapshot } from "../context";
import type { Database } from "../db/client";
import { apiKeys, members, type TenantRow, tenants } from "../db/schema";
import { asLiveTenant, liveTenant } from "./tenants";

/** An API key with its tenant, as authentication needs them: one D1 read. */
export interface ApiKeyGrant {
  keyId: string;
  role: Role;
  /** Epoch ms, or null for a key that never expires. */
  expiresAtMs: number | null;
  tenant: TenantSnapshot;
}

/** A tenant and the caller's membership in it (null when the subject is not a member): one D1 read. */
export interface MembershipGrant {
  memberRole: Role | null;
  tenant: TenantSnapshot;
}

const tenantColumns = {
  id: tenants.id,
  slug: tenants.slug,
  plan: tenants.plan,
  jurisdiction: tenants.jurisdiction,
  status: tenants.status,
  flags: tenants.flags,
};

const grantColumns = { keyId: apiKeys.id, role: apiKeys.role, expiresAt: apiKeys.expiresAt, tenant: tenantColumns };

function apiKeyGrant(row: {
  keyId: string;
  role: Role;
  expiresAt: string | null;
  tenant: Omit<TenantSnapshot, "status"> & { status: TenantRow["status"] };
}): ApiKeyGrant {
  return {
    keyId: row.keyId,
    role: row.role,
    expiresAtMs: row.expiresAt ? Date.parse(row.expiresAt) : null,
    tenant: asLiveTenant(row.tenant),
  };
}

/** The reads authentication makes: each credential and its tenant in a single query. */
export class CredentialDirectory {
  constructor(private readonly db: Database) {}

  async apiKeyByHash(secretHash: string): Promise<ApiKeyGrant | undefined> {
    const row = await this.db
      .select(grantColumns)
      .from(apiKeys)
      .innerJoin(tenants, eq(tenants.id, apiKeys.tenantId))
      .where(and(eq(apiKeys.secretHash, secretHash), liveTenant))
      .get();
    return row ? apiKeyGrant(row) : undefined;
  }

  async apiKeyById(tenantId: string, keyId: string): Promise<ApiKeyGrant | undefined> {
    const row = await this.db
      .select(grantColumns)
      .from(apiKeys)
      .innerJoin(tenants, eq(tenants.id, apiKeys.tenantId))
      .where(and(eq(apiKeys.tenantId, tenantId), eq(apiKeys.id, keyId), liveTenant))
      .get();
    return row ? apiKeyGrant(row) : undefined;
  }

  async membership(tenantId: string, subject: string): Promise<MembershipGrant | undefined> {
    const row = await this.db
      .select({ memberRole: members.role, tenant: tenantColumns })
      .from(tenants)
      .leftJoin(members, and(eq(members.tenantId, tenants.id), eq(members.subject, subject)))
      .where(and(eq(tenants.id, tenantId), liveTenant))
      .get();
    return row ? { memberRole: row.memberRole ?? null, tenant: asLiveTenant(row.tenant) } : undefined;
  }
}
