import { createRoute, z } from "@hono/zod-openapi";
import {
  graphParamsSchema,
  graphVersionSchema,
  sparqlFormSchema,
  sparqlParamsSchema,
} from "../../../shared/contracts/graphs";
import { RDF_MEDIA_TYPES } from "../../../shared/rdf/formats";
import { requireRole } from "../../auth/authenticate";
import { edgeContentCache, pinsContentHash } from "../../middleware/edge-content-cache";
import { tenantRequest } from "../../middleware/tenant-request";
import { bearerSecurity, problemResponses } from "../../openapi";
import { rawContent } from "../graphs/rdf-content";

const tags = ["sparql"];

const queryResultsContent = rawContent([
  "application/sparql-results+json",
  "application/sparql-results+xml",
  "text/csv",
  "text/tab-separated-values",
  RDF_MEDIA_TYPES.turtle,
  RDF_MEDIA_TYPES.ntriples,
  RDF_MEDIA_TYPES.jsonld,
  RDF_MEDIA_TYPES.nquads,
  RDF_MEDIA_TYPES.trig,
]);

export const sparqlGet = createRoute({
  method: "get",
  path: "/graphs/{name}/sparql",
  tags,
  summary:
    "SPARQL 1.1 Protocol query (`query`, optional `version`, with `hash` pinned: an answer fixed by that content gets an ETag, 304 and the edge cache); results as SPARQL JSON/XML/CSV/TSV or, for graphs, Turtle/N-Triples/JSON-LD/N-Quads/TriG (viewer)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("viewer"), edgeContentCache(pinsContentHash)] as const,
  request: {
    params: graphParamsSchema,
    query: sparqlParamsSchema,
    headers: z.object({ "if-none-match": z.string().optional() }),
  },
  responses: {
    200: { description: "Query results in the format of Accept", content: queryResultsContent },
    304: { description: "Not modified (a pinned answer's ETag is the sha256 of its bytes)" },
    ...problemResponses(400, 401, 403, 404, 406, 422, 429),
  },
});

export const sparqlPost = createRoute({
  method: "post",
  path: "/graphs/{name}/sparql",
  tags,
  summary:
    "SPARQL 1.1 Protocol query (application/sparql-query, or a form field `query`; viewer) or update (application/sparql-update, or a form field `update`; editor): an update makes a new version, as PATCH does",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("viewer")] as const,
  request: {
    params: graphParamsSchema,
    query: z.object({ version: sparqlParamsSchema.shape.version }),
    body: {
      required: true,
      content: {
        ...rawContent(["application/sparql-query", "application/sparql-update"]),
        "application/x-www-form-urlencoded": { schema: sparqlFormSchema },
      },
    },
  },
  responses: {
    200: {
      description: "Query results in the format of Accept, or (update) the unchanged latest version",
      content: { ...queryResultsContent, "application/json": { schema: graphVersionSchema } },
    },
    201: {
      description: "The update made a new version",
      content: { "application/json": { schema: graphVersionSchema } },
    },
    ...problemResponses(400, 401, 403, 404, 406, 415, 422, 429),
  },
});
