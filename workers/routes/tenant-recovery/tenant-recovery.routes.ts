import { createRoute, z } from "@hono/zod-openapi";
import { requireOperator } from "../../auth/operator";
import { bearerSecurity, problemResponses, requireJsonBody } from "../../openapi";

const DAY_MS = 24 * 60 * 60 * 1000;
/** How far back Durable Object point-in-time recovery reaches. */
export const RECOVERY_WINDOW_MS = 30 * DAY_MS;

export const objectRestoreSchema = z
  .union([
    z
      .object({ at: z.iso.datetime({ offset: true }).describe("Restore to this time (within the last 30 days).") })
      .strict(),
    z
      .object({
        bookmark: z
          .string()
          .min(1)
          .max(256)
          .describe("Restore to this bookmark, e.g. `previous` of an earlier restore."),
      })
      .strict(),
  ])
  .meta({ id: "ObjectRestore" });

const objectRestoreResultSchema = z
  .object({
    tenantId: z.string(),
    restoredTo: z.string().describe("The bookmark the object's storage was restored to."),
    previous: z.string().describe("The bookmark of the storage just before: restore to it to undo this restore."),
  })
  .meta({ id: "ObjectRestoreResult" });

export const restoreTenantObject = createRoute({
  method: "post",
  path: "/tenants/{id}/object-restore",
  tags: ["tenants"],
  summary:
    "Restore a tenant's Durable Object storage (graphs, artifact index, events, webhooks) to a point in time (operator); audit-logged",
  security: bearerSecurity,
  middleware: [requireOperator, requireJsonBody] as const,
  request: {
    params: z.object({ id: z.string().min(1).max(64) }),
    body: { required: true, content: { "application/json": { schema: objectRestoreSchema } } },
  },
  responses: {
    200: { description: "Restored", content: { "application/json": { schema: objectRestoreResultSchema } } },
    ...problemResponses(400, 401, 403, 404, 413, 415, 422, 501),
  },
});
