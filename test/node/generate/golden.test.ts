import { createHash, createPublicKey, verify as nodeVerify } from "node:crypto";
import { describe, expect, it } from "vitest";
import { preAuthEncoding } from "../../../shared/generate/attestation";
import { lockHash } from "../../../shared/generate/lock";
import { GOLDEN, GOLDEN_PRIVATE_JWK, goldenJob } from "../../fixtures/generate-golden";

const H = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

describe("golden job (same values asserted in workerd)", () => {
  it("reproduces the recorded lock hash, signature and bundle bytes", async () => {
    const job = await goldenJob();
    expect(await lockHash(job.lock)).toBe(GOLDEN.lockHash);
    expect(job.envelope.signatures).toEqual([{ keyid: GOLDEN.keyid, sig: GOLDEN.sig }]);
    expect(H(job.stored)).toBe(GOLDEN.storedBundleSha256);
    expect(H(job.deflated)).toBe(GOLDEN.deflatedBundleSha256);
  });

  it("has a signature node:crypto accepts", async () => {
    const job = await goldenJob();
    const key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: GOLDEN_PRIVATE_JWK.x }, format: "jwk" });
    const pae = preAuthEncoding(job.envelope.payloadType, Buffer.from(job.envelope.payload, "base64"));
    expect(nodeVerify(null, pae, key, Buffer.from(GOLDEN.sig, "base64"))).toBe(true);
  });
});
