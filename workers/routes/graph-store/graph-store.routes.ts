import { createRoute } from "@hono/zod-openapi";
import { graphParamsSchema, graphStoreQuerySchema, graphVersionSchema } from "../../../shared/contracts/graphs";
import { requireRole } from "../../auth/authenticate";
import { tenantRequest } from "../../middleware/tenant-request";
import { bearerSecurity, problemResponses } from "../../openapi";
import { rdfDocumentContent, rdfResponseContent } from "../graphs/rdf-content";

const tags = ["graph-store"];
const path = "/graphs/{name}/store";
const request = { params: graphParamsSchema, query: graphStoreQuerySchema };
/** The Protocol's 201: the write created the graph; its first version is the body. */
const createdGraphResponse = {
  description: "The graph was created: its first version",
  content: { "application/json": { schema: graphVersionSchema } },
};

export const getStoreGraph = createRoute({
  method: "get",
  path,
  tags,
  summary: "SPARQL 1.1 Graph Store HTTP Protocol: the graph's latest content (`?default`) by Accept (viewer)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("viewer")] as const,
  request,
  responses: {
    200: { description: "The graph's triples", content: rdfResponseContent },
    ...problemResponses(400, 401, 403, 404, 406, 422, 429),
  },
});

export const putStoreGraph = createRoute({
  method: "put",
  path,
  tags,
  summary: "Graph Store Protocol: replace the graph's content (`?default`): 201 for a new graph, else 204 (editor)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("editor")] as const,
  request: { ...request, body: { required: true, content: rdfDocumentContent } },
  responses: {
    201: createdGraphResponse,
    204: { description: "The graph's content was replaced (or was already this)" },
    ...problemResponses(400, 401, 403, 413, 415, 422, 429),
  },
});

export const postStoreGraph = createRoute({
  method: "post",
  path,
  tags,
  summary:
    "Graph Store Protocol: merge the triples sent into the graph (`?default`): 201 for a new graph, else 204 (editor)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("editor")] as const,
  request: { ...request, body: { required: true, content: rdfDocumentContent } },
  responses: {
    201: createdGraphResponse,
    204: { description: "The triples were merged into a new version (or were all there already)" },
    ...problemResponses(400, 401, 403, 413, 415, 422, 429),
  },
});

export const deleteStoreGraph = createRoute({
  method: "delete",
  path,
  tags,
  summary: "Graph Store Protocol: delete the graph and all its versions (`?default`) (editor)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("editor")] as const,
  request,
  responses: { 204: { description: "Deleted" }, ...problemResponses(400, 401, 403, 404, 429) },
});
