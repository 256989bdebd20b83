import { createRoute, z } from "@hono/zod-openapi";
import {
  DRIFT_MAX_BODY_BYTES,
  driftReportListItemSchema,
  driftReportSchema,
  driftRequestSchema,
} from "../../../shared/contracts/drift";
import { requireRole } from "../../auth/authenticate";
import { tenantRequest } from "../../middleware/tenant-request";
import { bearerSecurity, problemResponses, requireJsonBodyWithin } from "../../openapi";
import { pageQuerySchema } from "../../repository/pagination";

const reportIdParam = z.object({ id: z.string().min(1).max(64) });

export const createDriftCheck = createRoute({
  method: "post",
  path: "/drift",
  tags: ["drift"],
  summary:
    "Check a tree of files against a job's artifacts: 200 with the report, or 202 when the check is large and runs on the queue (viewer)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("viewer"), requireJsonBodyWithin(DRIFT_MAX_BODY_BYTES)] as const,
  request: { body: { required: true, content: { "application/json": { schema: driftRequestSchema } } } },
  responses: {
    200: {
      description: "The report (exitCode 0 clean, 3 drift)",
      content: { "application/json": { schema: driftReportSchema } },
    },
    202: {
      description: "Queued: GET /v1/drift/{id} until its state is done or failed",
      content: { "application/json": { schema: driftReportSchema } },
    },
    ...problemResponses(400, 401, 403, 404, 409, 413, 415, 422, 429),
  },
});

export const getDriftReport = createRoute({
  method: "get",
  path: "/drift/{id}",
  tags: ["drift"],
  summary: "A drift report: pending, done (with its files) or failed (viewer)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("viewer")] as const,
  request: { params: reportIdParam },
  responses: {
    200: { description: "The report", content: { "application/json": { schema: driftReportSchema } } },
    ...problemResponses(401, 403, 404, 429),
  },
});

export const listDriftReports = createRoute({
  method: "get",
  path: "/drift",
  tags: ["drift"],
  summary: "Drift reports, newest first, optionally of one job; counts only (viewer)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("viewer")] as const,
  request: { query: pageQuerySchema.extend({ job: z.string().min(1).max(64).optional() }) },
  responses: {
    200: {
      description: "A page of reports",
      content: {
        "application/json": {
          schema: z.object({ items: z.array(driftReportListItemSchema), nextCursor: z.string().nullable() }),
        },
      },
    },
    ...problemResponses(400, 401, 403, 429),
  },
});
