import { createRoute, z } from "@hono/zod-openapi";
import { putTenantFlagsSchema, tenantFlagsSchema } from "../../../shared/contracts/flags";
import {
  createdTenantSchema,
  createTenantSchema,
  tenantErasureSchema,
  tenantSchema,
  updateTenantSchema,
} from "../../../shared/contracts/tenants";
import { requireOperator } from "../../auth/operator";
import { bearerSecurity, problemResponses, requireJsonBody } from "../../openapi";
import { pageQuerySchema } from "../../repository/pagination";

const tenantIdParam = z.object({ id: z.string().min(1).max(64) });
const tenantPageSchema = z.object({ items: z.array(tenantSchema), nextCursor: z.string().nullable() });

export const createTenant = createRoute({
  method: "post",
  path: "/tenants",
  tags: ["tenants"],
  summary: "Create a tenant and its owner API key (operator); the key is shown once",
  security: bearerSecurity,
  middleware: [requireOperator, requireJsonBody] as const,
  request: { body: { required: true, content: { "application/json": { schema: createTenantSchema } } } },
  responses: {
    201: { description: "Created", content: { "application/json": { schema: createdTenantSchema } } },
    ...problemResponses(400, 401, 403, 409, 413, 415),
  },
});

export const listTenants = createRoute({
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

export const getTenant = createRoute({
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

export const updateTenant = createRoute({
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
    ...problemResponses(400, 401, 403, 404, 413, 415),
  },
});

const erasureLocation = z.object({
  location: z.string().describe("The erasure's state: `GET /v1/tenants/{id}/erasure`"),
});

export const deleteTenant = createRoute({
  method: "delete",
  path: "/tenants/{id}",
  tags: ["tenants"],
  summary: "Delete a tenant and everything it owns (operator)",
  description:
    "Its credentials stop working and the tenant answers 404 at once; its data is erased by a queued " +
    "erasure, whose state `Location` names. Deleting a tenant whose erasure has not completed resumes it.",
  security: bearerSecurity,
  middleware: [requireOperator] as const,
  request: { params: tenantIdParam },
  responses: {
    202: {
      description: "Deleted; its data is being erased",
      headers: erasureLocation,
      content: { "application/json": { schema: tenantErasureSchema } },
    },
    ...problemResponses(401, 403, 404),
  },
});

export const getTenantErasure = createRoute({
  method: "get",
  path: "/tenants/{id}/erasure",
  tags: ["tenants"],
  summary: "The erasure of a deleted tenant: its progress, or when it completed (operator)",
  security: bearerSecurity,
  middleware: [requireOperator] as const,
  request: { params: tenantIdParam },
  responses: {
    200: { description: "The erasure", content: { "application/json": { schema: tenantErasureSchema } } },
    ...problemResponses(401, 403, 404),
  },
});

export const getTenantFlags = createRoute({
  method: "get",
  path: "/tenants/{id}/flags",
  tags: ["tenants"],
  summary: "A tenant's feature flags: effective values, plan defaults, overrides and rollouts (operator)",
  security: bearerSecurity,
  middleware: [requireOperator] as const,
  request: { params: tenantIdParam },
  responses: {
    200: { description: "The tenant's flags", content: { "application/json": { schema: tenantFlagsSchema } } },
    ...problemResponses(401, 403, 404),
  },
});

export const putTenantFlags = createRoute({
  method: "put",
  path: "/tenants/{id}/flags",
  tags: ["tenants"],
  summary: "Replace a tenant's feature-flag overrides (operator); audit-logged",
  security: bearerSecurity,
  middleware: [requireOperator, requireJsonBody] as const,
  request: {
    params: tenantIdParam,
    body: { required: true, content: { "application/json": { schema: putTenantFlagsSchema } } },
  },
  responses: {
    200: {
      description: "The tenant's flags after the change",
      content: { "application/json": { schema: tenantFlagsSchema } },
    },
    ...problemResponses(400, 401, 403, 404, 413, 415),
  },
});
