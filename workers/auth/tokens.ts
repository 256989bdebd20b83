import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  type JWTPayload,
  type JWTVerifyGetKey,
  errors as joseErrors,
  jwtVerify,
  SignJWT,
} from "jose";
import { type FlagOverrides, storedFlagOverrides } from "../../shared/contracts/flags";
import { isRole, type Role } from "../../shared/contracts/roles";
import { HttpError } from "../problems/http-error";
import { platformJwks, platformSigningKey } from "./platform-keys";

/** Platform tokens carry the tenant's plan and status for the edge, so they are short-lived. */
export const MAX_TOKEN_TTL_SECONDS = 900;
/** Platform tokens are only ever EdDSA; anything else claiming our issuer is rejected. */
const PLATFORM_ALGORITHMS = ["EdDSA"];

export interface TokenConfig {
  masterSecret: string;
  keyVersion: number;
  issuer: string;
  audience: string;
  external?: ExternalIdpConfig;
}

export interface ExternalIdpConfig {
  issuer: string;
  audience: string;
  algorithms: string[];
  tenantClaim: string;
  roleClaim: string;
  keys: JWTVerifyGetKey;
}

export interface VerifiedToken {
  tenantId: string;
  /** Always set for platform tokens; an external token may leave the role to the tenant's members table. */
  role: Role | undefined;
  subject: string;
  /** `platform` for tokens we issued, `external` for the configured identity provider. */
  source: "platform" | "external";
  tokenId?: string;
  /** Platform tokens: what the edge needs to answer without D1, when the token carries all of it. */
  edge?: PlatformEdgeClaims;
}

/**
 * Claims a platform token carries besides tenant and role: the API key it was exchanged for, the
 * tenant as it was when the key was last confirmed against D1, and when that was (`chk`, epoch s).
 */
export interface PlatformEdgeClaims {
  apiKeyId: string;
  slug: string;
  plan: string;
  status: "active" | "suspended";
  jurisdiction: string | null;
  /** The tenant's feature-flag overrides (`flg`, left out when there are none), as old as the rest. */
  flags: FlagOverrides;
  confirmedAtSeconds: number;
}

export async function issuePlatformToken(
  config: TokenConfig,
  claims: { tenantId: string; role: Role; subject: string; edge: PlatformEdgeClaims },
  ttlSeconds: number,
  nowSeconds: number,
): Promise<{ token: string; expiresAt: number; tokenId: string }> {
  const key = await platformSigningKey(config.masterSecret, config.keyVersion);
  const tokenId = crypto.randomUUID();
  const expiresAt = nowSeconds + Math.min(ttlSeconds, MAX_TOKEN_TTL_SECONDS);
  const { edge } = claims;
  const token = await new SignJWT({
    tenant: claims.tenantId,
    role: claims.role,
    key: edge.apiKeyId,
    slug: edge.slug,
    plan: edge.plan,
    status: edge.status,
    ...(edge.jurisdiction === null ? {} : { jur: edge.jurisdiction }),
    ...(Object.keys(edge.flags).length === 0 ? {} : { flg: edge.flags }),
    chk: edge.confirmedAtSeconds,
  })
    .setProtectedHeader({ alg: "EdDSA", kid: key.kid, typ: "JWT" })
    .setIssuer(config.issuer)
    .setAudience(config.audience)
    .setSubject(claims.subject)
    .setIssuedAt(nowSeconds)
    .setExpirationTime(expiresAt)
    .setJti(tokenId)
    .sign(key.privateKey);
  return { token, expiresAt, tokenId };
}

function unauthorized(detail: string): HttpError {
  return new HttpError(401, "unauthorized", "Unauthorized", detail, {
    headers: { "WWW-Authenticate": 'Bearer error="invalid_token"' },
  });
}

/**
 * Verifies a JWT from the platform or from the configured identity provider. Which verifier runs
 * is chosen by the unverified `iss` only to pick keys; the verifier then enforces issuer, audience,
 * algorithm allow-list, signature, `exp` and `nbf`, so a lie in the header or claims cannot help.
 */
export async function verifyJwt(token: string, config: TokenConfig, nowSeconds: number): Promise<VerifiedToken> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  let unverifiedIssuer: unknown;
  try {
    header = decodeProtectedHeader(token);
    unverifiedIssuer = decodeJwt(token).iss;
  } catch {
    throw unauthorized("The bearer token is not a well-formed JWT.");
  }
  const external = config.external;
  const useExternal = external !== undefined && unverifiedIssuer === external.issuer;
  const algorithms = useExternal ? external.algorithms : PLATFORM_ALGORITHMS;
  if (typeof header.alg !== "string" || !algorithms.includes(header.alg)) {
    // The header is the caller's: name the algorithm only when it looks like one.
    const named = typeof header.alg === "string" && /^[A-Za-z0-9+-]{1,16}$/.test(header.alg);
    throw unauthorized(
      named ? `Tokens signed with alg "${header.alg}" are not accepted.` : "The token's algorithm is not accepted.",
    );
  }

  let payload: JWTPayload;
  try {
    if (useExternal) {
      ({ payload } = await jwtVerify(token, external.keys, {
        issuer: external.issuer,
        audience: external.audience,
        algorithms,
        currentDate: new Date(nowSeconds * 1000),
        requiredClaims: ["exp", "sub"],
      }));
    } else {
      const jwks = createLocalJWKSet(await platformJwks(config.masterSecret, config.keyVersion));
      ({ payload } = await jwtVerify(token, jwks, {
        issuer: config.issuer,
        audience: config.audience,
        algorithms,
        currentDate: new Date(nowSeconds * 1000),
        requiredClaims: ["exp", "iat", "sub", "jti"],
      }));
    }
  } catch (error) {
    throw unauthorized(describeJoseError(error));
  }

  const tenantClaim = useExternal ? external.tenantClaim : "tenant";
  const roleClaim = useExternal ? external.roleClaim : "role";
  const tenantId = payload[tenantClaim];
  const role = payload[roleClaim];
  if (typeof tenantId !== "string" || tenantId === "") throw unauthorized(`The token has no "${tenantClaim}" claim.`);
  if (!isRole(role) && !(useExternal && role === undefined)) {
    throw unauthorized(`The token's "${roleClaim}" claim is not a known role.`);
  }
  return {
    tenantId,
    role: isRole(role) ? role : undefined,
    subject: String(payload.sub),
    source: useExternal ? "external" : "platform",
    tokenId: typeof payload.jti === "string" ? payload.jti : undefined,
    ...(useExternal ? {} : edgeClaimsOf(payload)),
  };
}

/** The edge claims of a platform token, or nothing when one is missing or malformed (then D1 is asked). */
function edgeClaimsOf(payload: JWTPayload): { edge: PlatformEdgeClaims } | Record<string, never> {
  const { key, slug, plan, status, jur, flg, chk } = payload;
  if (typeof key !== "string" || typeof slug !== "string" || typeof plan !== "string") return {};
  if (status !== "active" && status !== "suspended") return {};
  if (jur !== undefined && typeof jur !== "string") return {};
  if (typeof chk !== "number" || !Number.isSafeInteger(chk)) return {};
  if (flg !== undefined && (typeof flg !== "object" || flg === null || Array.isArray(flg))) return {};
  const flags = storedFlagOverrides(flg);
  return { edge: { apiKeyId: key, slug, plan, status, jurisdiction: jur ?? null, flags, confirmedAtSeconds: chk } };
}

function describeJoseError(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return "The token has expired.";
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `The token's "${error.claim}" claim is not valid.`;
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return "The token's signature is not valid.";
  if (error instanceof joseErrors.JWKSNoMatchingKey) return "The token was signed with an unknown key.";
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return "The token's algorithm is not accepted.";
  if (error instanceof joseErrors.JWKSTimeout) return "The identity provider's keys could not be fetched.";
  return "The bearer token could not be verified.";
}

/** External identity provider settings, or undefined when it is not (completely) configured. */
export function externalIdpFromEnv(env: {
  AUTH_ISSUER?: string;
  AUTH_AUDIENCE?: string;
  AUTH_JWKS_URL?: string;
  AUTH_JWKS?: string;
  AUTH_ALGORITHMS?: string;
  AUTH_TENANT_CLAIM?: string;
  AUTH_ROLE_CLAIM?: string;
}): ExternalIdpConfig | undefined {
  if (!env.AUTH_ISSUER || !env.AUTH_AUDIENCE || !(env.AUTH_JWKS_URL || env.AUTH_JWKS)) return undefined;
  const keys = env.AUTH_JWKS ? localJwks(env.AUTH_JWKS) : remoteJwks(env.AUTH_JWKS_URL as string);
  return {
    issuer: env.AUTH_ISSUER,
    audience: env.AUTH_AUDIENCE,
    // HMAC and `none` are never accepted, whatever the configuration says.
    algorithms: (env.AUTH_ALGORITHMS ?? "RS256,ES256,EdDSA")
      .split(",")
      .map((alg) => alg.trim())
      .filter((alg) => alg !== "" && alg !== "none" && !alg.startsWith("HS")),
    tenantClaim: env.AUTH_TENANT_CLAIM || "tenant",
    roleClaim: env.AUTH_ROLE_CLAIM || "role",
    keys,
  };
}

const localJwksCache = new Map<string, JWTVerifyGetKey>();
function localJwks(json: string): JWTVerifyGetKey {
  let keys = localJwksCache.get(json);
  if (!keys) {
    keys = createLocalJWKSet(JSON.parse(json));
    localJwksCache.set(json, keys);
  }
  return keys;
}

const remoteJwksCache = new Map<string, JWTVerifyGetKey>();
function remoteJwks(url: string): JWTVerifyGetKey {
  let keys = remoteJwksCache.get(url);
  if (!keys) {
    keys = createRemoteJWKSet(new URL(url), { timeoutDuration: 3000, cooldownDuration: 30_000 });
    remoteJwksCache.set(url, keys);
  }
  return keys;
}
