import { createRoute, z } from "@hono/zod-openapi";
import { monthPeriod, type PlanName, planLimits } from "../../shared/plans";
import { authenticate, requireRole } from "../auth/authenticate";
import { bearerSecurity, createRouter, problemResponses } from "../openapi";
import { tenantObject } from "../tenant-object-stub";

const usageSchema = z
  .object({
    plan: z.string(),
    period: z.string().describe("The month the monthly counters are for (YYYY-MM)."),
    limits: z.record(z.string(), z.unknown()),
    quotas: z.array(z.object({ counter: z.string(), period: z.string(), used: z.number() })),
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

const usage = createRoute({
  method: "get",
  path: "/usage",
  tags: ["usage"],
  summary: "Quota use against the plan's limits, and request counts per day (viewer and up)",
  security: bearerSecurity,
  middleware: [authenticate, requireRole("viewer")] as const,
  request: {
    query: z.object({
      period: z
        .string()
        .regex(/^[0-9]{4}-(0[1-9]|1[0-2])$/)
        .optional(),
    }),
  },
  responses: {
    200: { description: "Usage", content: { "application/json": { schema: usageSchema } } },
    ...problemResponses(400, 401, 403, 429),
  },
});

export const usageRoutes = createRouter().openapi(usage, async (c) => {
  const { tenant } = c.var;
  const period = c.req.valid("query").period ?? monthPeriod(Date.now());
  const { quotas, requests } = await tenantObject(c.env, tenant).getUsage({ period });
  const { plan, ...limits } = planLimits(tenant.plan as PlanName);
  return c.json({ plan, period, limits, quotas, requests }, 200);
});
