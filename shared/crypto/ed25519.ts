import { calculateJwkThumbprint, exportJWK, importJWK, type JWK } from "jose";

/** JWS algorithm name published with our keys ("EdDSA" is the one every JOSE library knows). */
export const SIGNING_JWK_ALG = "EdDSA";

export interface Ed25519PublicJwk {
  kty: "OKP";
  crv: "Ed25519";
  x: string;
  kid?: string;
  alg?: string;
  use?: string;
}

export interface Ed25519PrivateJwk extends Ed25519PublicJwk {
  d: string;
}

export class SigningKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SigningKeyError";
  }
}

export interface GeneratedSigningKey {
  /** RFC 7638 SHA-256 thumbprint of the public key, base64url. */
  kid: string;
  publicJwk: Ed25519PublicJwk;
  /** Private JWK (with `d`): encrypt it before it is stored (see secret-box.ts). */
  privateJwk: Ed25519PrivateJwk;
}

function asEd25519Jwk(jwk: JWK): Ed25519PublicJwk {
  if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || typeof jwk.x !== "string") {
    throw new SigningKeyError("not an Ed25519 OKP JWK");
  }
  return { kty: "OKP", crv: "Ed25519", x: jwk.x };
}

/** RFC 7638 thumbprint (SHA-256, base64url) over the required members crv, kty, x. */
export function ed25519Kid(jwk: Ed25519PublicJwk): Promise<string> {
  return calculateJwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x }, "sha256");
}

/** A fresh Ed25519 key pair (WebCrypto), exported as JWKs with kid, alg and use set. */
export async function generateSigningKey(): Promise<GeneratedSigningKey> {
  const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const publicBase = asEd25519Jwk(await exportJWK(pair.publicKey));
  const privateExport = await exportJWK(pair.privateKey);
  if (typeof privateExport.d !== "string") throw new SigningKeyError("private key export lacks d");
  const kid = await ed25519Kid(publicBase);
  const publicJwk: Ed25519PublicJwk = { ...publicBase, kid, alg: SIGNING_JWK_ALG, use: "sig" };
  return { kid, publicJwk, privateJwk: { ...publicJwk, d: privateExport.d } };
}

/** Public part of a JWK (drops `d` and anything else private). */
export function toPublicJwk(jwk: Ed25519PublicJwk): Ed25519PublicJwk {
  const out: Ed25519PublicJwk = { kty: "OKP", crv: "Ed25519", x: jwk.x };
  if (jwk.kid !== undefined) out.kid = jwk.kid;
  if (jwk.alg !== undefined) out.alg = jwk.alg;
  if (jwk.use !== undefined) out.use = jwk.use;
  return out;
}

/** Non-extractable signing CryptoKey from a private JWK. */
export async function importSigningKey(jwk: Ed25519PrivateJwk): Promise<CryptoKey> {
  asEd25519Jwk(jwk as JWK);
  if (typeof jwk.d !== "string") throw new SigningKeyError("private JWK lacks d");
  const { kty, crv, x, d } = jwk;
  return (await importJWK({ kty, crv, x, d }, "Ed25519", { extractable: false })) as CryptoKey;
}

/** Verification CryptoKey from a public JWK. */
export async function importVerifyKey(jwk: Ed25519PublicJwk): Promise<CryptoKey> {
  const { kty, crv, x } = asEd25519Jwk(jwk as JWK);
  return (await importJWK({ kty, crv, x }, "Ed25519")) as CryptoKey;
}

/** Ed25519 signature (64 bytes). Ed25519 is deterministic: same key and message, same signature. */
export async function ed25519Sign(key: CryptoKey, message: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, key, message as Uint8Array<ArrayBuffer>));
}

export async function ed25519Verify(key: CryptoKey, signature: Uint8Array, message: Uint8Array): Promise<boolean> {
  if (signature.length !== 64) return false;
  return crypto.subtle.verify(
    { name: "Ed25519" },
    key,
    signature as Uint8Array<ArrayBuffer>,
    message as Uint8Array<ArrayBuffer>,
  );
}

/** What signs: a key id (published as the DSSE `keyid`) and a signing function. */
export interface Signer {
  keyid: string;
  sign(message: Uint8Array): Promise<Uint8Array>;
}

/** A Signer from a private JWK; keyid is its `kid`, else its RFC 7638 thumbprint. */
export async function signerFromPrivateJwk(jwk: Ed25519PrivateJwk): Promise<Signer> {
  const privateKey = await importSigningKey(jwk);
  const keyid = jwk.kid ?? (await ed25519Kid(jwk));
  return { keyid, sign: (message) => ed25519Sign(privateKey, message) };
}
