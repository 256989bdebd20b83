import { calculateJwkThumbprint, type JWK } from "jose";
import { utf8 } from "../../shared/core/encoding";

/** DER prefix of a PKCS#8 Ed25519 private key; the 32-byte seed follows it. */
const ED25519_PKCS8_PREFIX = new Uint8Array([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

export interface PlatformSigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

const cache = new Map<string, Promise<PlatformSigningKey>>();

/**
 * The platform's token-signing key for one key version, derived with HKDF from MASTER_SECRET, so
 * no private key has to be provisioned or stored; bumping JWT_KEY_VERSION rotates it while older
 * versions stay published for verification.
 */
export function platformSigningKey(masterSecret: string, version: number): Promise<PlatformSigningKey> {
  const cacheKey = `${version}:${masterSecret}`;
  let key = cache.get(cacheKey);
  if (!key) {
    key = derivePlatformSigningKey(masterSecret, version);
    cache.set(cacheKey, key);
  }
  return key;
}

async function derivePlatformSigningKey(masterSecret: string, version: number): Promise<PlatformSigningKey> {
  const ikm = await crypto.subtle.importKey("raw", utf8(masterSecret), "HKDF", false, ["deriveBits"]);
  const seed = await crypto.subtle.deriveBits(
    { name: "HKDF", hash: "SHA-256", salt: utf8("kgen-edge/platform-jwt"), info: utf8(`v${version}`) },
    ikm,
    256,
  );
  const pkcs8 = new Uint8Array(ED25519_PKCS8_PREFIX.length + 32);
  pkcs8.set(ED25519_PKCS8_PREFIX);
  pkcs8.set(new Uint8Array(seed), ED25519_PKCS8_PREFIX.length);
  const privateKey = await crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, true, ["sign"]);
  const { x } = (await crypto.subtle.exportKey("jwk", privateKey)) as JsonWebKey;
  if (!x) throw new Error("Ed25519 JWK export did not include the public key");
  const base: JWK = { kty: "OKP", crv: "Ed25519", x };
  const kid = await calculateJwkThumbprint(base);
  return { kid, privateKey, publicJwk: { ...base, kid, alg: "EdDSA", use: "sig" } };
}

/** Every published key version: the current one and all older ones. */
export async function platformJwks(masterSecret: string, currentVersion: number): Promise<{ keys: JWK[] }> {
  const keys: JWK[] = [];
  for (let version = currentVersion; version >= 1; version--) {
    keys.push((await platformSigningKey(masterSecret, version)).publicJwk);
  }
  return { keys };
}
