import { importJWK, type JWK } from "jose";
import { describe, expect, it } from "vitest";
import { base64ToBytes, bytesToBase64 } from "../../../shared/core/encoding";
import { sha256Hex } from "../../../shared/core/sha256";
import {
  createTenantSigningKey,
  publicJwks,
  rotateTenantSigningKeys,
  tenantSigningKeySchema,
  unlockSigningKey,
} from "../../../shared/crypto/tenant-keys";
import { attestArtifact, preAuthEncoding, verifyEnvelope } from "../../../shared/generate/attestation";

const MASTER = "workerd-master-secret-at-least-32-bytes";

async function provenanceFor(bytes: Uint8Array) {
  return {
    path: "docs/README.md",
    sha256: await sha256Hex(bytes),
    predicate: {
      graph: { name: "shop", version: 1, hash: await sha256Hex("graph") },
      template: { path: "docs/readme.md.njk", hash: await sha256Hex("template") },
      paramsHash: await sha256Hex("{}"),
      engineVersion: "kgen-edge/0.1.0",
      buildTime: "2026-11-20T10:00:00Z",
      dependencies: [{ query: "SELECT * WHERE { ?s ?p ?o }", resultSha256: await sha256Hex("[]") }],
    },
  };
}

describe("base64 in workerd", () => {
  it("encodes with the runtime's encoder exactly as the portable path does", () => {
    expect(typeof (new Uint8Array(0) as Uint8Array & { toBase64?: unknown }).toBase64).toBe("function");
    for (const length of [0, 1, 2, 3, 4, 5, 1500, 0x8000 + 1]) {
      const bytes = new Uint8Array(length).map((_, i) => (i * 131 + 7) & 0xff);
      let binary = "";
      for (const byte of bytes) binary += String.fromCharCode(byte);
      expect(bytesToBase64(bytes)).toBe(btoa(binary));
      expect(base64ToBytes(bytesToBase64(bytes))).toEqual(bytes);
    }
  });
});

describe("tenant keys and DSSE attestations in workerd", () => {
  it("signs with a sealed tenant key and verifies against the public JWKS", async () => {
    const key = await createTenantSigningKey({
      tenantId: "t_w",
      masterSecret: MASTER,
      keyVersion: 1,
      createdAt: "2026-11-01T00:00:00Z",
    });
    const stored = tenantSigningKeySchema.parse(JSON.parse(JSON.stringify(key)));
    const signer = await unlockSigningKey(stored, { tenantId: "t_w", masterSecrets: MASTER });
    const artifact = new TextEncoder().encode("# Shop\n");
    const envelope = await attestArtifact(await provenanceFor(artifact), signer);
    const jwks = publicJwks([stored]);

    const result = await verifyEnvelope(envelope, jwks as { keys: JWK[] }, {
      expectedSha256: await sha256Hex(artifact),
    });
    expect(result).toMatchObject({ valid: true, reasons: [], keyid: key.kid });
    expect(JSON.stringify(await attestArtifact(await provenanceFor(artifact), signer))).toBe(JSON.stringify(envelope));

    const payload = base64ToBytes(envelope.payload);
    payload[20] = (payload[20] as number) ^ 1;
    const tampered = { ...envelope, payload: bytesToBase64(payload) };
    const tamperedResult = await verifyEnvelope(tampered, jwks as { keys: JWK[] });
    expect(tamperedResult.valid).toBe(false);
    expect(tamperedResult.reasons).toContain("bad-signature");

    const changed = new TextEncoder().encode("# Shop!\n");
    const mismatch = await verifyEnvelope(envelope, jwks as { keys: JWK[] }, {
      expectedSha256: await sha256Hex(changed),
    });
    expect(mismatch.reasons).toEqual(["subject-mismatch"]);

    // What the README shows: jose + WebCrypto only.
    const jwk = jwks.keys.find((k) => k.kid === envelope.signatures[0]?.keyid) as JWK;
    const publicKey = (await importJWK(jwk, "EdDSA")) as CryptoKey;
    const pae = preAuthEncoding(envelope.payloadType, base64ToBytes(envelope.payload));
    const sig = base64ToBytes(envelope.signatures[0]?.sig as string);
    expect(await crypto.subtle.verify("Ed25519", publicKey, sig, pae)).toBe(true);
  });

  it("keeps old attestations verifiable after rotation", async () => {
    const first = await createTenantSigningKey({
      tenantId: "t_w",
      masterSecret: MASTER,
      keyVersion: 1,
      createdAt: "2026-11-01T00:00:00Z",
    });
    const artifact = new TextEncoder().encode("x\n");
    const oldEnvelope = await attestArtifact(
      await provenanceFor(artifact),
      await unlockSigningKey(first, { tenantId: "t_w", masterSecrets: MASTER }),
    );
    const { keys, active } = await rotateTenantSigningKeys([first], {
      tenantId: "t_w",
      masterSecret: MASTER,
      keyVersion: 1,
      createdAt: "2026-11-05T00:00:00Z",
    });
    const jwks = publicJwks(keys) as { keys: JWK[] };
    expect(jwks.keys.map((k) => k.kid)).toEqual([active.kid, first.kid]);
    expect((await verifyEnvelope(oldEnvelope, jwks)).valid).toBe(true);
    await expect(
      unlockSigningKey(keys[0] as (typeof keys)[0], { tenantId: "t_w", masterSecrets: MASTER }),
    ).rejects.toThrow(/retired/);
    await expect(unlockSigningKey(active, { tenantId: "t_x", masterSecrets: MASTER })).rejects.toThrow(
      /decryption failed/,
    );
  });
});
