import { createRoute, z } from "@hono/zod-openapi";

export const health = createRoute({
  method: "get",
  path: "/health",
  tags: ["platform"],
  summary: "Liveness and version",
  responses: {
    200: {
      description: "The service is up",
      content: { "application/json": { schema: z.object({ status: z.literal("ok"), version: z.string() }) } },
    },
  },
});
