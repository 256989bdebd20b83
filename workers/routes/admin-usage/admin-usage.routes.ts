import { createRoute, z } from "@hono/zod-openapi";
import { MONTH, USAGE_METRICS } from "../../../shared/contracts/usage";
import { requireOperator } from "../../auth/operator";
import { bearerSecurity, problemResponses } from "../../openapi";

/** Tenants per page of the export: their plan changes are read with one bounded query per page. */
export const MAX_EXPORT_PAGE = 90;

const planPeriodSchema = z.object({
  plan: z.string(),
  from: z.string().describe("Start of the period, inclusive (ISO 8601)."),
  to: z.string().describe("End of the period, exclusive (ISO 8601)."),
  share: z.number().describe("The period's share of the month, for proration."),
});

const tenantUsageSchema = z
  .object({
    tenantId: z.string(),
    slug: z.string(),
    month: z.string(),
    ...Object.fromEntries(USAGE_METRICS.map((metric) => [metric, z.number().int()])),
    rolledUpAt: z.string(),
    planPeriods: z.array(planPeriodSchema).describe("The plans the tenant had during the month, oldest first."),
  })
  .meta({ id: "TenantMonthlyUsage" });

export const usageExportQuerySchema = z.object({
  month: z.string().regex(MONTH).describe("The calendar month (UTC), YYYY-MM."),
  format: z.enum(["json", "csv"]).default("json"),
  limit: z.coerce.number().int().min(1).max(MAX_EXPORT_PAGE).default(MAX_EXPORT_PAGE),
  cursor: z.string().max(512).optional(),
});

export const usageExport = createRoute({
  method: "get",
  path: "/admin/usage",
  tags: ["usage"],
  summary: "Every tenant's rolled-up usage of a month with its plan periods, for billing (operator)",
  description:
    'One row per tenant, in tenant id order, a page at a time: `nextCursor` in JSON, a `Link: <…>; rel="next"` header in CSV. CSV (RFC 4180) has a header row; `plan_periods` holds the periods as JSON.',
  security: bearerSecurity,
  middleware: [requireOperator] as const,
  request: { query: usageExportQuerySchema },
  responses: {
    200: {
      description: "A page of the month's usage",
      content: {
        "application/json": {
          schema: z.object({ month: z.string(), items: z.array(tenantUsageSchema), nextCursor: z.string().nullable() }),
        },
        "text/csv": { schema: z.string() },
      },
    },
    ...problemResponses(400, 401, 403),
  },
});
