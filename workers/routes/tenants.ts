import { createRoute, z } from "@hono/zod-openapi";
import {
  createdTenantSchema,
  createTenantSchema,
  tenantSchema,
  updateTenantSchema,
} from "../../shared/contracts/tenants";
import { randomId } from "../../shared/core/encoding";
import { createTenantSigningKey } from "../../shared/crypto/tenant-keys";
import { generateApiKeySecret } from "../auth/api-key-secret";
import { masterSecret } from "../auth/config";
import { requireOperator } from "../auth/operator";
import { database } from "../db/client";
import type { TenantRow } from "../db/schema";
import { bearerSecurity, createRouter, problemResponses, requireJsonBody } from "../openapi";
import { HttpError } from "../problems/http-error";
import { notFound } from "../problems/problem-response";
import { pageQuerySchema, toPage } from "../repository/pagination";
import { TenantDirectory } from "../repository/tenants";
import { ContentStore } from "../storage/content-store";
import { tenantObject } from "../tenant-object-stub";

const OPERATOR = "operator";
const tenantIdParam = z.object({ id: z.string().min(1).max(64) });
const tenantPageSchema = z.object({ items: z.array(tenantSchema), nextCursor: z.string().nullable() });

export function tenantView(row: TenantRow): z.infer<typeof tenantSchema> {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    plan: row.plan as z.infer<typeof tenantSchema>["plan"],
    jurisdiction: row.jurisdiction as z.infer<typeof tenantSchema>["jurisdiction"],
    status: row.status,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

const createTenant = createRoute({
  method: "post",
  path: "/tenants",
  tags: ["tenants"],
  summary: "Create a tenant and its owner API key (operator)",
  security: bearerSecurity,
  middleware: [requireOperator, requireJsonBody] as const,
  request: { body: { required: true, content: { "application/json": { schema: createTenantSchema } } } },
  responses: {
    201: { description: "Created", content: { "application/json": { schema: createdTenantSchema } } },
    ...problemResponses(400, 401, 403, 409, 413, 415),
  },
});

const listTenants = createRoute({
  method: "get",
  path: "/tenants",
  tags: ["tenants"],
  summary: "List tenants (operator)",
  security: bearerSecurity,
  middleware: [requireOperator] as const,
  request: { query: pageQuerySchema },
  responses: {
    200: { description: "A page of tenants", content: { "application/json": { schema: tenantPageSchema } } },
    ...problemResponses(400, 401, 403),
  },
});

const getTenant = createRoute({
  method: "get",
  path: "/tenants/{id}",
  tags: ["tenants"],
  summary: "Get a tenant (operator)",
  security: bearerSecurity,
  middleware: [requireOperator] as const,
  request: { params: tenantIdParam },
  responses: {
    200: { description: "The tenant", content: { "application/json": { schema: tenantSchema } } },
    ...problemResponses(401, 403, 404),
  },
});

const updateTenant = createRoute({
  method: "patch",
  path: "/tenants/{id}",
  tags: ["tenants"],
  summary: "Change a tenant's name, plan or status (operator)",
  security: bearerSecurity,
  middleware: [requireOperator, requireJsonBody] as const,
  request: {
    params: tenantIdParam,
    body: { required: true, content: { "application/json": { schema: updateTenantSchema } } },
  },
  responses: {
    200: { description: "The updated tenant", content: { "application/json": { schema: tenantSchema } } },
    ...problemResponses(400, 401, 403, 404, 415),
  },
});

const deleteTenant = createRoute({
  method: "delete",
  path: "/tenants/{id}",
  tags: ["tenants"],
  summary: "Delete a tenant and everything it owns (operator)",
  security: bearerSecurity,
  middleware: [requireOperator] as const,
  request: { params: tenantIdParam },
  responses: { 204: { description: "Deleted" }, ...problemResponses(401, 403, 404) },
});

export const tenantRoutes = createRouter()
  .openapi(createTenant, async (c) => {
    const input = c.req.valid("json");
    const directory = new TenantDirectory(database(c.env.DB));
    if (await directory.findBySlug(input.slug)) {
      throw new HttpError(409, "conflict", "Conflict", `A tenant with slug "${input.slug}" already exists.`);
    }
    const secret = await generateApiKeySecret();
    const now = new Date().toISOString();
    let tenant: TenantRow;
    try {
      tenant = await directory.create(
        { slug: input.slug, name: input.name, plan: input.plan, jurisdiction: input.jurisdiction ?? null },
        { id: randomId("key"), prefix: secret.prefix, hash: secret.hash },
        (tenantId) =>
          createTenantSigningKey({ tenantId, masterSecret: masterSecret(c.env), keyVersion: 1, createdAt: now }),
        OPERATOR,
        c.var.requestId,
        now,
      );
    } catch (error) {
      // Two concurrent creations with one slug: the unique index decides, the loser gets 409.
      if (String(error).includes("UNIQUE")) {
        throw new HttpError(409, "conflict", "Conflict", `A tenant with slug "${input.slug}" already exists.`);
      }
      throw error;
    }
    return c.json({ tenant: tenantView(tenant), apiKey: secret.secret }, 201);
  })
  .openapi(listTenants, async (c) => {
    const { limit, cursor } = c.req.valid("query");
    const rows = await new TenantDirectory(database(c.env.DB)).list(limit, cursor);
    return c.json(toPage(rows, limit, tenantView), 200);
  })
  .openapi(getTenant, async (c) => {
    const tenant = await new TenantDirectory(database(c.env.DB)).findById(c.req.valid("param").id);
    if (!tenant) throw notFound("The tenant");
    return c.json(tenantView(tenant), 200);
  })
  .openapi(updateTenant, async (c) => {
    const { id } = c.req.valid("param");
    const directory = new TenantDirectory(database(c.env.DB));
    if (!(await directory.findById(id))) throw notFound("The tenant");
    const updated = await directory.update(
      id,
      c.req.valid("json"),
      OPERATOR,
      c.var.requestId,
      new Date().toISOString(),
    );
    if (!updated) throw notFound("The tenant");
    return c.json(tenantView(updated), 200);
  })
  .openapi(deleteTenant, async (c) => {
    const { id } = c.req.valid("param");
    const directory = new TenantDirectory(database(c.env.DB));
    const tenant = await directory.findById(id);
    if (!tenant) throw notFound("The tenant");
    // Rows first: once they are gone nothing can reach the tenant's Durable Object or blobs.
    const deleted = await directory.delete(id, OPERATOR, c.var.requestId, new Date().toISOString());
    if (!deleted) throw notFound("The tenant");
    await tenantObject(c.env, tenant).deleteAllData();
    c.executionCtx.waitUntil(new ContentStore(c.env.ARTIFACTS, id).deleteAll());
    return c.body(null, 204);
  });
