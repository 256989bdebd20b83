import { createRoute, z } from "@hono/zod-openapi";
import { requireRole } from "../../auth/authenticate";
import { tenantRequest } from "../../middleware/tenant-request";
import { bearerSecurity, problemResponses } from "../../openapi";

const publicJwkSchema = z.object({
  kty: z.literal("OKP"),
  crv: z.literal("Ed25519"),
  x: z.string(),
  kid: z.string().optional(),
  alg: z.string().optional(),
  use: z.string().optional(),
});
const jwksSchema = z.object({ keys: z.array(publicJwkSchema) }).meta({ id: "TenantJWKS" });
const signingKeySchema = z
  .object({
    kid: z.string(),
    status: z.enum(["active", "retired"]),
    createdAt: z.string(),
    retiredAt: z.string().nullable(),
    publicJwk: z.record(z.string(), z.unknown()),
  })
  .meta({ id: "SigningKey" });

export const tenantJwks = createRoute({
  method: "get",
  path: "/tenants/{tenant}/jwks.json",
  tags: ["provenance"],
  summary:
    "A tenant's public provenance keys, active and retired, by tenant id or slug (public: anyone can verify attestations)",
  request: {
    params: z.object({ tenant: z.string().min(1).max(64).describe("The tenant's id (`tn_…`) or its slug.") }),
  },
  responses: {
    200: { description: "JWK Set", content: { "application/json": { schema: jwksSchema } } },
    ...problemResponses(400, 404),
  },
});

export const listKeys = createRoute({
  method: "get",
  path: "/signing-keys",
  tags: ["provenance"],
  summary: "The tenant's signing keys (admin and up)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("admin")] as const,
  responses: {
    200: {
      description: "Keys",
      content: { "application/json": { schema: z.object({ items: z.array(signingKeySchema) }) } },
    },
    ...problemResponses(401, 403, 429),
  },
});

export const rotateKeys = createRoute({
  method: "post",
  path: "/signing-keys/rotate",
  tags: ["provenance"],
  summary: "Make a new active signing key; the old one is retired and stays published (owner; no body)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("owner")] as const,
  responses: {
    201: { description: "The new active key", content: { "application/json": { schema: signingKeySchema } } },
    ...problemResponses(401, 403, 413, 429),
  },
});
