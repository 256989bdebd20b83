import { createRoute, z } from "@hono/zod-openapi";
import { apiKeySchema, createApiKeySchema, createdApiKeySchema } from "../../../shared/contracts/api-keys";
import { requireRole } from "../../auth/authenticate";
import { tenantRequest } from "../../middleware/tenant-request";
import { bearerSecurity, problemResponses, requireJsonBody } from "../../openapi";
import { pageQuerySchema } from "../../repository/pagination";

const keyIdParam = z.object({ id: z.string().min(1).max(64) });
const apiKeyPageSchema = z.object({ items: z.array(apiKeySchema), nextCursor: z.string().nullable() });

export const createApiKey = createRoute({
  method: "post",
  path: "/api-keys",
  tags: ["api-keys"],
  summary: "Create an API key (admin and up); the key is shown once",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("admin"), requireJsonBody] as const,
  request: { body: { required: true, content: { "application/json": { schema: createApiKeySchema } } } },
  responses: {
    201: { description: "Created", content: { "application/json": { schema: createdApiKeySchema } } },
    ...problemResponses(400, 401, 403, 413, 415, 429),
  },
});

export const listApiKeys = createRoute({
  method: "get",
  path: "/api-keys",
  tags: ["api-keys"],
  summary: "List the tenant's API keys (admin and up)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("admin")] as const,
  request: { query: pageQuerySchema },
  responses: {
    200: { description: "A page of keys", content: { "application/json": { schema: apiKeyPageSchema } } },
    ...problemResponses(400, 401, 403, 429),
  },
});

export const deleteApiKey = createRoute({
  method: "delete",
  path: "/api-keys/{id}",
  tags: ["api-keys"],
  summary:
    "Delete an API key (admin and up; owner for an owner key; never the last owner); it stops working on the next request",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("admin")] as const,
  request: { params: keyIdParam },
  responses: { 204: { description: "Deleted" }, ...problemResponses(401, 403, 404, 409, 429) },
});
