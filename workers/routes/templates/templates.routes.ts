import { createRoute, z } from "@hono/zod-openapi";
import { sha256HexSchema } from "../../../shared/contracts/lock";
import {
  generatorNameSchema,
  generatorSchema,
  generatorSettingsSchema,
  templatePathSchema,
  templateSchema,
  templateSummarySchema,
} from "../../../shared/contracts/templates";
import { requireRole } from "../../auth/authenticate";
import { cacheImmutableContent } from "../../middleware/edge-content-cache";
import { tenantRequest } from "../../middleware/tenant-request";
import { bearerSecurity, problemResponses, requireJsonBody } from "../../openapi";
import { pageQuerySchema } from "../../repository/pagination";
import { plainTemplateAddress } from "./plain-template-address";

/** The media types a template source may be sent as (all UTF-8 text). */
export const TEMPLATE_MEDIA_TYPES = ["text/plain", "text/x-nunjucks", "text/x-jinja"] as const;

const templateSourceSchema = z
  .string()
  .describe("The template source, UTF-8: optional YAML frontmatter, then the body.");
const templateParams = z.object({ generator: generatorNameSchema, path: templatePathSchema });
const generatorParams = z.object({ name: generatorNameSchema });

export const templateListQuerySchema = pageQuerySchema.extend({
  generator: generatorNameSchema.optional(),
  cursor: z.string().max(600).optional().describe("`generator/path` of the last item of the previous page."),
});

export const generatorListQuerySchema = pageQuerySchema.extend({
  cursor: z.string().max(64).optional().describe("The last generator name of the previous page."),
});

const templatePageSchema = z.object({ items: z.array(templateSummarySchema), nextCursor: z.string().nullable() });
const generatorPageSchema = z.object({
  items: z.array(z.object({ name: z.string(), templates: z.number().int(), updatedAt: z.string() })),
  nextCursor: z.string().nullable(),
});

export const putTemplate = createRoute({
  method: "put",
  path: "/templates/{generator}/{path}",
  tags: ["templates"],
  summary:
    "Store a template (editor and up). `path` may contain `/`. Parsed before it is stored, frontmatter query included: 422 with line and column in the file when it does not parse.",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("editor"), plainTemplateAddress("/templates/")] as const,
  request: {
    params: templateParams,
    body: {
      required: true,
      content: Object.fromEntries(TEMPLATE_MEDIA_TYPES.map((type) => [type, { schema: templateSourceSchema }])),
    },
  },
  responses: {
    200: { description: "Replaced", content: { "application/json": { schema: templateSchema } } },
    201: { description: "Created", content: { "application/json": { schema: templateSchema } } },
    ...problemResponses(400, 401, 403, 413, 415, 422, 429),
  },
});

export const getTemplate = createRoute({
  method: "get",
  path: "/templates/{generator}/{path}",
  tags: ["templates"],
  summary:
    "A template: source, frontmatter, variables and hash (viewer and up); `Accept: text/plain` gives the raw source",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("viewer"), plainTemplateAddress("/templates/")] as const,
  request: { params: templateParams },
  responses: {
    200: {
      description: "The template",
      content: { "application/json": { schema: templateSchema }, "text/plain": { schema: templateSourceSchema } },
    },
    ...problemResponses(400, 401, 403, 404, 422, 429),
  },
});

export const deleteTemplate = createRoute({
  method: "delete",
  path: "/templates/{generator}/{path}",
  tags: ["templates"],
  summary: "Delete a template (editor and up)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("editor"), plainTemplateAddress("/templates/")] as const,
  request: { params: templateParams },
  responses: { 204: { description: "Deleted" }, ...problemResponses(400, 401, 403, 404, 422, 429) },
});

export const listTemplates = createRoute({
  method: "get",
  path: "/templates",
  tags: ["templates"],
  summary: "List templates, optionally of one generator (viewer and up)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("viewer")] as const,
  request: { query: templateListQuerySchema },
  responses: {
    200: { description: "A page of templates", content: { "application/json": { schema: templatePageSchema } } },
    ...problemResponses(400, 401, 403, 429),
  },
});

export const listGenerators = createRoute({
  method: "get",
  path: "/generators",
  tags: ["templates"],
  summary: "List generators (sets of templates) (viewer and up)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("viewer")] as const,
  request: { query: generatorListQuerySchema },
  responses: {
    200: { description: "A page of generators", content: { "application/json": { schema: generatorPageSchema } } },
    ...problemResponses(400, 401, 403, 429),
  },
});

export const getGenerator = createRoute({
  method: "get",
  path: "/generators/{name}",
  tags: ["templates"],
  summary: "A generator with its template hashes and settings (viewer and up)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("viewer"), plainTemplateAddress("/generators/")] as const,
  request: { params: generatorParams },
  responses: {
    200: { description: "The generator", content: { "application/json": { schema: generatorSchema } } },
    ...problemResponses(400, 401, 403, 404, 422, 429),
  },
});

export const updateGenerator = createRoute({
  method: "patch",
  path: "/generators/{name}",
  tags: ["templates"],
  summary:
    "Set a generator's render options (editor and up): the defaults of its jobs, e.g. `throwOnUndefined`; a job's own options win",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("editor"), plainTemplateAddress("/generators/"), requireJsonBody] as const,
  request: {
    params: generatorParams,
    body: { required: true, content: { "application/json": { schema: generatorSettingsSchema } } },
  },
  responses: {
    200: { description: "The generator", content: { "application/json": { schema: generatorSchema } } },
    ...problemResponses(400, 401, 403, 404, 415, 422, 429),
  },
});

export const getTemplateSource = createRoute({
  method: "get",
  path: "/template-sources/{sha256}",
  tags: ["templates"],
  summary:
    "A template source by its sha256, one this tenant stores or stored (a template's `hash`, or a lock's); immutable: ETag, 304 and cached at the edge (viewer and up)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("viewer"), cacheImmutableContent] as const,
  request: {
    params: z.object({ sha256: sha256HexSchema }),
    headers: z.object({ "if-none-match": z.string().optional() }),
  },
  responses: {
    200: { description: "The source, as it was stored", content: { "text/plain": { schema: templateSourceSchema } } },
    304: { description: "Not modified (the ETag is the sha256)" },
    ...problemResponses(400, 401, 403, 404, 429),
  },
});
