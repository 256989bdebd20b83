import { z } from "zod";

import { TENANT_JURISDICTIONS } from "../jurisdictions";
import { PLAN_NAMES } from "../plans";
import { apiKeySchema, apiKeySecretSchema } from "./api-keys";

export const planSchema = z.enum(PLAN_NAMES);
export const jurisdictionSchema = z.enum(TENANT_JURISDICTIONS);
export const tenantStatusSchema = z.enum(["active", "suspended"]);

export const tenantSchema = z
  .object({
    id: z.string(),
    slug: z.string(),
    name: z.string(),
    plan: planSchema,
    jurisdiction: jurisdictionSchema.nullable(),
    status: tenantStatusSchema,
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: "Tenant" });

export const createTenantSchema = z
  .object({
    slug: z
      .string()
      .min(3)
      .max(63)
      .regex(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/, "lowercase letters, digits and inner hyphens"),
    name: z.string().trim().min(1).max(200),
    plan: planSchema.default("free"),
    jurisdiction: jurisdictionSchema.optional(),
  })
  .strict()
  .meta({ id: "CreateTenant" });

export const updateTenantSchema = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    plan: planSchema.optional(),
    status: tenantStatusSchema.optional(),
  })
  .strict()
  .refine((value) => Object.keys(value).length > 0, { message: "Give at least one of name, plan, status." })
  .meta({ id: "UpdateTenant" });

export const createdTenantSchema = z
  .object({
    tenant: tenantSchema,
    apiKey: apiKeySchema.describe("The tenant's owner API key."),
    secret: apiKeySecretSchema,
  })
  .meta({ id: "CreatedTenant" });

export const tenantErasureSchema = z
  .object({
    tenantId: z.string(),
    status: z
      .enum(["queued", "running", "completed", "failed"])
      .describe("`failed`: retries ran out (see lastError); DELETE the tenant again to resume."),
    phase: z
      .enum(["records", "blobs", "object", "tenant", "done"])
      .describe("In order: D1 rows, R2 objects, Durable Object storage, the tenant row; then done."),
    deleted: z.object({
      d1Rows: z.number().int().describe("D1 rows of the tenant deleted so far."),
      r2Objects: z.number().int().describe("R2 objects of the tenant deleted so far."),
    }),
    attempts: z.number().int().describe("Failed attempts so far (each is retried)."),
    lastError: z.string().nullable(),
    requestedAt: z.string(),
    updatedAt: z.string(),
    completedAt: z.string().nullable(),
  })
  .meta({ id: "TenantErasure" });
