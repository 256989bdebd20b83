import { createRoute, z } from "@hono/zod-openapi";
import { requireRole } from "../../auth/authenticate";
import { tenantRequest } from "../../middleware/tenant-request";
import { bearerSecurity, problemResponses } from "../../openapi";

const eventSchema = z
  .object({ id: z.number().int(), type: z.string(), data: z.unknown(), createdAt: z.number().int() })
  .meta({ id: "Event" });

export const listEvents = createRoute({
  method: "get",
  path: "/events",
  tags: ["events"],
  summary: "The tenant's ordered event log, read by cursor (viewer and up)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("viewer")] as const,
  request: {
    query: z.object({
      after: z.coerce.number().int().min(0).default(0).describe("Return events with id greater than this."),
      limit: z.coerce.number().int().min(1).max(1000).default(100),
    }),
  },
  responses: {
    200: {
      description: "A page of events",
      content: {
        "application/json": {
          schema: z.object({ events: z.array(eventSchema), nextCursor: z.number().int(), hasMore: z.boolean() }),
        },
      },
    },
    ...problemResponses(400, 401, 403, 429),
  },
});
