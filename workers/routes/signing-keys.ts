import { createRoute, z } from "@hono/zod-openapi";
import { publicJwks, rotateTenantSigningKeys } from "../../shared/crypto/tenant-keys";
import { authenticate, requireRole } from "../auth/authenticate";
import { masterSecret } from "../auth/config";
import { database } from "../db/client";
import { bearerSecurity, createRouter, problemResponses } from "../openapi";
import { notFound } from "../problems/problem-response";
import { SigningKeyRing } from "../repository/signing-keys";
import { TenantDirectory } from "../repository/tenants";

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

const tenantJwks = createRoute({
  method: "get",
  path: "/tenants/{id}/jwks.json",
  tags: ["provenance"],
  summary: "A tenant's public provenance keys, active and retired (public: anyone can verify attestations)",
  request: { params: z.object({ id: z.string().min(1).max(64) }) },
  responses: {
    200: { description: "JWK Set", content: { "application/json": { schema: jwksSchema } } },
    ...problemResponses(404),
  },
});

const listKeys = createRoute({
  method: "get",
  path: "/signing-keys",
  tags: ["provenance"],
  summary: "The tenant's signing keys (admin and up)",
  security: bearerSecurity,
  middleware: [authenticate, requireRole("admin")] as const,
  responses: {
    200: {
      description: "Keys",
      content: { "application/json": { schema: z.object({ items: z.array(signingKeySchema) }) } },
    },
    ...problemResponses(401, 403, 429),
  },
});

const rotateKeys = createRoute({
  method: "post",
  path: "/signing-keys/rotate",
  tags: ["provenance"],
  summary: "Make a new active signing key; the old one is retired and stays published (owner)",
  security: bearerSecurity,
  middleware: [authenticate, requireRole("owner")] as const,
  responses: {
    201: { description: "The new active key", content: { "application/json": { schema: signingKeySchema } } },
    ...problemResponses(401, 403, 429),
  },
});

export const signingKeyRoutes = createRouter()
  .openapi(tenantJwks, async (c) => {
    const { id } = c.req.valid("param");
    if (!(await new TenantDirectory(database(c.env.DB)).findById(id))) throw notFound("The tenant");
    const keys = await new SigningKeyRing(database(c.env.DB), id).all();
    return c.json(publicJwks(keys), 200, { "cache-control": "public, max-age=60" });
  })
  .openapi(listKeys, async (c) => {
    const keys = await new SigningKeyRing(database(c.env.DB), c.var.tenant.id).all();
    return c.json(
      {
        items: keys.map((key) => ({
          kid: key.kid,
          status: key.status,
          createdAt: key.createdAt,
          retiredAt: key.retiredAt ?? null,
          publicJwk: key.publicJwk as Record<string, unknown>,
        })),
      },
      200,
    );
  })
  .openapi(rotateKeys, async (c) => {
    const { tenant, principal } = c.var;
    const ring = new SigningKeyRing(database(c.env.DB), tenant.id);
    const now = new Date().toISOString();
    const { keys, active } = await rotateTenantSigningKeys(await ring.all(), {
      tenantId: tenant.id,
      masterSecret: masterSecret(c.env),
      keyVersion: 1,
      createdAt: now,
    });
    await ring.saveRotation(keys, principal.subject, c.var.requestId, now);
    return c.json(
      {
        kid: active.kid,
        status: active.status,
        createdAt: active.createdAt,
        retiredAt: null,
        publicJwk: active.publicJwk as Record<string, unknown>,
      },
      201,
    );
  });
