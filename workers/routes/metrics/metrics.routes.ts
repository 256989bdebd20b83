import { createRoute, z } from "@hono/zod-openapi";
import { requireOperator } from "../../auth/operator";
import { bearerSecurity, problemResponses } from "../../openapi";

export const getMetrics = createRoute({
  method: "get",
  path: "/admin/metrics",
  tags: ["operations"],
  summary: "Platform metrics in Prometheus text format (operator)",
  description:
    "Request rate, errors and latency by route template, queue traffic and depth, quota rejections and jobs by state, " +
    "summed over every isolate by the global metrics object. Other isolates' observations arrive up to " +
    "METRICS_FLUSH_DELAY_MS late.",
  security: bearerSecurity,
  middleware: [requireOperator] as const,
  responses: {
    200: {
      description: "Prometheus text exposition format 0.0.4",
      content: { "text/plain": { schema: z.string() } },
    },
    ...problemResponses(401, 403),
  },
});
