import { z } from "zod";
import { canonicalJson } from "../core/canonical-json";
import { Base64Error, base64ToBytes, bytesToBase64Url, utf8 } from "../core/encoding";

/**
 * Secrets at rest (tenant signing keys, webhook secrets): AES-256-GCM under a key derived per
 * tenant with HKDF-SHA-256 from the platform master secret.
 *   salt = "kgen-edge/secret-box/v1"
 *   info = canonical JSON of ["kgen-edge tenant secret", tenantId, keyVersion]
 * `keyVersion` is the version of the master secret, so the master secret can be rotated: old
 * boxes name the version they were sealed under and are re-sealed with rewrapSecret.
 * The additional authenticated data binds tenant, key version and a purpose string, so a box
 * copied to another tenant or another purpose does not open.
 */
export const encryptedSecretSchema = z.strictObject({
  v: z.literal(1),
  alg: z.literal("A256GCM"),
  kdf: z.literal("HKDF-SHA-256"),
  keyVersion: z.number().int().nonnegative(),
  /** 96-bit IV, base64url. */
  iv: z.string().min(1),
  /** Ciphertext followed by the 128-bit GCM tag, base64url. */
  ct: z.string().min(1),
});

export type EncryptedSecret = z.infer<typeof encryptedSecretSchema>;

/** The platform master secret (≥ 32 bytes; a string counts as its UTF-8 bytes). */
export type MasterSecret = Uint8Array | string;

/** One master secret, or every version still in use (keyVersion → secret) for decryption. */
export type MasterSecrets = MasterSecret | Readonly<Record<number, MasterSecret>>;

export class SecretBoxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SecretBoxError";
  }
}

const HKDF_SALT = utf8("kgen-edge/secret-box/v1");

function masterBytes(secret: MasterSecret): Uint8Array {
  const bytes = typeof secret === "string" ? utf8(secret) : secret;
  if (bytes.length < 32) throw new SecretBoxError("master secret must be at least 32 bytes");
  return bytes;
}

/** The per-tenant AES-256-GCM key for one master key version (non-extractable). */
export async function deriveTenantKey(
  masterSecret: MasterSecret,
  tenantId: string,
  keyVersion: number,
): Promise<CryptoKey> {
  if (tenantId.length === 0) throw new SecretBoxError("tenant id is empty");
  if (!Number.isInteger(keyVersion) || keyVersion < 0) throw new SecretBoxError("key version must be an integer ≥ 0");
  const base = await crypto.subtle.importKey(
    "raw",
    masterBytes(masterSecret) as Uint8Array<ArrayBuffer>,
    "HKDF",
    false,
    ["deriveKey"],
  );
  return crypto.subtle.deriveKey(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: HKDF_SALT as Uint8Array<ArrayBuffer>,
      info: utf8(canonicalJson(["kgen-edge tenant secret", tenantId, keyVersion])) as Uint8Array<ArrayBuffer>,
    },
    base,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

function additionalData(tenantId: string, keyVersion: number, purpose: string): Uint8Array<ArrayBuffer> {
  return utf8(canonicalJson({ keyVersion, purpose, tenantId, v: 1 })) as Uint8Array<ArrayBuffer>;
}

export interface SealOptions {
  masterSecret: MasterSecret;
  keyVersion: number;
  tenantId: string;
  /** What the secret is for (e.g. `signing-key:<kid>`); must be given again to open it. */
  purpose: string;
}

export async function encryptSecret(plaintext: Uint8Array | string, options: SealOptions): Promise<EncryptedSecret> {
  const key = await deriveTenantKey(options.masterSecret, options.tenantId, options.keyVersion);
  // A random IV is fine here: sealing secrets is not on the deterministic generation path.
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const data = typeof plaintext === "string" ? utf8(plaintext) : plaintext;
  const ct = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: additionalData(options.tenantId, options.keyVersion, options.purpose) },
    key,
    data as Uint8Array<ArrayBuffer>,
  );
  return {
    v: 1,
    alg: "A256GCM",
    kdf: "HKDF-SHA-256",
    keyVersion: options.keyVersion,
    iv: bytesToBase64Url(iv),
    ct: bytesToBase64Url(new Uint8Array(ct)),
  };
}

export interface OpenOptions {
  masterSecrets: MasterSecrets;
  tenantId: string;
  purpose: string;
}

function secretForVersion(secrets: MasterSecrets, keyVersion: number): MasterSecret {
  if (typeof secrets === "string" || secrets instanceof Uint8Array) return secrets;
  const secret = secrets[keyVersion];
  if (secret === undefined) throw new SecretBoxError(`no master secret for key version ${keyVersion}`);
  return secret;
}

/** Opens a box; any tampering, wrong tenant, wrong purpose or wrong master secret → SecretBoxError. */
export async function decryptSecret(sealed: unknown, options: OpenOptions): Promise<Uint8Array> {
  const parsed = encryptedSecretSchema.safeParse(sealed);
  if (!parsed.success) throw new SecretBoxError("malformed encrypted secret");
  const box = parsed.data;
  const key = await deriveTenantKey(
    secretForVersion(options.masterSecrets, box.keyVersion),
    options.tenantId,
    box.keyVersion,
  );
  let iv: Uint8Array;
  let ct: Uint8Array;
  try {
    iv = base64ToBytes(box.iv);
    ct = base64ToBytes(box.ct);
  } catch (error) {
    if (error instanceof Base64Error) throw new SecretBoxError("malformed encrypted secret");
    throw error;
  }
  if (iv.length !== 12) throw new SecretBoxError("malformed encrypted secret");
  try {
    const plain = await crypto.subtle.decrypt(
      {
        name: "AES-GCM",
        iv: iv as Uint8Array<ArrayBuffer>,
        additionalData: additionalData(options.tenantId, box.keyVersion, options.purpose),
      },
      key,
      ct as Uint8Array<ArrayBuffer>,
    );
    return new Uint8Array(plain);
  } catch {
    throw new SecretBoxError("decryption failed (wrong tenant, purpose or master secret, or tampered data)");
  }
}

/** Re-seals a box under another master key version (master secret rotation). */
export async function rewrapSecret(
  sealed: unknown,
  options: OpenOptions & { masterSecret: MasterSecret; keyVersion: number },
): Promise<EncryptedSecret> {
  const plain = await decryptSecret(sealed, options);
  return encryptSecret(plain, options);
}
