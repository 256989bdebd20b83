import { createRoute, z } from "@hono/zod-openapi";
import { ENGINE_VERSION } from "../../shared/version";
import { createRouter } from "../openapi";

const health = createRoute({
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

export const healthRoutes = createRouter().openapi(health, (c) =>
  c.json({ status: "ok" as const, version: ENGINE_VERSION }, 200),
);
