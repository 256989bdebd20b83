import { createDecipheriv, createHash, createPublicKey, hkdfSync, verify as nodeVerify } from "node:crypto";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../../shared/core/canonical-json";
import { base64ToBytes, bytesToBase64, bytesToBase64Url, utf8 } from "../../../shared/core/encoding";
import {
  ed25519Kid,
  ed25519Sign,
  generateSigningKey,
  importSigningKey,
  SigningKeyError,
  signerFromPrivateJwk,
} from "../../../shared/crypto/ed25519";
import { decryptSecret, encryptSecret, rewrapSecret, SecretBoxError } from "../../../shared/crypto/secret-box";
import {
  activeSigningKey,
  createTenantSigningKey,
  publicJwks,
  rewrapTenantSigningKey,
  rotateTenantSigningKeys,
  tenantSigningKeySchema,
  unlockSigningKey,
} from "../../../shared/crypto/tenant-keys";

const MASTER = "m".repeat(32);
const MASTER_2 = new Uint8Array(32).fill(7);

const hexToBytes = (hex: string) => new Uint8Array(Buffer.from(hex, "hex"));

describe("encoding", () => {
  it("round-trips base64 in both alphabets and refuses garbage", () => {
    const bytes = new Uint8Array(300).map((_, i) => (i * 37) & 0xff);
    expect(bytesToBase64(bytes)).toBe(Buffer.from(bytes).toString("base64"));
    expect(bytesToBase64Url(bytes)).toBe(Buffer.from(bytes).toString("base64url"));
    expect(base64ToBytes(bytesToBase64(bytes))).toEqual(bytes);
    expect(base64ToBytes(bytesToBase64Url(bytes))).toEqual(bytes);
    expect(() => base64ToBytes("a b")).toThrow();
    expect(() => base64ToBytes("abcde")).toThrow();
  });

  it("encodes every length around base64's groups and btoa's chunks like Buffer", () => {
    for (const length of [0, 1, 2, 3, 4, 5, 0x8000 - 1, 0x8000, 0x8000 + 1, 3 * 0x8000 + 2]) {
      const bytes = new Uint8Array(length).map((_, i) => (i * 131 + 7) & 0xff);
      expect(bytesToBase64(bytes)).toBe(Buffer.from(bytes).toString("base64"));
      expect(base64ToBytes(bytesToBase64(bytes))).toEqual(bytes);
    }
  });
});

describe("Ed25519 keys", () => {
  it("signs the RFC 8032 test vector 2 exactly and reproduces the RFC 8037 thumbprint", async () => {
    // RFC 8032 §7.1 TEST 2 (one-byte message 0x72).
    const d = bytesToBase64Url(hexToBytes("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"));
    const x = bytesToBase64Url(hexToBytes("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"));
    const key = await importSigningKey({ kty: "OKP", crv: "Ed25519", x, d });
    const sig = await ed25519Sign(key, new Uint8Array([0x72]));
    expect(Buffer.from(sig).toString("hex")).toBe(
      "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    );
    // RFC 8037 appendix A.3.
    expect(await ed25519Kid({ kty: "OKP", crv: "Ed25519", x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" })).toBe(
      "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k",
    );
  });

  it("generates extractable JWKs whose signatures node:crypto accepts", async () => {
    const generated = await generateSigningKey();
    expect(generated.publicJwk).toMatchObject({
      kty: "OKP",
      crv: "Ed25519",
      kid: generated.kid,
      alg: "EdDSA",
      use: "sig",
    });
    expect(generated.publicJwk).not.toHaveProperty("d");
    const thumbprint = createHash("sha256")
      .update(`{"crv":"Ed25519","kty":"OKP","x":"${generated.publicJwk.x}"}`)
      .digest("base64url");
    expect(generated.kid).toBe(thumbprint);
    const signer = await signerFromPrivateJwk(generated.privateJwk);
    const message = utf8("hello");
    const sig = await signer.sign(message);
    const publicKey = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: generated.publicJwk.x }, format: "jwk" });
    expect(nodeVerify(null, message, publicKey, sig)).toBe(true);
    expect(nodeVerify(null, utf8("hellp"), publicKey, sig)).toBe(false);
  });
});

describe("secret box", () => {
  const seal = { masterSecret: MASTER, keyVersion: 1, tenantId: "t_1", purpose: "signing-key:k" };
  const open = { masterSecrets: MASTER, tenantId: "t_1", purpose: "signing-key:k" };

  it("round-trips and uses a fresh IV each time", async () => {
    const a = await encryptSecret("secret jwk", seal);
    const b = await encryptSecret("secret jwk", seal);
    expect(a.iv).not.toBe(b.iv);
    expect(new TextDecoder().decode(await decryptSecret(a, open))).toBe("secret jwk");
  });

  it("is HKDF-SHA-256 + AES-256-GCM exactly as documented (checked with node:crypto)", async () => {
    const box = await encryptSecret("abc", seal);
    const key = Buffer.from(
      hkdfSync(
        "sha256",
        Buffer.from(MASTER),
        Buffer.from("kgen-edge/secret-box/v1"),
        Buffer.from(canonicalJson(["kgen-edge tenant secret", "t_1", 1])),
        32,
      ),
    );
    const ct = Buffer.from(base64ToBytes(box.ct));
    const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(base64ToBytes(box.iv)));
    decipher.setAAD(Buffer.from(canonicalJson({ keyVersion: 1, purpose: "signing-key:k", tenantId: "t_1", v: 1 })));
    decipher.setAuthTag(ct.subarray(ct.length - 16));
    expect(Buffer.concat([decipher.update(ct.subarray(0, ct.length - 16)), decipher.final()]).toString()).toBe("abc");
  });

  it("does not open for another tenant, purpose, master secret, or after tampering", async () => {
    const box = await encryptSecret("s", seal);
    await expect(decryptSecret(box, { ...open, tenantId: "t_2" })).rejects.toBeInstanceOf(SecretBoxError);
    await expect(decryptSecret(box, { ...open, purpose: "webhook" })).rejects.toBeInstanceOf(SecretBoxError);
    await expect(decryptSecret(box, { ...open, masterSecrets: "x".repeat(32) })).rejects.toBeInstanceOf(SecretBoxError);
    const ct = base64ToBytes(box.ct);
    ct[0] = (ct[0] as number) ^ 1;
    await expect(decryptSecret({ ...box, ct: bytesToBase64Url(ct) }, open)).rejects.toThrow(/decryption failed/);
    await expect(decryptSecret({ ...box, keyVersion: 2 }, open)).rejects.toBeInstanceOf(SecretBoxError);
    await expect(decryptSecret({ ...box, v: 2 }, open)).rejects.toThrow(/malformed/);
    await expect(encryptSecret("s", { ...seal, masterSecret: "short" })).rejects.toThrow(/32 bytes/);
  });

  it("supports master secret rotation by key version", async () => {
    const old = await encryptSecret("s", seal);
    const rewrapped = await rewrapSecret(old, { ...open, masterSecret: MASTER_2, keyVersion: 2 });
    expect(rewrapped.keyVersion).toBe(2);
    const both = { 1: MASTER, 2: MASTER_2 };
    expect(new TextDecoder().decode(await decryptSecret(rewrapped, { ...open, masterSecrets: both }))).toBe("s");
    expect(new TextDecoder().decode(await decryptSecret(old, { ...open, masterSecrets: both }))).toBe("s");
    await expect(decryptSecret(rewrapped, { ...open, masterSecrets: { 1: MASTER } })).rejects.toThrow(/key version 2/);
  });
});

describe("tenant signing keys", () => {
  const tenant = { tenantId: "t_acme", masterSecret: MASTER, keyVersion: 1 };

  it("creates a sealed active key that signs verifiably after a JSON round trip", async () => {
    const key = await createTenantSigningKey({ ...tenant, createdAt: "2026-11-01T00:00:00Z" });
    expect(key.status).toBe("active");
    expect(JSON.stringify(key)).not.toContain('"d"');
    const stored = tenantSigningKeySchema.parse(JSON.parse(JSON.stringify(key)));
    const signer = await unlockSigningKey(stored, { tenantId: "t_acme", masterSecrets: MASTER });
    expect(signer.keyid).toBe(key.kid);
    const sig = await signer.sign(utf8("m"));
    const [jwk] = publicJwks([stored]).keys;
    expect(jwk).toEqual({ kty: "OKP", crv: "Ed25519", x: key.publicJwk.x, kid: key.kid, alg: "EdDSA", use: "sig" });
    const publicKey = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: jwk?.x as string }, format: "jwk" });
    expect(nodeVerify(null, utf8("m"), publicKey, sig)).toBe(true);
    await expect(unlockSigningKey(stored, { tenantId: "t_other", masterSecrets: MASTER })).rejects.toBeInstanceOf(
      SecretBoxError,
    );
  });

  it("rotates: one active key, old keys retired but still published", async () => {
    const first = await createTenantSigningKey({ ...tenant, createdAt: "2026-11-01T00:00:00Z" });
    const { keys, active } = await rotateTenantSigningKeys([first], { ...tenant, createdAt: "2026-11-10T00:00:00Z" });
    expect(keys.map((key) => [key.kid, key.status, key.retiredAt])).toEqual([
      [first.kid, "retired", "2026-11-10T00:00:00Z"],
      [active.kid, "active", undefined],
    ]);
    expect(activeSigningKey(keys).kid).toBe(active.kid);
    expect(publicJwks(keys).keys.map((jwk) => jwk.kid)).toEqual([active.kid, first.kid]);
    await expect(
      unlockSigningKey(keys[0] as (typeof keys)[0], { tenantId: "t_acme", masterSecrets: MASTER }),
    ).rejects.toThrow(/retired/);
    expect(() => activeSigningKey([])).toThrow(SigningKeyError);
    expect(() => activeSigningKey([first, active])).toThrow(/found 2/);
  });

  it("refuses a record whose sealed private key belongs to another key", async () => {
    const a = await createTenantSigningKey({ ...tenant, createdAt: "2026-11-01T00:00:00Z" });
    const b = await createTenantSigningKey({ ...tenant, createdAt: "2026-11-01T00:00:00Z" });
    // Same purpose string as b's so the box opens; the kid/x check must still catch the swap.
    const sealedA = await encryptSecret(
      await decryptSecret(a.encryptedPrivateJwk, {
        masterSecrets: MASTER,
        tenantId: "t_acme",
        purpose: `signing-key:${a.kid}`,
      }),
      { ...tenant, purpose: `signing-key:${b.kid}` },
    );
    await expect(
      unlockSigningKey({ ...b, encryptedPrivateJwk: sealedA }, { tenantId: "t_acme", masterSecrets: MASTER }),
    ).rejects.toThrow(/does not match/);
  });

  it("re-wraps a key under a new master secret version", async () => {
    const key = await createTenantSigningKey({ ...tenant, createdAt: "2026-11-01T00:00:00Z" });
    const rewrapped = await rewrapTenantSigningKey(key, {
      tenantId: "t_acme",
      masterSecrets: MASTER,
      masterSecret: MASTER_2,
      keyVersion: 2,
    });
    expect(rewrapped.encryptedPrivateJwk.keyVersion).toBe(2);
    const signer = await unlockSigningKey(rewrapped, { tenantId: "t_acme", masterSecrets: { 2: MASTER_2 } });
    expect(signer.keyid).toBe(key.kid);
  });
});
