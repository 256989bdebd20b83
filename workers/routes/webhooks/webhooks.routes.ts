import { createRoute, z } from "@hono/zod-openapi";
import {
  createWebhookSchema,
  updateWebhookSchema,
  webhookDeliveryDetailSchema,
  webhookDeliverySchema,
  webhookSchema,
  webhookWithSecretSchema,
} from "../../../shared/contracts/webhooks";
import { requireRole } from "../../auth/authenticate";
import { requireFeature } from "../../middleware/require-feature";
import { tenantRequest } from "../../middleware/tenant-request";
import { bearerSecurity, problemResponses, requireJsonBody } from "../../openapi";
import { pageQuerySchema } from "../../repository/pagination";

const webhookIdParam = z.object({ id: z.string().min(1).max(64) });
const deliveryParams = z.object({ id: z.string().min(1).max(64), deliveryId: z.string().min(1).max(64) });
const webhookPageSchema = z.object({ items: z.array(webhookSchema), nextCursor: z.string().nullable() });
const deliveryPageSchema = z.object({ items: z.array(webhookDeliverySchema), nextCursor: z.string().nullable() });
const queuedDeliverySchema = z
  .object({ deliveryId: z.string().describe("The delivery's id, also its `webhook-id` header.") })
  .meta({ id: "QueuedWebhookDelivery" });

const json = <T extends z.ZodType>(description: string, schema: T) => ({
  description,
  content: { "application/json": { schema } },
});

export const createWebhook = createRoute({
  method: "post",
  path: "/webhooks",
  tags: ["webhooks"],
  summary: "Subscribe an endpoint to events (admin and up); the signing secret is shown once",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("admin"), requireFeature("webhooks"), requireJsonBody] as const,
  request: { body: { required: true, content: { "application/json": { schema: createWebhookSchema } } } },
  responses: {
    201: json("Created", webhookWithSecretSchema),
    ...problemResponses(400, 401, 403, 409, 413, 415, 422, 429),
  },
});

export const listWebhooks = createRoute({
  method: "get",
  path: "/webhooks",
  tags: ["webhooks"],
  summary: "The tenant's webhooks, oldest first (viewer and up)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("viewer")] as const,
  request: { query: pageQuerySchema },
  responses: { 200: json("A page of webhooks", webhookPageSchema), ...problemResponses(400, 401, 403, 429) },
});

export const getWebhook = createRoute({
  method: "get",
  path: "/webhooks/{id}",
  tags: ["webhooks"],
  summary: "One webhook (viewer and up); never its secret",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("viewer")] as const,
  request: { params: webhookIdParam },
  responses: { 200: json("The webhook", webhookSchema), ...problemResponses(400, 401, 403, 404, 429) },
});

export const updateWebhook = createRoute({
  method: "patch",
  path: "/webhooks/{id}",
  tags: ["webhooks"],
  summary: "Change a webhook's url, events or description, or enable or disable it (admin and up)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("admin"), requireFeature("webhooks"), requireJsonBody] as const,
  request: {
    params: webhookIdParam,
    body: { required: true, content: { "application/json": { schema: updateWebhookSchema } } },
  },
  responses: {
    200: json("The webhook", webhookSchema),
    ...problemResponses(400, 401, 403, 404, 413, 415, 422, 429),
  },
});

export const deleteWebhook = createRoute({
  method: "delete",
  path: "/webhooks/{id}",
  tags: ["webhooks"],
  summary: "Delete a webhook and its delivery log (admin and up)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("admin")] as const,
  request: { params: webhookIdParam },
  responses: { 204: { description: "Deleted" }, ...problemResponses(400, 401, 403, 404, 429) },
});

export const rotateWebhookSecret = createRoute({
  method: "post",
  path: "/webhooks/{id}/rotate-secret",
  tags: ["webhooks"],
  summary: "A new signing secret, shown once (admin and up); the previous one keeps signing alongside it for 24 hours",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("admin"), requireFeature("webhooks")] as const,
  request: { params: webhookIdParam },
  responses: {
    200: json("The webhook and its new secret", webhookWithSecretSchema),
    ...problemResponses(400, 401, 403, 404, 429),
  },
});

export const testWebhook = createRoute({
  method: "post",
  path: "/webhooks/{id}/test",
  tags: ["webhooks"],
  summary: "Queue a `dev.kgen.webhook.test` event for this endpoint only; it is not added to the event log (admin)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("admin"), requireFeature("webhooks")] as const,
  request: { params: webhookIdParam },
  responses: { 202: json("Queued", queuedDeliverySchema), ...problemResponses(400, 401, 403, 404, 409, 429) },
});

export const listDeliveries = createRoute({
  method: "get",
  path: "/webhooks/{id}/deliveries",
  tags: ["webhooks"],
  summary: "A webhook's deliveries, newest first, each with its last attempt (viewer and up)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("viewer")] as const,
  request: { params: webhookIdParam, query: pageQuerySchema },
  responses: {
    200: json("A page of deliveries", deliveryPageSchema),
    ...problemResponses(400, 401, 403, 404, 429),
  },
});

export const getDelivery = createRoute({
  method: "get",
  path: "/webhooks/{id}/deliveries/{deliveryId}",
  tags: ["webhooks"],
  summary: "One delivery with every attempt (viewer and up)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("viewer")] as const,
  request: { params: deliveryParams },
  responses: {
    200: json("The delivery", webhookDeliveryDetailSchema),
    ...problemResponses(400, 401, 403, 404, 429),
  },
});

export const redeliver = createRoute({
  method: "post",
  path: "/webhooks/{id}/deliveries/{deliveryId}/redeliver",
  tags: ["webhooks"],
  summary: "Send a delivery again: a new attempt with the same delivery id (admin and up)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("admin"), requireFeature("webhooks")] as const,
  request: { params: deliveryParams },
  responses: { 202: json("Queued", queuedDeliverySchema), ...problemResponses(400, 401, 403, 404, 409, 429) },
});
