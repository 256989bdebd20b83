import { createRoute, z } from "@hono/zod-openapi";
import { dsseEnvelopeSchema, verifyRequestSchema, verifyResponseSchema } from "../../../shared/contracts/attestation";
import { requireRole } from "../../auth/authenticate";
import { cacheImmutableContent } from "../../middleware/edge-content-cache";
import { tenantRequest } from "../../middleware/tenant-request";
import { bearerSecurity, problemResponses, requireJsonBody } from "../../openapi";

const artifactIdParam = z.object({ id: z.string().min(1).max(64) });

export const explanationSchema = z
  .object({
    id: z.string(),
    jobId: z.string(),
    valid: z.boolean(),
    reasons: z.array(z.string()),
    details: z.array(z.string()),
    signedBy: z.string().nullable(),
    artifact: z.object({ path: z.string(), sha256: z.string() }).nullable(),
    graph: z.object({ name: z.string(), version: z.union([z.number(), z.string()]), hash: z.string() }).nullable(),
    generator: z.string().nullable(),
    template: z.object({ path: z.string(), hash: z.string() }).nullable(),
    paramsHash: z.string().nullable(),
    engineVersion: z.string().nullable(),
    buildTime: z.string().nullable(),
    mode: z.string().nullable(),
    lockHash: z.string().nullable(),
    dependencies: z.array(z.object({ query: z.string(), resultSha256: z.string() })),
    summary: z.array(z.string()),
  })
  .meta({ id: "ArtifactExplanation" });

export const getArtifactContent = createRoute({
  method: "get",
  path: "/artifacts/{id}",
  tags: ["jobs"],
  summary: "An artifact's bytes; ETag is its sha256, If-None-Match gives 304 (viewer)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("viewer"), cacheImmutableContent] as const,
  request: { params: artifactIdParam, headers: z.object({ "if-none-match": z.string().optional() }) },
  responses: {
    200: {
      description:
        "The bytes, with a media type from the file name (`text/typescript`, `application/yaml`, …; `application/octet-stream` when unknown); `x-kgen-path` names the artifact's path",
      content: { "*/*": { schema: z.string().meta({ format: "binary" }) } },
    },
    304: { description: "Not modified" },
    ...problemResponses(401, 403, 404, 429),
  },
});

export const getArtifactAttestation = createRoute({
  method: "get",
  path: "/artifacts/{id}/attestation",
  tags: ["jobs"],
  summary: "The artifact's DSSE envelope with its in-toto statement (viewer)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("viewer"), cacheImmutableContent] as const,
  request: { params: artifactIdParam },
  responses: {
    200: { description: "The envelope", content: { "application/json": { schema: dsseEnvelopeSchema } } },
    ...problemResponses(401, 403, 404, 429),
  },
});

export const explainArtifact = createRoute({
  method: "get",
  path: "/artifacts/{id}/explain",
  tags: ["jobs"],
  summary: "The artifact's provenance, verified and readable (viewer)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("viewer")] as const,
  request: { params: artifactIdParam },
  responses: {
    200: { description: "The explanation", content: { "application/json": { schema: explanationSchema } } },
    ...problemResponses(401, 403, 404, 429),
  },
});

export const verifyEnvelope = createRoute({
  method: "post",
  path: "/verify",
  tags: ["jobs"],
  summary:
    "Verify an envelope against an artifact (its stored envelope when none is given) or a sha256, with the tenant's public keys (viewer)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("viewer"), requireJsonBody] as const,
  request: { body: { required: true, content: { "application/json": { schema: verifyRequestSchema } } } },
  responses: {
    200: { description: "The verdict", content: { "application/json": { schema: verifyResponseSchema } } },
    ...problemResponses(400, 401, 403, 404, 415, 429),
  },
});
