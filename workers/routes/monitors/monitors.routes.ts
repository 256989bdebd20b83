import { createRoute, z } from "@hono/zod-openapi";
import {
  createMonitorSchema,
  MAX_TREND_DAYS,
  monitorRunSchema,
  monitorSchema,
  monitorTrendSchema,
  updateMonitorSchema,
} from "../../../shared/contracts/monitors";
import { requireRole } from "../../auth/authenticate";
import { tenantRequest } from "../../middleware/tenant-request";
import { bearerSecurity, problemResponses, requireJsonBody } from "../../openapi";
import { pageQuerySchema } from "../../repository/pagination";

const tags = ["monitors"];
const monitorIdParam = z.object({ id: z.string().min(1).max(64) });
const monitorPageSchema = z.object({ items: z.array(monitorSchema), nextCursor: z.string().nullable() });
const runPageSchema = z.object({ items: z.array(monitorRunSchema), nextCursor: z.string().nullable() });

export const createMonitor = createRoute({
  method: "post",
  path: "/monitors",
  tags,
  summary:
    "Create a drift monitor: a job (or a generator over a graph) checked on every new graph version, or against a manifest on a schedule (editor)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("editor"), requireJsonBody] as const,
  request: { body: { required: true, content: { "application/json": { schema: createMonitorSchema } } } },
  responses: {
    201: { description: "Created", content: { "application/json": { schema: monitorSchema } } },
    ...problemResponses(400, 401, 403, 404, 409, 413, 415, 422, 429),
  },
});

export const listMonitors = createRoute({
  method: "get",
  path: "/monitors",
  tags,
  summary: "The tenant's monitors, oldest first",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("viewer")] as const,
  request: { query: pageQuerySchema },
  responses: {
    200: { description: "A page of monitors", content: { "application/json": { schema: monitorPageSchema } } },
    ...problemResponses(400, 401, 403, 429),
  },
});

export const getMonitor = createRoute({
  method: "get",
  path: "/monitors/{id}",
  tags,
  summary: "A monitor (manifest header values are never shown)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("viewer")] as const,
  request: { params: monitorIdParam },
  responses: {
    200: { description: "The monitor", content: { "application/json": { schema: monitorSchema } } },
    ...problemResponses(400, 401, 403, 404, 429),
  },
});

export const updateMonitor = createRoute({
  method: "patch",
  path: "/monitors/{id}",
  tags,
  summary: "Change a monitor's name, schedule, source, reaction to drift, or pause it (editor)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("editor"), requireJsonBody] as const,
  request: {
    params: monitorIdParam,
    body: { required: true, content: { "application/json": { schema: updateMonitorSchema } } },
  },
  responses: {
    200: { description: "The monitor", content: { "application/json": { schema: monitorSchema } } },
    ...problemResponses(400, 401, 403, 404, 409, 413, 415, 422, 429),
  },
});

export const deleteMonitor = createRoute({
  method: "delete",
  path: "/monitors/{id}",
  tags,
  summary: "Delete a monitor and its run history (editor)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("editor")] as const,
  request: { params: monitorIdParam },
  responses: { 204: { description: "Deleted" }, ...problemResponses(400, 401, 403, 404, 429) },
});

export const listMonitorRuns = createRoute({
  method: "get",
  path: "/monitors/{id}/runs",
  tags,
  summary: "A monitor's runs, newest first: status, counts, duration, report",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("viewer")] as const,
  request: { params: monitorIdParam, query: pageQuerySchema },
  responses: {
    200: { description: "A page of runs", content: { "application/json": { schema: runPageSchema } } },
    ...problemResponses(400, 401, 403, 404, 429),
  },
});

export const monitorTrend = createRoute({
  method: "get",
  path: "/monitors/{id}/trend",
  tags,
  summary: "Clean, drifted and failed runs per UTC day over the last `days` days",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("viewer")] as const,
  request: {
    params: monitorIdParam,
    query: z.object({ days: z.coerce.number().int().min(1).max(MAX_TREND_DAYS).default(30) }),
  },
  responses: {
    200: { description: "Runs per day", content: { "application/json": { schema: monitorTrendSchema } } },
    ...problemResponses(400, 401, 403, 404, 429),
  },
});
