import { z } from "zod";
import { sha256HexSchema } from "./lock";

/** DSSE envelope as `GET /v1/artifacts/{id}/attestation` returns it (payload and sig are base64). */
export const dsseEnvelopeSchema = z.object({
  payloadType: z.string().min(1),
  payload: z.string(),
  signatures: z.array(z.object({ keyid: z.string(), sig: z.string().min(1) })).min(1),
});

/**
 * `POST /v1/verify`: the artifact by id (its stored envelope is used unless one is given), or the
 * bytes you have, as their sha256 or as base64 `content`, with the envelope to check them against.
 */
export const verifyRequestSchema = z.union([
  z.strictObject({ artifact: z.string().min(1), envelope: dsseEnvelopeSchema.optional() }),
  z.strictObject({ sha256: sha256HexSchema, envelope: dsseEnvelopeSchema }),
  z.strictObject({
    content: z.string().describe("The artifact's bytes, base64 (standard or URL-safe)."),
    envelope: dsseEnvelopeSchema,
  }),
]);

export const verifyReasonSchema = z.enum([
  "malformed",
  "unsupported-payload-type",
  "unknown-key",
  "bad-signature",
  "not-in-toto-statement",
  "unsupported-predicate-type",
  "subject-mismatch",
]);

export const verifyResponseSchema = z.object({
  valid: z.boolean(),
  reasons: z.array(verifyReasonSchema),
  details: z.array(z.string()),
  keyid: z.string().nullable(),
  statement: z.unknown().nullable(),
});

/** `GET /v1/tenants/{id}/jwks.json`. */
export const publicJwksSchema = z.object({
  keys: z.array(
    z.object({
      kty: z.literal("OKP"),
      crv: z.literal("Ed25519"),
      x: z.string(),
      kid: z.string(),
      alg: z.string(),
      use: z.literal("sig"),
    }),
  ),
});

export type VerifyRequest = z.infer<typeof verifyRequestSchema>;
export type VerifyResponse = z.infer<typeof verifyResponseSchema>;
