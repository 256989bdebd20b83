import type { AppVariables, Principal, TenantSnapshot } from "../context";
import { database } from "../db/client";
import { type ApiKeyGrant, CredentialDirectory, type MembershipGrant } from "../repository/credentials";
import { hashApiKeySecret, looksLikeApiKey } from "./api-key-secret";
import { unauthorized } from "./credential-problems";
import { ExpiringCache } from "./expiring-cache";
import { externalRole } from "./owner-rules";
import { type TokenConfig, type VerifiedToken, verifyJwt } from "./tokens";

/**
 * The revocation bound: a deleted API key or member, or a suspended tenant, is refused everywhere
 * at most this long after the change. It is how long a location trusts what it last read from D1,
 * and how long a platform token's own claims are trusted after they were confirmed (`chk`).
 */
export const CREDENTIAL_CACHE_TTL_MS = 60_000;
/** Bounds the memory of one location's caches; the oldest entries go first. */
const MAX_CACHED_CREDENTIALS = 10_000;

export type EdgeIdentity = Pick<AppVariables, "principal" | "tenant">;

/**
 * Credential verification at one location (a Worker isolate). API keys resolve through a cache of
 * what D1 said about them less than CREDENTIAL_CACHE_TTL_MS ago; platform tokens answer from their
 * signed claims while those are younger than that, then through the same cache; external tokens
 * through a cache of the caller's membership. A miss costs one D1 read (credential and tenant in
 * one query). Changes made through this location are forgotten here at once.
 */
export class EdgeCredentials {
  private readonly keysByHash = new ExpiringCache<ApiKeyGrant>(CREDENTIAL_CACHE_TTL_MS, MAX_CACHED_CREDENTIALS);
  private readonly keysById = new ExpiringCache<ApiKeyGrant>(CREDENTIAL_CACHE_TTL_MS, MAX_CACHED_CREDENTIALS);
  private readonly memberships = new ExpiringCache<MembershipGrant>(CREDENTIAL_CACHE_TTL_MS, MAX_CACHED_CREDENTIALS);
  /** When a key or tenant last changed through this location: token claims confirmed before that are stale. */
  private readonly changedAt = new ExpiringCache<number>(CREDENTIAL_CACHE_TTL_MS, MAX_CACHED_CREDENTIALS);

  async identify(credential: string, env: Env, config: () => TokenConfig, nowMs: number): Promise<EdgeIdentity> {
    if (looksLikeApiKey(credential)) return this.identifyApiKey(credential, env, nowMs);
    const token = await verifyJwt(credential, config(), Math.floor(nowMs / 1000));
    return token.source === "platform"
      ? this.identifyPlatformToken(token, env, nowMs)
      : this.identifyExternalToken(token, env, nowMs);
  }

  /** A key deleted (or changed) through this location is read from D1 again on its next use here. */
  forgetApiKey(tenantId: string, keyId: string, nowMs: number): void {
    const matches = (grant: ApiKeyGrant) => grant.tenant.id === tenantId && grant.keyId === keyId;
    this.keysByHash.deleteWhere(matches);
    this.keysById.deleteWhere(matches);
    this.changedAt.set(keyChangeName(tenantId, keyId), nowMs, nowMs);
  }

  forgetMember(tenantId: string, subject: string): void {
    this.memberships.delete(membershipName(tenantId, subject));
  }

  /** A tenant whose plan or status changed (or that was deleted) is read from D1 again here. */
  forgetTenant(tenantId: string, nowMs: number): void {
    const ofTenant = (grant: { tenant: TenantSnapshot }) => grant.tenant.id === tenantId;
    this.keysByHash.deleteWhere(ofTenant);
    this.keysById.deleteWhere(ofTenant);
    this.memberships.deleteWhere(ofTenant);
    this.changedAt.set(tenantChangeName(tenantId), nowMs, nowMs);
  }

  private async identifyApiKey(secret: string, env: Env, nowMs: number): Promise<EdgeIdentity> {
    const secretHash = await hashApiKeySecret(secret);
    let cached = this.keysByHash.get(secretHash, nowMs);
    if (!cached) {
      const grant = await new CredentialDirectory(database(env.DB)).apiKeyByHash(secretHash);
      if (!grant) throw unauthorized("The API key is not valid.");
      this.remember(secretHash, grant, nowMs);
      cached = { value: grant, storedAtMs: nowMs };
    }
    const { value: grant, storedAtMs } = cached;
    if (grant.expiresAtMs !== null && grant.expiresAtMs <= nowMs) throw unauthorized("The API key has expired.");
    const principal: Principal = {
      tenantId: grant.tenant.id,
      role: grant.role,
      subject: `key:${grant.keyId}`,
      credential: "api-key",
      apiKeyId: grant.keyId,
      ...(grant.expiresAtMs !== null ? { apiKeyExpiresAtMs: grant.expiresAtMs } : {}),
      confirmedAtMs: storedAtMs,
    };
    return { principal, tenant: grant.tenant };
  }

  private async identifyPlatformToken(token: VerifiedToken, env: Env, nowMs: number): Promise<EdgeIdentity> {
    if (!token.role) throw unauthorized("The token has no role.");
    // A token minted from an API key dies with the key.
    const keyId = token.edge?.apiKeyId ?? (token.subject.startsWith("key:") ? token.subject.slice(4) : undefined);
    if (!keyId) throw unauthorized("The credential this token was issued for no longer exists.");
    const base = { tenantId: token.tenantId, role: token.role, subject: token.subject, credential: "platform-token" };
    const withToken = token.tokenId === undefined ? {} : { tokenId: token.tokenId };

    const claims = token.edge;
    if (claims && this.claimsFresh(token.tenantId, keyId, claims.confirmedAtSeconds * 1000, nowMs)) {
      const tenant: TenantSnapshot = {
        id: token.tenantId,
        slug: claims.slug,
        plan: claims.plan,
        status: claims.status,
        jurisdiction: claims.jurisdiction,
        flags: claims.flags,
      };
      const principal: Principal = {
        ...base,
        credential: "platform-token",
        apiKeyId: keyId,
        ...withToken,
        confirmedAtMs: claims.confirmedAtSeconds * 1000,
      };
      return { principal, tenant };
    }

    let cached = this.keysById.get(keyIdName(token.tenantId, keyId), nowMs);
    if (!cached) {
      const grant = await new CredentialDirectory(database(env.DB)).apiKeyById(token.tenantId, keyId);
      if (!grant) throw unauthorized("The credential this token was issued for no longer exists.");
      this.remember(undefined, grant, nowMs);
      cached = { value: grant, storedAtMs: nowMs };
    }
    const { value: grant, storedAtMs } = cached;
    if (grant.expiresAtMs !== null && grant.expiresAtMs <= nowMs) {
      throw unauthorized("The API key this token was issued for has expired.");
    }
    const principal: Principal = {
      ...base,
      credential: "platform-token",
      apiKeyId: keyId,
      ...withToken,
      confirmedAtMs: storedAtMs,
    };
    return { principal, tenant: grant.tenant };
  }

  private async identifyExternalToken(token: VerifiedToken, env: Env, nowMs: number): Promise<EdgeIdentity> {
    const name = membershipName(token.tenantId, token.subject);
    let cached = this.memberships.get(name, nowMs);
    if (!cached) {
      const grant = await new CredentialDirectory(database(env.DB)).membership(token.tenantId, token.subject);
      if (!grant) throw unauthorized("The credential's tenant does not exist.");
      this.memberships.set(name, grant, nowMs);
      cached = { value: grant, storedAtMs: nowMs };
    }
    const { value: grant, storedAtMs } = cached;
    const role = externalRole(token.role, grant.memberRole ?? undefined);
    if (!role) throw unauthorized("The token carries no role and its subject is not a member of the tenant.");
    const principal: Principal = {
      tenantId: token.tenantId,
      role,
      subject: token.subject,
      credential: "external-token",
      ...(token.tokenId === undefined ? {} : { tokenId: token.tokenId }),
      confirmedAtMs: storedAtMs,
    };
    return { principal, tenant: grant.tenant };
  }

  /** Claims confirmed less than the bound ago, and not before a change this location made to the key or tenant. */
  private claimsFresh(tenantId: string, keyId: string, confirmedAtMs: number, nowMs: number): boolean {
    if (confirmedAtMs > nowMs || nowMs - confirmedAtMs >= CREDENTIAL_CACHE_TTL_MS) return false;
    const changes = [keyChangeName(tenantId, keyId), tenantChangeName(tenantId)];
    return changes.every((name) => {
      const changed = this.changedAt.get(name, nowMs);
      return changed === undefined || changed.value < confirmedAtMs;
    });
  }

  private remember(secretHash: string | undefined, grant: ApiKeyGrant, nowMs: number): void {
    if (secretHash !== undefined) this.keysByHash.set(secretHash, grant, nowMs);
    this.keysById.set(keyIdName(grant.tenant.id, grant.keyId), grant, nowMs);
  }
}

const keyIdName = (tenantId: string, keyId: string) => `${tenantId}\n${keyId}`;
const membershipName = (tenantId: string, subject: string) => `${tenantId}\n${subject}`;
const keyChangeName = (tenantId: string, keyId: string) => `key\n${tenantId}\n${keyId}`;
const tenantChangeName = (tenantId: string) => `tenant\n${tenantId}`;

/** This isolate's credential caches: what "at this location" means for the edge path. */
export const edgeCredentials = new EdgeCredentials();
