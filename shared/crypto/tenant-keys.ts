import { z } from "zod";
import {
  type Ed25519PrivateJwk,
  type Ed25519PublicJwk,
  ed25519Kid,
  ed25519Sign,
  generateSigningKey,
  importSigningKey,
  type Signer,
  SigningKeyError,
  toPublicJwk,
} from "./ed25519";
import {
  decryptSecret,
  type EncryptedSecret,
  encryptedSecretSchema,
  encryptSecret,
  type MasterSecret,
  type MasterSecrets,
  rewrapSecret,
} from "./secret-box";

export type { Signer } from "./ed25519";

/**
 * Rotation model: a tenant has a list of signing keys. Exactly one is `active` and signs new
 * attestations; rotation adds a new active key and marks the previous one `retired`. Retired
 * keys never sign again but stay in the published JWKS, so every attestation ever issued can
 * still be verified. Times are given by the caller (no clock in here).
 */
export const signingKeyStatusSchema = z.enum(["active", "retired"]);

export const publicJwkSchema = z.object({
  kty: z.literal("OKP"),
  crv: z.literal("Ed25519"),
  x: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  kid: z.string().optional(),
  alg: z.string().optional(),
  use: z.string().optional(),
});

export const tenantSigningKeySchema = z.strictObject({
  kid: z.string().min(1),
  status: signingKeyStatusSchema,
  createdAt: z.string().min(1),
  retiredAt: z.string().min(1).optional(),
  publicJwk: publicJwkSchema,
  /** The private JWK, sealed with secret-box under purpose `signing-key:<kid>`. */
  encryptedPrivateJwk: encryptedSecretSchema,
});

export type SigningKeyStatus = z.infer<typeof signingKeyStatusSchema>;
export type TenantSigningKey = z.infer<typeof tenantSigningKeySchema>;

export interface NewKeyOptions {
  tenantId: string;
  masterSecret: MasterSecret;
  /** Version of the master secret used to seal the private key. */
  keyVersion: number;
  /** ISO timestamp chosen by the caller (e.g. the tenant creation time). */
  createdAt: string;
}

function purposeFor(kid: string): string {
  return `signing-key:${kid}`;
}

/** Generates a key pair and seals its private JWK: the tenant's first (active) key. */
export async function createTenantSigningKey(options: NewKeyOptions): Promise<TenantSigningKey> {
  const generated = await generateSigningKey();
  const encryptedPrivateJwk: EncryptedSecret = await encryptSecret(JSON.stringify(generated.privateJwk), {
    masterSecret: options.masterSecret,
    keyVersion: options.keyVersion,
    tenantId: options.tenantId,
    purpose: purposeFor(generated.kid),
  });
  return {
    kid: generated.kid,
    status: "active",
    createdAt: options.createdAt,
    publicJwk: generated.publicJwk,
    encryptedPrivateJwk,
  };
}

/** Adds a new active key and retires every previously active one (retiredAt = the new key's createdAt). */
export async function rotateTenantSigningKeys(
  keys: readonly TenantSigningKey[],
  options: NewKeyOptions,
): Promise<{ keys: TenantSigningKey[]; active: TenantSigningKey }> {
  const active = await createTenantSigningKey(options);
  const retired = keys.map((key) =>
    key.status === "active" ? { ...key, status: "retired" as const, retiredAt: options.createdAt } : key,
  );
  return { keys: [...retired, active], active };
}

/** The one active key; throws SigningKeyError when there is none or more than one. */
export function activeSigningKey(keys: readonly TenantSigningKey[]): TenantSigningKey {
  const active = keys.filter((key) => key.status === "active");
  if (active.length !== 1) throw new SigningKeyError(`expected exactly one active signing key, found ${active.length}`);
  return active[0] as TenantSigningKey;
}

export interface UnlockOptions {
  tenantId: string;
  masterSecrets: MasterSecrets;
}

/** Decrypts a key's private JWK and returns a Signer; refuses retired keys. */
export async function unlockSigningKey(key: TenantSigningKey, options: UnlockOptions): Promise<Signer> {
  if (key.status !== "active") throw new SigningKeyError(`signing key ${key.kid} is ${key.status}`);
  const plain = await decryptSecret(key.encryptedPrivateJwk, {
    masterSecrets: options.masterSecrets,
    tenantId: options.tenantId,
    purpose: purposeFor(key.kid),
  });
  const privateJwk = JSON.parse(new TextDecoder().decode(plain)) as Ed25519PrivateJwk;
  // The sealed JWK must belong to this record's public key (guards against swapped records).
  if (privateJwk.x !== key.publicJwk.x || (await ed25519Kid(privateJwk)) !== key.kid) {
    throw new SigningKeyError(`sealed private key does not match key ${key.kid}`);
  }
  const privateKey = await importSigningKey(privateJwk);
  return { keyid: key.kid, sign: (message) => ed25519Sign(privateKey, message) };
}

/** Re-seals a key's private JWK under another master key version (master secret rotation). */
export async function rewrapTenantSigningKey(
  key: TenantSigningKey,
  options: UnlockOptions & { masterSecret: MasterSecret; keyVersion: number },
): Promise<TenantSigningKey> {
  const encryptedPrivateJwk = await rewrapSecret(key.encryptedPrivateJwk, {
    ...options,
    purpose: purposeFor(key.kid),
  });
  return { ...key, encryptedPrivateJwk };
}

export interface PublicJwks {
  keys: Ed25519PublicJwk[];
}

/**
 * The document served at `/v1/tenants/{id}/jwks.json`: every key, active or retired, public
 * parts only, with kid/alg/use. Order is deterministic: active first, then newest createdAt, then kid.
 */
export function publicJwks(keys: readonly TenantSigningKey[]): PublicJwks {
  const sorted = [...keys].sort((a, b) => {
    if (a.status !== b.status) return a.status === "active" ? -1 : 1;
    if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? 1 : -1;
    return a.kid < b.kid ? -1 : a.kid > b.kid ? 1 : 0;
  });
  return {
    keys: sorted.map((key) =>
      toPublicJwk({ ...key.publicJwk, kid: key.kid, alg: key.publicJwk.alg ?? "EdDSA", use: "sig" }),
    ),
  };
}
