import { createRoute, z } from "@hono/zod-openapi";
import { createdTriggerSchema, createTriggerSchema, triggerSchema } from "../../../shared/contracts/triggers";
import { requireRole } from "../../auth/authenticate";
import { requireFeature } from "../../middleware/require-feature";
import { tenantRequest } from "../../middleware/tenant-request";
import { bearerSecurity, problemResponses, requireJsonBody } from "../../openapi";
import { pageQuerySchema } from "../../repository/pagination";
import { checkTriggerAction } from "./trigger-action-check";

const tags = ["triggers"];
const triggerIdParam = z.object({ id: z.string().min(1).max(64) });
const triggerPageSchema = z.object({ items: z.array(triggerSchema), nextCursor: z.string().nullable() });

export const createTrigger = createRoute({
  method: "post",
  path: "/triggers",
  tags,
  summary:
    "Create a trigger: an inbound webhook URL whose signed deliveries start a generation or sync a graph (admin); the secret is shown once",
  security: bearerSecurity,
  middleware: [
    ...tenantRequest,
    requireRole("admin"),
    requireFeature("triggers"),
    requireJsonBody,
    checkTriggerAction,
  ] as const,
  request: { body: { required: true, content: { "application/json": { schema: createTriggerSchema } } } },
  responses: {
    201: { description: "Created", content: { "application/json": { schema: createdTriggerSchema } } },
    ...problemResponses(400, 401, 403, 409, 413, 415, 422, 429),
  },
});

export const listTriggers = createRoute({
  method: "get",
  path: "/triggers",
  tags,
  summary: "The tenant's triggers, oldest first (admin)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("admin")] as const,
  request: { query: pageQuerySchema },
  responses: {
    200: { description: "A page of triggers", content: { "application/json": { schema: triggerPageSchema } } },
    ...problemResponses(400, 401, 403, 429),
  },
});

export const getTrigger = createRoute({
  method: "get",
  path: "/triggers/{id}",
  tags,
  summary: "A trigger, without its secret (admin)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("admin")] as const,
  request: { params: triggerIdParam },
  responses: {
    200: { description: "The trigger", content: { "application/json": { schema: triggerSchema } } },
    ...problemResponses(400, 401, 403, 404, 429),
  },
});

export const deleteTrigger = createRoute({
  method: "delete",
  path: "/triggers/{id}",
  tags,
  summary: "Delete a trigger: its URL answers 401 from now on (admin)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("admin")] as const,
  request: { params: triggerIdParam },
  responses: { 204: { description: "Deleted" }, ...problemResponses(400, 401, 403, 404, 429) },
});
