import type { JWK } from "jose";
import { describe, expect, it } from "vitest";
import {
  dsseEnvelopeSchema,
  publicJwksSchema,
  verifyRequestSchema,
  verifyResponseSchema,
} from "../../../shared/contracts/attestation";
import { createTenantSigningKey, publicJwks } from "../../../shared/crypto/tenant-keys";
import { verifyEnvelope } from "../../../shared/generate/attestation";
import { GOLDEN_GENERATION, goldenGeneration } from "../../fixtures/generate-golden";

describe("attestation contracts", () => {
  it("accept what the library produces", async () => {
    const { result } = await goldenGeneration();
    const envelope = result.artifacts[0]?.envelope;
    expect(dsseEnvelopeSchema.parse(envelope)).toEqual(envelope);
    const sha256 = GOLDEN_GENERATION.artifacts[0]?.sha256 as string;
    expect(verifyRequestSchema.safeParse({ sha256, envelope }).success).toBe(true);
    expect(verifyRequestSchema.safeParse({ artifact: "a_1" }).success).toBe(true);
    const key = await createTenantSigningKey({
      tenantId: "t",
      masterSecret: "m".repeat(32),
      keyVersion: 1,
      createdAt: "2026-01-01T00:00:00Z",
    });
    const jwks = publicJwks([key]);
    expect(publicJwksSchema.parse(jwks)).toEqual(jwks);
    const verdict = await verifyEnvelope(envelope, jwks as { keys: JWK[] });
    expect(verifyResponseSchema.parse(verdict).reasons).toEqual(["unknown-key"]);
  });

  it("refuse incomplete requests", () => {
    expect(verifyRequestSchema.safeParse({ sha256: "0".repeat(64) }).success).toBe(false);
    expect(
      verifyRequestSchema.safeParse({ sha256: "XYZ", envelope: { payloadType: "t", payload: "", signatures: [] } })
        .success,
    ).toBe(false);
    expect(dsseEnvelopeSchema.safeParse({ payloadType: "t", payload: "", signatures: [] }).success).toBe(false);
  });
});
