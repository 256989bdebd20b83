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

export const createdApiKeySchema = z
  .object({ apiKey: apiKeySchema, secret: z.string().describe("The key itself. Shown once.") })
  .meta({ id: "CreatedApiKey" });
