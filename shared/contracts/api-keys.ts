import { z } from "zod";
import { roleSchema } from "./roles";

export const apiKeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    role: roleSchema,
    prefix: z.string().describe("The first characters of the key, to recognise it."),
    expiresAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: "ApiKey" });

export const createApiKeySchema = z
  .object({
    name: z.string().trim().min(1).max(100),
    role: roleSchema.default("viewer"),
    expiresAt: z.iso
      .datetime({ offset: true })
      .optional()
      .describe("When the key stops working (RFC 3339). Omit for a key that does not expire."),
  })
  .strict()
  .meta({ id: "CreateApiKey" });

/** The key itself, `kgen_…`: answered once, when the key is created, and never stored. */
export const apiKeySecretSchema = z.string().describe("The key itself (`kgen_…`). Shown once.");

/** How a new key is answered, by POST /v1/api-keys and (with its tenant) by POST /v1/tenants. */
export const createdApiKeySchema = z
  .object({ apiKey: apiKeySchema, secret: apiKeySecretSchema })
  .meta({ id: "CreatedApiKey" });
