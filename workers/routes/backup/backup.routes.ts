import { createRoute, z } from "@hono/zod-openapi";
import { requireRole } from "../../auth/authenticate";
import { tenantRequest } from "../../middleware/tenant-request";
import { bearerSecurity, problemResponses } from "../../openapi";
import { rawContent } from "../graphs/rdf-content";

const tags = ["backup"];

export const ARCHIVE_MEDIA_TYPE = "application/zip";

const importReportSchema = z
  .object({
    sourceTenantId: z.string(),
    exportedAt: z.string(),
    counts: z.object({
      graphVersions: z.number().int(),
      templates: z.number().int(),
      generators: z.number().int(),
      monitors: z.number().int(),
      webhooks: z.number().int(),
    }),
    graphs: z.array(
      z.object({
        graph: z.string(),
        archivedVersion: z.number().int(),
        version: z.number().int(),
        hash: z.string().nullable(),
      }),
    ),
    monitors: z.array(z.object({ archivedId: z.string(), id: z.string() })),
    webhooks: z
      .array(z.object({ archivedId: z.string(), id: z.string(), secret: z.string() }))
      .describe("Restored disabled, each with a new signing secret shown only in this answer."),
    jobsNotRestored: z.number().int(),
    skipped: z.array(z.object({ kind: z.enum(["monitor", "webhook"]), archivedId: z.string(), reason: z.string() })),
  })
  .meta({ id: "ImportReport" });

export const exportTenant = createRoute({
  method: "get",
  path: "/export",
  tags,
  summary:
    "The tenant as a zip archive: graph versions, templates, generators, jobs with their artifact index, monitors, webhooks (no secrets), public keys (admin)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("admin")] as const,
  responses: {
    200: {
      description: "The archive, streamed",
      content: { [ARCHIVE_MEDIA_TYPE]: { schema: z.string().meta({ format: "binary" }) } },
    },
    ...problemResponses(401, 403, 422, 429),
  },
});

export const importTenant = createRoute({
  method: "post",
  path: "/import",
  tags,
  summary:
    "Restore an archive from GET /v1/export into this tenant, which must have no graphs, templates or jobs (admin)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("admin")] as const,
  request: { body: { required: true, content: rawContent([ARCHIVE_MEDIA_TYPE], "binary") } },
  responses: {
    201: { description: "Restored", content: { "application/json": { schema: importReportSchema } } },
    ...problemResponses(400, 401, 403, 409, 413, 415, 422, 429),
  },
});
