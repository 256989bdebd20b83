import type { z } from "@hono/zod-openapi";
import { resolveFlag } from "../../../shared/contracts/flags";
import { roleAtLeast } from "../../../shared/contracts/roles";
import { masterSecret, tokenConfig } from "../../auth/config";
import { platformJwks } from "../../auth/platform-keys";
import { issuePlatformToken, MAX_TOKEN_TTL_SECONDS } from "../../auth/tokens";
import { type AppRouteHandler, mediaTypeOf } from "../../openapi";
import { HttpError } from "../../problems/http-error";
import { validationError } from "../../problems/problem-response";
import type * as routes from "./auth.routes";
import { type jwksSchema, tokenRequestSchema } from "./auth.routes";

type TokenRequest = z.infer<typeof tokenRequestSchema>;

/** The optional token request body: `{}` when empty, 415 unless JSON, 400 unless it parses and validates. */
function tokenRequestFrom(text: string, mediaType: string): TokenRequest {
  if (text.trim() === "") return {};
  if (mediaType !== "application/json") {
    throw new HttpError(415, "unsupported-media-type", "Unsupported Media Type", "Send the body as application/json.");
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
  if (!parsed.success) throw validationError(parsed.error, "body");
  return parsed.data;
}

export const exchangeToken: AppRouteHandler<typeof routes.exchangeToken> = async (c) => {
  const { principal, tenant } = c.var;
  if (principal.credential !== "api-key" || principal.apiKeyId === undefined) {
    throw new HttpError(403, "api-key-required", "Forbidden", "Only an API key can be exchanged for a token.");
  }
  const body = tokenRequestFrom(await c.req.text(), mediaTypeOf(c));
  const role = body.role ?? principal.role;
  if (!roleAtLeast(principal.role, role)) {
    throw new HttpError(403, "insufficient-role", "Forbidden", `The key cannot grant the ${role} role.`);
  }
  const now = Math.floor(Date.now() / 1000);
  const flagTtlCap = resolveFlag("maxTokenTtlSeconds", tenant).value as number;
  const requestedTtl = Math.min(body.ttlSeconds ?? MAX_TOKEN_TTL_SECONDS, flagTtlCap);
  // A token never outlives the key it was exchanged for.
  const keyExpiresAt =
    principal.apiKeyExpiresAtMs === undefined ? undefined : Math.floor(principal.apiKeyExpiresAtMs / 1000);
  const ttl = keyExpiresAt === undefined ? requestedTtl : Math.max(0, Math.min(requestedTtl, keyExpiresAt - now));
  const { token, expiresAt } = await issuePlatformToken(
    tokenConfig(c.env),
    {
      tenantId: principal.tenantId,
      role,
      subject: principal.subject,
      edge: {
        apiKeyId: principal.apiKeyId as string,
        slug: tenant.slug,
        plan: tenant.plan,
        status: tenant.status,
        jurisdiction: tenant.jurisdiction,
        flags: tenant.flags,
        // The claims are as old as the D1 read they come from, so the revocation bound holds for the token too.
        confirmedAtSeconds: Math.floor(principal.confirmedAtMs / 1000),
      },
    },
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
};

export const platformKeys: AppRouteHandler<typeof routes.platformKeys> = async (c) => {
  const jwks = await platformJwks(masterSecret(c.env), tokenConfig(c.env).keyVersion);
  return c.json(jwks as z.infer<typeof jwksSchema>, 200, { "cache-control": "public, max-age=300" });
};
