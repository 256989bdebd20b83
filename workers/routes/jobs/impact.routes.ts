import { createRoute, z } from "@hono/zod-openapi";
import { requireRole } from "../../auth/authenticate";
import { tenantRequest } from "../../middleware/tenant-request";
import { bearerSecurity, problemResponses } from "../../openapi";

const rowSchema = z.record(z.string(), z.string()).describe("A query row: variable → lexical value.");
const graphPinSchema = z.object({ name: z.string(), version: z.union([z.number(), z.string()]), hash: z.string() });

const reasonSchema = z
  .discriminatedUnion("kind", [
    z
      .object({
        kind: z.literal("query"),
        query: z.string(),
        before: z.string().describe("The result's sha256 the artifact recorded."),
        after: z.string().describe("The result's sha256 at the target version."),
        rowsAdded: z.array(rowSchema).describe("The first 20 rows the result gained."),
        rowsRemoved: z.array(rowSchema).describe("The first 20 rows the result lost."),
        rowsAddedCount: z.number().int(),
        rowsRemovedCount: z.number().int(),
      })
      .describe("A query the artifact read answers otherwise."),
    z
      .object({
        kind: z.literal("row"),
        query: z.string(),
        binding: z.string(),
        before: rowSchema.nullable(),
        after: rowSchema.nullable(),
      })
      .describe("The foreach row the artifact is written for changed."),
    z.object({
      kind: z.literal("template"),
      template: z.string(),
      before: z.string(),
      after: z.string().nullable(),
    }),
    z.object({ kind: z.literal("params"), before: z.string(), after: z.string() }),
    z
      .object({ kind: z.literal("environment"), reads: z.array(z.string()) })
      .describe("The template reads `kgen`, `now`, `date` or `random`, which differ at the target version."),
    z.object({ kind: z.literal("planned"), template: z.string(), row: rowSchema.nullable() }),
    z.object({ kind: z.literal("unplanned"), template: z.string(), row: rowSchema.nullable() }),
  ])
  .meta({ id: "ImpactReason" });

export const impactReportSchema = z
  .object({
    jobId: z.string(),
    baseline: z.object({ graph: graphPinSchema }),
    target: z.object({ graph: graphPinSchema }),
    artifacts: z.array(
      z.object({
        path: z.string(),
        status: z.enum(["unchanged", "changed", "added", "removed"]),
        risk: z.enum(["breaking", "additive", "modified"]).optional(),
        template: z.string(),
        reasons: z.array(reasonSchema),
      }),
    ),
    summary: z.object({
      unchanged: z.number().int(),
      changed: z.number().int(),
      added: z.number().int(),
      removed: z.number().int(),
      breaking: z.number().int(),
      additive: z.number().int(),
      modified: z.number().int(),
    }),
    work: z.object({ queries: z.number().int(), rows: z.number().int(), pathRenders: z.number().int() }),
  })
  .meta({ id: "JobImpact" });

export const getJobImpact = createRoute({
  method: "get",
  path: "/jobs/{id}/impact",
  tags: ["jobs"],
  summary: "Which of a job's artifacts another graph version changes, adds or removes, and why (viewer)",
  description:
    "Re-runs the queries each artifact recorded against the version and re-plans output paths (never bodies). 409 job-not-completed while the job runs; 422 impact-too-large over the analysis' budget.",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("viewer")] as const,
  request: {
    params: z.object({ id: z.string().min(1).max(64) }),
    query: z.object({
      version: z.coerce
        .number()
        .int()
        .min(1)
        .max(Number.MAX_SAFE_INTEGER)
        .optional()
        .describe("The graph version to compare with; the graph's latest by default."),
    }),
  },
  responses: {
    200: { description: "The impact", content: { "application/json": { schema: impactReportSchema } } },
    ...problemResponses(400, 401, 403, 404, 409, 422, 429),
  },
});
