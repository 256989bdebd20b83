import { createRoute, z } from "@hono/zod-openapi";
import { apiKeySchema, createApiKeySchema, createdApiKeySchema } from "../../shared/contracts/api-keys";
import { roleAtLeast } from "../../shared/contracts/roles";
import { randomId } from "../../shared/core/encoding";
import { generateApiKeySecret } from "../auth/api-key-secret";
import { authenticate, requireRole } from "../auth/authenticate";
import { lastOwnerError } from "../auth/owner-rules";
import { database } from "../db/client";
import type { ApiKeyRow } from "../db/schema";
import { bearerSecurity, createRouter, problemResponses, requireJsonBody } from "../openapi";
import { HttpError } from "../problems/http-error";
import { notFound } from "../problems/problem-response";
import { pageQuerySchema, toPage } from "../repository/pagination";
import { TenantScope } from "../repository/tenant-scope";

const keyIdParam = z.object({ id: z.string().min(1).max(64) });
const apiKeyPageSchema = z.object({ items: z.array(apiKeySchema), nextCursor: z.string().nullable() });

function apiKeyView(row: ApiKeyRow): z.infer<typeof apiKeySchema> {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    prefix: row.prefix,
    expiresAt: row.expiresAt,
    createdAt: row.createdAt,
  };
}

const createApiKey = createRoute({
  method: "post",
  path: "/api-keys",
  tags: ["api-keys"],
  summary: "Create an API key (admin and up); the key is shown once",
  security: bearerSecurity,
  middleware: [authenticate, requireRole("admin"), requireJsonBody] as const,
  request: { body: { required: true, content: { "application/json": { schema: createApiKeySchema } } } },
  responses: {
    201: { description: "Created", content: { "application/json": { schema: createdApiKeySchema } } },
    ...problemResponses(400, 401, 403, 415, 429),
  },
});

const listApiKeys = createRoute({
  method: "get",
  path: "/api-keys",
  tags: ["api-keys"],
  summary: "List the tenant's API keys (admin and up)",
  security: bearerSecurity,
  middleware: [authenticate, requireRole("admin")] as const,
  request: { query: pageQuerySchema },
  responses: {
    200: { description: "A page of keys", content: { "application/json": { schema: apiKeyPageSchema } } },
    ...problemResponses(400, 401, 403, 429),
  },
});

const deleteApiKey = createRoute({
  method: "delete",
  path: "/api-keys/{id}",
  tags: ["api-keys"],
  summary:
    "Delete an API key (admin and up; owner for an owner key; never the last owner); it stops working on the next request",
  security: bearerSecurity,
  middleware: [authenticate, requireRole("admin")] as const,
  request: { params: keyIdParam },
  responses: { 204: { description: "Deleted" }, ...problemResponses(401, 403, 404, 409, 429) },
});

export const apiKeyRoutes = createRouter()
  .openapi(createApiKey, async (c) => {
    const input = c.req.valid("json");
    const { principal } = c.var;
    if (!roleAtLeast(principal.role, input.role)) {
      throw new HttpError(
        403,
        "insufficient-role",
        "Forbidden",
        `You cannot create a key with the ${input.role} role.`,
      );
    }
    const now = new Date();
    if (input.expiresAt && Date.parse(input.expiresAt) <= now.getTime()) {
      throw new HttpError(400, "validation-error", "Invalid request", "Invalid body: expiresAt.", {
        extensions: { errors: [{ field: "expiresAt", message: "Must be in the future." }] },
      });
    }
    const secret = await generateApiKeySecret();
    const row = await new TenantScope(database(c.env.DB), principal.tenantId).createApiKey(
      {
        id: randomId("key"),
        name: input.name,
        role: input.role,
        prefix: secret.prefix,
        secretHash: secret.hash,
        expiresAt: input.expiresAt ? new Date(input.expiresAt).toISOString() : null,
        createdAt: now.toISOString(),
        createdBy: principal.subject,
      },
      c.var.requestId,
    );
    return c.json({ apiKey: apiKeyView(row), secret: secret.secret }, 201);
  })
  .openapi(listApiKeys, async (c) => {
    const { limit, cursor } = c.req.valid("query");
    const rows = await new TenantScope(database(c.env.DB), c.var.principal.tenantId).listApiKeys(limit, cursor);
    return c.json(toPage(rows, limit, apiKeyView), 200);
  })
  .openapi(deleteApiKey, async (c) => {
    const { principal } = c.var;
    const scope = new TenantScope(database(c.env.DB), principal.tenantId);
    const key = await scope.findApiKey(c.req.valid("param").id);
    if (!key) throw notFound("The API key");
    if (!roleAtLeast(principal.role, key.role)) {
      throw new HttpError(
        403,
        "insufficient-role",
        "Forbidden",
        `Deleting a key with the ${key.role} role needs that role.`,
      );
    }
    const deleted = await scope.deleteApiKey(key.id, {
      actor: principal.subject,
      requestId: c.var.requestId,
      createdAt: new Date().toISOString(),
    });
    if (!deleted) throw lastOwnerError("remove");
    return c.body(null, 204);
  });
