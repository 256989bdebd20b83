import { z } from "zod";
import { isJsonPointer } from "../core/json-pointer";
import { UrlTemplateError, urlTemplatePlaceholders } from "../core/url-template";
import { SUPPORTED_RDF_MEDIA_TYPES } from "../rdf/formats";
import { graphNameSchema } from "./graphs";
import { generatorNameSchema } from "./templates";

/** How a trigger's deliveries are signed: GitHub's `X-Hub-Signature-256`, or Standard Webhooks headers. */
export const TRIGGER_VERIFY_SCHEMES = ["github", "standard-webhooks"] as const;
export type TriggerVerifyScheme = (typeof TRIGGER_VERIFY_SCHEMES)[number];

/** Params every triggered job carries; templates see them like any other param. */
export const TRIGGER_JOB_PARAMS = {
  /** The delivery's idempotency id (`X-GitHub-Delivery` or `webhook-id`). */
  deliveryId: "kgenDeliveryId",
  /** GitHub push deliveries: the commit the push moved the ref to (`after`). */
  commit: "kgenCommit",
} as const;

const RESERVED_PARAM_PREFIX = "kgen";
export const MAX_TRIGGER_PARAMS = 32;
export const MAX_TRIGGER_FILTER_EVENTS = 20;

const paramNameSchema = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, "a template variable name: letters, digits and _, not starting with a digit")
  .refine((name) => !name.startsWith(RESERVED_PARAM_PREFIX), {
    message: `names starting with "${RESERVED_PARAM_PREFIX}" are reserved for the params the platform sets`,
  });

const jsonPointerSchema = z
  .string()
  .max(512)
  .refine(isJsonPointer, { message: 'an RFC 6901 JSON pointer, e.g. "/repository/full_name"' });

export const generateActionSchema = z
  .object({
    generator: generatorNameSchema,
    graph: graphNameSchema,
    params: z
      .record(paramNameSchema, jsonPointerSchema)
      .refine((params) => Object.keys(params).length <= MAX_TRIGGER_PARAMS, {
        message: `at most ${MAX_TRIGGER_PARAMS} params`,
      })
      .optional()
      .describe("Job params read from the delivery's JSON payload: param name → RFC 6901 JSON pointer."),
  })
  .strict()
  .meta({ id: "TriggerGenerateAction" });

const urlTemplateSchema = z
  .string()
  .max(2048)
  .superRefine((template, context) => {
    try {
      urlTemplatePlaceholders(template);
    } catch (error) {
      if (!(error instanceof UrlTemplateError)) throw error;
      context.addIssue({ code: "custom", message: error.message });
    }
  })
  .describe("An https URL with `{dotted.path}` placeholders filled from the payload, e.g. `{after}`.");

export const syncGraphActionSchema = z
  .object({
    syncGraph: z
      .object({
        graph: graphNameSchema,
        urlTemplate: urlTemplateSchema,
        format: z.enum(SUPPORTED_RDF_MEDIA_TYPES as [string, ...string[]]).describe("The document's RDF media type."),
      })
      .strict(),
    generator: generatorNameSchema.optional().describe("Generate this generator over the new version."),
  })
  .strict()
  .meta({ id: "TriggerSyncGraphAction" });

export const triggerActionSchema = z.union([generateActionSchema, syncGraphActionSchema]).meta({ id: "TriggerAction" });
export type TriggerAction = z.infer<typeof triggerActionSchema>;
export type GenerateAction = z.infer<typeof generateActionSchema>;
export type SyncGraphAction = z.infer<typeof syncGraphActionSchema>;

/** The action parsed against the one shape it names (`syncGraph` or not), so errors point at its fields. */
export function parseTriggerAction(value: unknown) {
  const isSync = typeof value === "object" && value !== null && Object.hasOwn(value, "syncGraph");
  return (isSync ? syncGraphActionSchema : generateActionSchema).safeParse(value);
}

export function isSyncGraphAction(action: TriggerAction): action is SyncGraphAction {
  return "syncGraph" in action;
}

export const triggerFilterSchema = z
  .object({
    events: z
      .array(z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, "an event name such as push"))
      .min(1)
      .max(MAX_TRIGGER_FILTER_EVENTS)
      .optional()
      .describe(
        "GitHub: the `X-GitHub-Event` names to act on (default `push`). Standard Webhooks: the payload's `type` values.",
      ),
    ref: z.string().min(1).max(256).optional().describe("Only payloads whose `ref` is this, e.g. `refs/heads/main`."),
  })
  .strict()
  .meta({ id: "TriggerFilter" });
export type TriggerFilter = z.infer<typeof triggerFilterSchema>;

export const createTriggerSchema = z
  .object({
    name: z.string().trim().min(1).max(100),
    verify: z.enum(TRIGGER_VERIFY_SCHEMES),
    action: triggerActionSchema,
    filter: triggerFilterSchema.optional(),
  })
  .strict()
  .meta({ id: "CreateTrigger" });

export const triggerSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    verify: z.enum(TRIGGER_VERIFY_SCHEMES),
    action: triggerActionSchema,
    filter: triggerFilterSchema.nullable(),
    url: z.string().describe("Where the sender posts deliveries: `https://<host>/v1/hooks/{id}`."),
    createdAt: z.string(),
  })
  .meta({ id: "Trigger" });

export const createdTriggerSchema = triggerSchema
  .extend({
    secret: z
      .string()
      .describe(
        "The signing secret: shown once. GitHub: paste it as the webhook's secret. Standard Webhooks: `whsec_…`.",
      ),
  })
  .meta({ id: "CreatedTrigger" });
