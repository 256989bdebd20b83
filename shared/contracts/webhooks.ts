import { z } from "zod";
import { eventTypePatternsSchema } from "./events";

/** Subscriptions one tenant may keep: each matching event costs a delivery per subscription. */
export const MAX_WEBHOOKS_PER_TENANT = 20;
export const MAX_WEBHOOK_DESCRIPTION_CHARS = 500;
export const MAX_WEBHOOK_URL_CHARS = 2048;

const webhookUrlSchema = z
  .string()
  .min(1)
  .max(MAX_WEBHOOK_URL_CHARS)
  .describe("Where events are POSTed: https (http://localhost and 127.0.0.1 in development only).");
const descriptionSchema = z.string().trim().max(MAX_WEBHOOK_DESCRIPTION_CHARS);

export const createWebhookSchema = z
  .object({
    url: webhookUrlSchema,
    events: eventTypePatternsSchema.describe(
      "Event type patterns: `job.completed`, `job.*`, `*` (the `dev.kgen.` prefix is optional).",
    ),
    description: descriptionSchema.optional(),
  })
  .strict()
  .meta({ id: "CreateWebhook" });

export const updateWebhookSchema = z
  .object({
    url: webhookUrlSchema.optional(),
    events: eventTypePatternsSchema.optional(),
    description: descriptionSchema.nullable().optional(),
    status: z
      .enum(["enabled", "disabled"])
      .optional()
      .describe("`enabled` re-enables an endpoint that was disabled; `disabled` stops its deliveries."),
  })
  .strict()
  .refine((body) => Object.values(body).some((value) => value !== undefined), {
    message: "name at least one of url, events, description, status",
  })
  .meta({ id: "UpdateWebhook" });

export const webhookStatusSchema = z.enum(["enabled", "disabled"]);

export const webhookSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    events: z.array(z.string()),
    description: z.string().nullable(),
    status: webhookStatusSchema,
    disabledReason: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
    previousSecretExpiresAt: z
      .string()
      .nullable()
      .describe("While a rotated-out secret still signs alongside the new one: until when."),
  })
  .meta({ id: "Webhook" });

/** A webhook with its signing secret: answered on creation and rotation only. */
export const webhookWithSecretSchema = webhookSchema
  .extend({
    secret: z.string().describe("The signing secret (`whsec_…`). Shown once."),
  })
  .meta({ id: "WebhookWithSecret" });

export const webhookAttemptSchema = z
  .object({
    attempt: z.number().int(),
    succeeded: z.boolean(),
    responseStatus: z.number().int().nullable(),
    latencyMs: z.number().int(),
    responseBody: z.string().nullable().describe("The first 1 KiB of the response body."),
    error: z.string().nullable(),
    attemptedAt: z.string(),
  })
  .meta({ id: "WebhookAttempt" });

export const webhookDeliverySchema = z
  .object({
    id: z.string().describe("The `webhook-id` header of every attempt of this delivery."),
    webhookId: z.string(),
    eventId: z.string().describe("The CloudEvent id."),
    eventType: z.string().describe("The CloudEvent type."),
    status: z.enum(["pending", "delivered", "failed"]),
    attemptCount: z.number().int(),
    lastAttempt: webhookAttemptSchema.nullable(),
    lastError: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: "WebhookDelivery" });

export const webhookDeliveryDetailSchema = webhookDeliverySchema
  .extend({ attempts: z.array(webhookAttemptSchema).describe("The attempts, oldest first (the latest 50).") })
  .meta({ id: "WebhookDeliveryDetail" });

export type CreateWebhook = z.infer<typeof createWebhookSchema>;
export type UpdateWebhook = z.infer<typeof updateWebhookSchema>;
export type WebhookView = z.infer<typeof webhookSchema>;
export type WebhookAttemptView = z.infer<typeof webhookAttemptSchema>;
export type WebhookDeliveryView = z.infer<typeof webhookDeliverySchema>;
export type WebhookDeliveryDetailView = z.infer<typeof webhookDeliveryDetailSchema>;
