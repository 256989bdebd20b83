import { createRoute, z } from "@hono/zod-openapi";
import { roleSchema } from "../../../shared/contracts/roles";
import { MAX_TOKEN_TTL_SECONDS } from "../../auth/tokens";
import { jsonBodyLimit } from "../../middleware/body-limit";
import { tenantRequest } from "../../middleware/tenant-request";
import { bearerSecurity, problemResponses } from "../../openapi";

export const tokenRequestSchema = z
  .object({
    ttlSeconds: z.number().int().min(60).max(MAX_TOKEN_TTL_SECONDS).optional(),
    role: roleSchema.optional().describe("A role at most the key's own; defaults to the key's role."),
  })
  .strict()
  .meta({ id: "TokenRequest" });

const tokenResponseSchema = z
  .object({
    accessToken: z.string(),
    tokenType: z.literal("Bearer"),
    expiresIn: z.number().int(),
    expiresAt: z.string(),
    role: roleSchema,
  })
  .meta({ id: "TokenResponse" });

export const jwksSchema = z.object({ keys: z.array(z.record(z.string(), z.unknown())) }).meta({ id: "JWKS" });

// The body is optional, so the handler reads it itself: zod-openapi would refuse an empty one.
export const exchangeToken = createRoute({
  method: "post",
  path: "/auth/token",
  tags: ["auth"],
  summary: "Exchange an API key for a short-lived JWT (EdDSA, at most one hour)",
  security: bearerSecurity,
  middleware: [...tenantRequest, jsonBodyLimit] as const,
  request: { body: { required: false, content: { "application/json": { schema: tokenRequestSchema } } } },
  responses: {
    200: { description: "A signed token", content: { "application/json": { schema: tokenResponseSchema } } },
    ...problemResponses(400, 401, 403, 413, 415, 429),
  },
});

export const platformKeys = createRoute({
  method: "get",
  path: "/.well-known/jwks.json",
  tags: ["auth"],
  summary: "The platform's public token-signing keys",
  responses: { 200: { description: "JWK Set", content: { "application/json": { schema: jwksSchema } } } },
});
