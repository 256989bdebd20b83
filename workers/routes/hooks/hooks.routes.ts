import { createRoute, z } from "@hono/zod-openapi";
import { limitBody } from "../../middleware/body-limit";
import { problemResponses } from "../../openapi";
import { HOOK_BODY_MAX_BYTES } from "../../triggers/receive-delivery";
import { jobSchema } from "../jobs/jobs.routes";

const deliveryAnswerSchema = z
  .object({
    deliveryId: z.string(),
    job: jobSchema.nullable().describe("The job the delivery started (for a repeat: the first delivery's job)."),
    reason: z.string().optional().describe("Why no job was started: a ping, or the trigger's filter."),
    graph: z
      .object({ graph: z.string(), version: z.number().int(), created: z.boolean() })
      .optional()
      .describe("syncGraph actions: the version the fetched document is stored as."),
  })
  .meta({ id: "DeliveryAnswer" });

export const receiveHook = createRoute({
  method: "post",
  path: "/hooks/{id}",
  tags: ["triggers"],
  summary:
    "A trigger's webhook delivery (no bearer credential: the signature is the credential, GitHub X-Hub-Signature-256 or Standard Webhooks)",
  middleware: [limitBody(HOOK_BODY_MAX_BYTES, `Deliveries are limited to ${HOOK_BODY_MAX_BYTES} bytes.`)] as const,
  request: {
    params: z.object({ id: z.string().min(1).max(200) }),
    // Read as raw bytes by the handler: the signature covers them exactly.
    body: { required: true, content: { "application/json": { schema: { type: "object" } } } },
  },
  responses: {
    200: {
      description: "A repeated delivery (its first job), or a GitHub ping",
      content: { "application/json": { schema: deliveryAnswerSchema } },
    },
    202: {
      description: "Accepted: the job started, or `job: null` with the reason it was filtered out",
      content: { "application/json": { schema: deliveryAnswerSchema } },
    },
    ...problemResponses(400, 401, 403, 409, 413, 422, 429),
  },
});
