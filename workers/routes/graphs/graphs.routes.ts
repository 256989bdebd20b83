import { createRoute, z } from "@hono/zod-openapi";
import {
  graphDiffQuerySchema,
  graphDiffSchema,
  graphParamsSchema,
  graphVersionContentQuerySchema,
  graphVersionListSchema,
  graphVersionParamsSchema,
  graphVersionSchema,
  shaclReportSchema,
  versionQuerySchema,
} from "../../../shared/contracts/graphs";
import { requireRole } from "../../auth/authenticate";
import { edgeContentCache, pinsContentHash } from "../../middleware/edge-content-cache";
import { tenantRequest } from "../../middleware/tenant-request";
import { bearerSecurity, problemResponses } from "../../openapi";
import { rawContent, rdfDocumentContent, rdfResponseContent } from "./rdf-content";

const tags = ["graphs"];

/** The component the PATCH JSON body refers to (registered with graphPatchSchema by the router). */
export const GRAPH_PATCH_COMPONENT = "GraphPatch";

export const listGraphs = createRoute({
  method: "get",
  path: "/graphs",
  tags,
  summary: "List graphs with their latest version (viewer)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("viewer")] as const,
  responses: {
    200: {
      description: "Every graph's latest version",
      content: { "application/json": { schema: graphVersionListSchema } },
    },
    ...problemResponses(401, 403, 429),
  },
});

export const replaceGraph = createRoute({
  method: "put",
  path: "/graphs/{name}",
  tags,
  summary:
    "Replace a graph's content (Turtle, N-Triples, N-Quads, TriG, JSON-LD by Content-Type): a new version, or the existing one for identical content (editor)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("editor")] as const,
  request: { params: graphParamsSchema, body: { required: true, content: rdfDocumentContent } },
  responses: {
    200: {
      description: "Same content as the latest version",
      content: { "application/json": { schema: graphVersionSchema } },
    },
    201: {
      description: "A new version",
      headers: z.object({ location: z.string().describe("Where the version's content is served") }),
      content: { "application/json": { schema: graphVersionSchema } },
    },
    ...problemResponses(400, 401, 403, 413, 415, 422, 429),
  },
});

export const patchGraph = createRoute({
  method: "patch",
  path: "/graphs/{name}",
  tags,
  summary:
    "Change a graph with SPARQL 1.1 Update (application/sparql-update) or {add, remove} Turtle (application/json): a new version (editor)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("editor")] as const,
  request: {
    params: graphParamsSchema,
    body: {
      required: true,
      content: {
        ...rawContent(["application/sparql-update"]),
        // A reference, not the zod schema: zod-openapi would validate SPARQL Update bodies against it too.
        "application/json": { schema: { $ref: `#/components/schemas/${GRAPH_PATCH_COMPONENT}` } },
      },
    },
  },
  responses: {
    200: {
      description: "No change: the latest version",
      content: { "application/json": { schema: graphVersionSchema } },
    },
    201: { description: "A new version", content: { "application/json": { schema: graphVersionSchema } } },
    ...problemResponses(400, 401, 403, 404, 415, 422, 429),
  },
});

export const getGraph = createRoute({
  method: "get",
  path: "/graphs/{name}",
  tags,
  summary:
    "The latest version: its metadata as JSON (the default), or its content as Turtle, TriG, N-Triples, N-Quads or JSON-LD by Accept (viewer)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("viewer")] as const,
  request: { params: graphParamsSchema },
  responses: {
    200: {
      description: "The latest version",
      content: { "application/json": { schema: graphVersionSchema }, ...rdfResponseContent },
    },
    ...problemResponses(401, 403, 404, 406, 422, 429),
  },
});

export const deleteGraph = createRoute({
  method: "delete",
  path: "/graphs/{name}",
  tags,
  summary: "Delete a graph and all its versions (editor)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("editor")] as const,
  request: { params: graphParamsSchema },
  responses: { 204: { description: "Deleted" }, ...problemResponses(401, 403, 404, 429) },
});

export const listVersions = createRoute({
  method: "get",
  path: "/graphs/{name}/versions",
  tags,
  summary: "All versions of a graph (viewer)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("viewer")] as const,
  request: { params: graphParamsSchema },
  responses: {
    200: {
      description: "Every version, oldest first",
      content: { "application/json": { schema: graphVersionListSchema } },
    },
    ...problemResponses(400, 401, 403, 404, 429),
  },
});

export const getVersionContent = createRoute({
  method: "get",
  path: "/graphs/{name}/versions/{version}",
  tags,
  summary:
    "A version's content (a number, or `latest`) in the format of Accept, Turtle by default; with `hash`, N-Triples and N-Quads are immutable: ETag, 304 and cached at the edge (viewer)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("viewer"), edgeContentCache(pinsContentHash)] as const,
  request: {
    params: graphVersionParamsSchema,
    query: graphVersionContentQuerySchema,
    headers: z.object({ "if-none-match": z.string().optional() }),
  },
  responses: {
    200: { description: "The version's triples", content: rdfResponseContent },
    304: { description: "Not modified (the ETag is the version's content hash)" },
    ...problemResponses(400, 401, 403, 404, 406, 422, 429),
  },
});

export const diffVersions = createRoute({
  method: "get",
  path: "/graphs/{name}/diff",
  tags,
  summary:
    "Added and removed triples and changed subjects between versions `from` and `to` (JSON or N-Triples) (viewer)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("viewer")] as const,
  request: { params: graphParamsSchema, query: graphDiffQuerySchema },
  responses: {
    200: {
      description: "The differences",
      content: { "application/json": { schema: graphDiffSchema }, ...rawContent(["application/n-triples"]) },
    },
    ...problemResponses(400, 401, 403, 404, 406, 422, 429),
  },
});

export const validateGraph = createRoute({
  method: "post",
  path: "/graphs/{name}/validate",
  tags,
  summary: "Validate a version against SHACL shapes (text/turtle): a validation report (viewer)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("viewer")] as const,
  request: {
    params: graphParamsSchema,
    query: versionQuerySchema,
    body: { required: true, content: rawContent(["text/turtle"]) },
  },
  responses: {
    200: {
      description: "The SHACL validation report",
      content: { "application/json": { schema: shaclReportSchema }, ...rawContent(["text/turtle"]) },
    },
    ...problemResponses(400, 401, 403, 404, 415, 422, 429),
  },
});
