import { createRoute, z } from "@hono/zod-openapi";
import { STORED_KINDS } from "../../../durable-objects/tenant/stored-bytes";
import { MONTH, USAGE_METRICS } from "../../../shared/contracts/usage";
import { QUOTA_COUNTERS } from "../../../shared/plans";
import { requireRole } from "../../auth/authenticate";
import { tenantRequest } from "../../middleware/tenant-request";
import { bearerSecurity, problemResponses } from "../../openapi";

const quotaSchema = z
  .object({
    counter: z.enum(QUOTA_COUNTERS),
    period: z.string().describe("`total` for counters that never reset, else the month (YYYY-MM)."),
    used: z.number(),
    limit: z.number().describe("The plan's limit for this counter and period."),
  })
  .meta({ id: "Quota" });

const storageSchema = z
  .object({
    kinds: z
      .array(
        z.object({
          kind: z.enum(STORED_KINDS),
          bytes: z.number().int(),
          objects: z.number().int().describe("Artifacts, blobs or events counted."),
          measuredAt: z.string().nullable().describe("When the cron last measured this kind; null before it has."),
        }),
      )
      .describe(
        "Stored bytes per kind, in a fixed order, as the cron's blob collection last measured them: `artifacts` (the retained jobs' artifacts as written), `packs`, `templateSources` and `attestations` (referenced blobs in R2), `unreferenced` (blobs kept for the grace period), `events` (the event log).",
      ),
    tenantDatabaseBytes: z
      .number()
      .int()
      .describe("Size of the tenant's own database now: graph versions and triples, the event log, counters."),
  })
  .meta({ id: "StoredBytes" });

const monthlyUsageSchema = z
  .object({
    month: z.string().describe("The calendar month (UTC), YYYY-MM."),
    source: z
      .enum(["live", "rollup"])
      .describe(
        "`live`: computed now from the tenant's counters (the current month, or a past month not rolled up yet); `rollup`: as the cron's rollup stored it.",
      ),
    rolledUpAt: z.string().nullable().describe("When the rollup last changed these figures; null for live figures."),
    figures: z
      .array(
        z.object({
          metric: z.enum(USAGE_METRICS),
          value: z.number().int(),
          quota: z.number().nullable().describe("The plan's limit for this figure; null when the plan sets none."),
        }),
      )
      .describe("Every metered figure, in a fixed order."),
  })
  .meta({ id: "MonthlyUsage" });

const usageSchema = z
  .object({
    plan: z.string(),
    period: z.string().describe("The month the monthly counters are for (YYYY-MM)."),
    limits: z.record(z.string(), z.unknown()),
    quotas: z.array(quotaSchema).describe("Every quota of the plan, in a fixed order, with its use."),
    storage: storageSchema,
    usage: monthlyUsageSchema,
    requests: z.array(
      z.object({
        day: z.string(),
        routeClass: z.string(),
        requests: z.number(),
        clientErrors: z.number(),
        serverErrors: z.number(),
      }),
    ),
  })
  .meta({ id: "Usage" });

export const usage = createRoute({
  method: "get",
  path: "/usage",
  tags: ["usage"],
  summary:
    "A month's metered usage against the plan's quotas, every quota with its use and limit, and request counts per day (viewer and up)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("viewer")] as const,
  request: {
    query: z.object({
      month: z
        .string()
        .regex(MONTH)
        .optional()
        .describe("The month (YYYY-MM) of the usage figures; the current one by default."),
      period: z
        .string()
        .regex(MONTH)
        .optional()
        .describe("The month of the monthly quota counters; `month` when absent."),
    }),
  },
  responses: {
    200: { description: "Usage", content: { "application/json": { schema: usageSchema } } },
    ...problemResponses(400, 401, 403, 429),
  },
});
