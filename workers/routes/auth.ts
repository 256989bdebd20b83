import { createRoute, z } from "@hono/zod-openapi";
import { roleAtLeast, roleSchema } from "../../shared/contracts/roles";
import { authenticate } from "../auth/authenticate";
import { masterSecret, tokenConfig } from "../auth/config";
import { platformJwks } from "../auth/platform-keys";
import { issuePlatformToken, MAX_TOKEN_TTL_SECONDS } from "../auth/tokens";
import { bearerSecurity, createRouter, mediaTypeOf, problemResponses } from "../openapi";
import { HttpError } from "../problems/http-error";
import { validationError } from "../problems/problem-response";

const tokenRequestSchema = z
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

const exchangeToken = createRoute({
  method: "post",
  path: "/auth/token",
  tags: ["auth"],
  summary: "Exchange an API key for a short-lived JWT (EdDSA, at most one hour)",
  security: bearerSecurity,
  middleware: [authenticate] as const,
  request: { body: { required: false, content: { "application/json": { schema: tokenRequestSchema } } } },
  responses: {
    200: { description: "A signed token", content: { "application/json": { schema: tokenResponseSchema } } },
    ...problemResponses(400, 401, 403, 415),
  },
});

const jwksSchema = z.object({ keys: z.array(z.record(z.string(), z.unknown())) }).meta({ id: "JWKS" });
const platformKeys = createRoute({
  method: "get",
  path: "/.well-known/jwks.json",
  tags: ["auth"],
  summary: "The platform's public token-signing keys",
  responses: { 200: { description: "JWK Set", content: { "application/json": { schema: jwksSchema } } } },
});

export const authRoutes = createRouter().openapi(exchangeToken, async (c) => {
  const principal = c.var.principal;
  if (principal.credential !== "api-key") {
    throw new HttpError(403, "api-key-required", "Forbidden", "Only an API key can be exchanged for a token.");
  }
  const text = await c.req.text();
  let body: z.infer<typeof tokenRequestSchema> = {};
  if (text.trim() !== "") {
    if (mediaTypeOf(c) !== "application/json") {
      throw new HttpError(
        415,
        "unsupported-media-type",
        "Unsupported Media Type",
        "Send the body as application/json.",
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new HttpError(400, "validation-error", "Invalid request", "The body is not valid JSON.", {
        extensions: { errors: [{ field: "body", message: "Malformed JSON" }] },
      });
    }
    const parsed = tokenRequestSchema.safeParse(json);
    if (!parsed.success) {
      throw validationError(parsed.error, "body");
    }
    body = parsed.data;
  }
  const role = body.role ?? principal.role;
  if (!roleAtLeast(principal.role, role)) {
    throw new HttpError(403, "insufficient-role", "Forbidden", `The key cannot grant the ${role} role.`);
  }
  const now = Math.floor(Date.now() / 1000);
  const requestedTtl = body.ttlSeconds ?? MAX_TOKEN_TTL_SECONDS;
  // A token never outlives the key it was exchanged for.
  const keyExpiresAt =
    principal.apiKeyExpiresAtMs === undefined ? undefined : Math.floor(principal.apiKeyExpiresAtMs / 1000);
  const ttl = keyExpiresAt === undefined ? requestedTtl : Math.max(0, Math.min(requestedTtl, keyExpiresAt - now));
  const { token, expiresAt } = await issuePlatformToken(
    tokenConfig(c.env),
    { tenantId: principal.tenantId, role, subject: principal.subject },
    ttl,
    now,
  );
  return c.json(
    {
      accessToken: token,
      tokenType: "Bearer" as const,
      expiresIn: expiresAt - now,
      expiresAt: new Date(expiresAt * 1000).toISOString(),
      role,
    },
    200,
  );
});

export const wellKnownRoutes = createRouter().openapi(platformKeys, async (c) => {
  const keyVersion = tokenConfig(c.env).keyVersion;
  const jwks = await platformJwks(masterSecret(c.env), keyVersion);
  return c.json(jwks as z.infer<typeof jwksSchema>, 200, { "cache-control": "public, max-age=300" });
});
