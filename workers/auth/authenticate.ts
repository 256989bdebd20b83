import type { MiddlewareHandler } from "hono";
import { type Role, roleAtLeast } from "../../shared/contracts/roles";
import type { AppEnv, Principal } from "../context";
import { database } from "../db/client";
import type { ApiKeyRow } from "../db/schema";
import { HttpError } from "../problems/http-error";
import { findApiKeyByHash, TenantScope } from "../repository/tenant-scope";
import { TenantDirectory } from "../repository/tenants";
import { hashApiKeySecret, looksLikeApiKey } from "./api-key-secret";
import { tokenConfig } from "./config";
import { externalRole } from "./owner-rules";
import { verifyJwt } from "./tokens";

const unauthorized = (detail: string) =>
  new HttpError(401, "unauthorized", "Unauthorized", detail, { headers: { "WWW-Authenticate": "Bearer" } });

export function bearerCredential(header: string | undefined): string {
  if (!header) throw unauthorized("Send an API key or token as `Authorization: Bearer <credential>`.");
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match?.[1]) throw unauthorized("The Authorization header must use the Bearer scheme.");
  return match[1];
}

async function principalFromCredential(credential: string, env: Env, nowMs: number): Promise<Principal> {
  const db = database(env.DB);
  if (looksLikeApiKey(credential)) {
    const key = await findApiKeyByHash(db, await hashApiKeySecret(credential));
    if (!key) throw unauthorized("The API key is not valid.");
    const expiresAtMs = apiKeyExpiry(key);
    if (expiresAtMs !== undefined && expiresAtMs <= nowMs) throw unauthorized("The API key has expired.");
    return {
      tenantId: key.tenantId,
      role: key.role,
      subject: `key:${key.id}`,
      credential: "api-key",
      apiKeyId: key.id,
      ...(expiresAtMs !== undefined ? { apiKeyExpiresAtMs: expiresAtMs } : {}),
    };
  }
  const token = await verifyJwt(credential, tokenConfig(env), Math.floor(nowMs / 1000));
  if (token.source === "platform") {
    // A token minted from an API key dies with the key.
    const keyId = token.subject.startsWith("key:") ? token.subject.slice(4) : undefined;
    const key = keyId ? await new TenantScope(db, token.tenantId).findApiKey(keyId) : undefined;
    if (!keyId || !key) throw unauthorized("The credential this token was issued for no longer exists.");
    const keyExpiresAtMs = apiKeyExpiry(key);
    if (keyExpiresAtMs !== undefined && keyExpiresAtMs <= nowMs) {
      throw unauthorized("The API key this token was issued for has expired.");
    }
    if (!token.role) throw unauthorized("The token has no role.");
    return { ...token, role: token.role, credential: "platform-token", apiKeyId: keyId };
  }
  const member = await new TenantScope(db, token.tenantId).findMember(token.subject);
  const role = externalRole(token.role, member?.role);
  if (!role) throw unauthorized("The token carries no role and its subject is not a member of the tenant.");
  return { ...token, role, credential: "external-token" };
}

function apiKeyExpiry(key: ApiKeyRow): number | undefined {
  return key.expiresAt ? Date.parse(key.expiresAt) : undefined;
}

/**
 * Establishes principal and tenant from the verified credential only; rate limiting, metering and
 * the plan's body limit are the next middlewares of `tenantRequest`. A client-sent X-Tenant-ID
 * may only confirm that tenant; a suspended tenant can still read GET /v1/me and nothing else.
 */
export const authenticate: MiddlewareHandler<AppEnv> = async (c, next) => {
  const principal = await principalFromCredential(bearerCredential(c.req.header("authorization")), c.env, Date.now());
  const tenant = await new TenantDirectory(database(c.env.DB)).findById(principal.tenantId);
  if (!tenant) throw unauthorized("The credential's tenant does not exist.");
  const claimedTenant = c.req.header("x-tenant-id");
  if (claimedTenant !== undefined && claimedTenant !== tenant.id && claimedTenant !== tenant.slug) {
    throw new HttpError(403, "tenant-mismatch", "Forbidden", "X-Tenant-ID names a tenant other than the credential's.");
  }
  const isMe = c.req.method === "GET" && new URL(c.req.url).pathname === "/v1/me";
  if (tenant.status === "suspended" && !isMe) {
    throw new HttpError(403, "tenant-suspended", "Forbidden", "This tenant is suspended.");
  }
  c.set("principal", principal);
  c.set("tenant", tenant);
  await next();
};

export function requireRole(required: Role): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!roleAtLeast(c.var.principal.role, required)) {
      throw new HttpError(403, "insufficient-role", "Forbidden", `This action needs the ${required} role or higher.`);
    }
    await next();
  };
}
