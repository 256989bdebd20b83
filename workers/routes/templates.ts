import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import {
  generatorNameSchema,
  generatorSchema,
  templatePathSchema,
  templateSchema,
  templateSummarySchema,
} from "../../shared/contracts/templates";
import { canonicalSha256 } from "../../shared/core/canonical-json";
import { type PlanName, planLimits } from "../../shared/plans";
import { QuotaExceededError } from "../../shared/quota-errors";
import { inspectTemplate } from "../../shared/template/kgen/inspect-template";
import { authenticate, requireRole } from "../auth/authenticate";
import type { AppEnv } from "../context";
import { database } from "../db/client";
import type { TemplateRow } from "../db/schema";
import { bearerSecurity, createRouter, mediaTypeOf, problemResponses } from "../openapi";
import { HttpError } from "../problems/http-error";
import { invalidField, notFound, validationError } from "../problems/problem-response";
import { pageOf, pageQuerySchema } from "../repository/pagination";
import { TemplateCatalog } from "../repository/templates";
import { ContentStore } from "../storage/content-store";
import { tenantObject } from "../tenant-object-stub";
import { assertPlainTemplateAddress } from "./template-address";

const TEMPLATE_MEDIA_TYPES = ["text/plain", "text/x-nunjucks", "text/x-jinja"];

const summaryView = (row: TemplateRow) => ({
  generator: row.generator,
  path: row.path,
  hash: row.hash,
  size: row.size,
  updatedAt: row.updatedAt,
});

function pathParam<T>(schema: z.ZodType<T>, value: string | undefined, field: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalidField(field, parsed.error.issues[0]?.message ?? "Invalid", "path");
  return parsed.data;
}

function templateAddress(c: Context<AppEnv>): { generator: string; path: string } {
  assertPlainTemplateAddress(c.req.url, "/templates/");
  return {
    generator: pathParam(generatorNameSchema, c.req.param("generator"), "generator"),
    path: pathParam(templatePathSchema, c.req.param("path"), "path"),
  };
}

async function readTemplateSource(c: Context<AppEnv>): Promise<string> {
  if (!TEMPLATE_MEDIA_TYPES.includes(mediaTypeOf(c))) {
    throw new HttpError(
      415,
      "unsupported-media-type",
      "Unsupported Media Type",
      "Send the template source as text/plain (UTF-8).",
    );
  }
  const bytes = await c.req.arrayBuffer();
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw invalidField("body", "The template source is not valid UTF-8.", "body");
  }
}

/** The generator's identity: the hash of its sorted {path: templateHash} map. */
export async function generatorHash(rows: Pick<TemplateRow, "path" | "hash">[]): Promise<string> {
  return canonicalSha256(Object.fromEntries(rows.map((row) => [row.path, row.hash])));
}

export const templateRoutes = createRouter();

/** Any characters, line breaks too, so an address with a control character reaches the check that refuses it. */
const TEMPLATE_ROUTE = "/templates/:generator/:path{[\\s\\S]+}";

templateRoutes.put(TEMPLATE_ROUTE, authenticate, requireRole("editor"), async (c) => {
  const { generator, path } = templateAddress(c);
  const source = await readTemplateSource(c);
  const inspection = inspectTemplate(source);
  const { principal, tenant } = c.var;
  const catalog = new TemplateCatalog(database(c.env.DB), tenant.id);
  const existing = await catalog.find(generator, path);
  const tenantDo = tenantObject(c.env, tenant);
  if (!existing) {
    const limit = planLimits(tenant.plan as PlanName).templates;
    const reservation = await tenantDo.reserveQuota({ counter: "templates", amount: 1, limit });
    if (!reservation.granted) {
      throw new QuotaExceededError(
        "templates",
        limit,
        reservation.used,
        `The ${tenant.plan} plan allows ${limit} templates.`,
      );
    }
  }
  try {
    const stored = await new ContentStore(c.env.ARTIFACTS, tenant.id).put(
      new TextEncoder().encode(source) as Uint8Array<ArrayBuffer>,
      "text/plain; charset=utf-8",
    );
    const now = new Date().toISOString();
    await catalog.put(
      {
        generator,
        path,
        hash: stored.sha256,
        size: stored.size,
        frontmatter: inspection.frontmatter as Record<string, unknown>,
        variables: inspection.variables,
        createdAt: existing?.createdAt ?? now,
        updatedAt: now,
      },
      principal.subject,
      c.var.requestId,
    );
  } catch (error) {
    if (!existing) await tenantDo.releaseQuota({ counter: "templates", amount: 1 });
    throw error;
  }
  const row = await catalog.find(generator, path);
  if (!row) throw notFound("The template");
  return c.json(
    { ...summaryView(row), frontmatter: row.frontmatter, variables: row.variables, source, createdAt: row.createdAt },
    existing ? 200 : 201,
  );
});

templateRoutes.get(TEMPLATE_ROUTE, authenticate, requireRole("viewer"), async (c) => {
  const { generator, path } = templateAddress(c);
  const { tenant } = c.var;
  const row = await new TemplateCatalog(database(c.env.DB), tenant.id).find(generator, path);
  if (!row) throw notFound("The template");
  const source = await new ContentStore(c.env.ARTIFACTS, tenant.id).text(row.hash);
  if (source === null) throw new Error(`template blob ${row.hash} missing for tenant ${tenant.id}`);
  const etag = `"${row.hash}"`;
  if ((c.req.header("accept") ?? "").split(",")[0]?.trim().startsWith("text/plain")) {
    return c.body(source, 200, { "content-type": "text/plain; charset=utf-8", etag });
  }
  return c.json(
    { ...summaryView(row), frontmatter: row.frontmatter, variables: row.variables, source, createdAt: row.createdAt },
    200,
    { etag },
  );
});

templateRoutes.delete(TEMPLATE_ROUTE, authenticate, requireRole("editor"), async (c) => {
  const { generator, path } = templateAddress(c);
  const { principal, tenant } = c.var;
  const catalog = new TemplateCatalog(database(c.env.DB), tenant.id);
  if (!(await catalog.find(generator, path))) throw notFound("The template");
  await catalog.delete(generator, path, principal.subject, c.var.requestId, new Date().toISOString());
  await tenantObject(c.env, tenant).releaseQuota({ counter: "templates", amount: 1 });
  return c.body(null, 204);
});

const listQuery = pageQuerySchema.extend({
  generator: generatorNameSchema.optional(),
  cursor: z.string().max(600).optional().describe("`generator/path` of the last item of the previous page."),
});

templateRoutes.get("/templates", authenticate, requireRole("viewer"), async (c) => {
  const parsed = listQuery.safeParse(c.req.query());
  if (!parsed.success) throw validationError(parsed.error, "query");
  const { generator, limit, cursor } = parsed.data;
  const slash = cursor?.indexOf("/") ?? -1;
  const after = cursor && slash > 0 ? { generator: cursor.slice(0, slash), path: cursor.slice(slash + 1) } : undefined;
  const rows = await new TemplateCatalog(database(c.env.DB), c.var.tenant.id).list(limit, { generator, after });
  return c.json(pageOf(rows, limit, summaryView, (row) => `${row.generator}/${row.path}`));
});

const generatorListQuery = pageQuerySchema.extend({
  cursor: z.string().max(64).optional().describe("The last generator name of the previous page."),
});

templateRoutes.get("/generators", authenticate, requireRole("viewer"), async (c) => {
  const parsed = generatorListQuery.safeParse(c.req.query());
  if (!parsed.success) throw validationError(parsed.error, "query");
  const { limit, cursor } = parsed.data;
  const rows = await new TemplateCatalog(database(c.env.DB), c.var.tenant.id).generators(limit, cursor);
  const generatorView = (row: (typeof rows)[number]) => ({
    name: row.name,
    templates: Number(row.templates),
    updatedAt: row.updatedAt,
  });
  return c.json(pageOf(rows, limit, generatorView, (row) => row.name));
});

templateRoutes.get("/generators/:name", authenticate, requireRole("viewer"), async (c) => {
  assertPlainTemplateAddress(c.req.url, "/generators/");
  const name = pathParam(generatorNameSchema, c.req.param("name"), "name");
  const rows = await new TemplateCatalog(database(c.env.DB), c.var.tenant.id).generator(name);
  if (rows.length === 0) throw notFound("The generator");
  return c.json({
    name,
    hash: await generatorHash(rows),
    templates: rows.map((row) => ({ path: row.path, hash: row.hash, size: row.size })),
  });
});

const templateParams = z.object({ generator: generatorNameSchema, path: templatePathSchema });
const registry = templateRoutes.openAPIRegistry;
registry.registerPath({
  method: "put",
  path: "/templates/{generator}/{path}",
  tags: ["templates"],
  summary:
    "Store a template (editor and up). `path` may contain `/`. Parsed before it is stored: 422 with line and column when it does not.",
  security: bearerSecurity,
  request: { params: templateParams, body: { required: true, content: { "text/plain": { schema: z.string() } } } },
  responses: {
    200: { description: "Replaced", content: { "application/json": { schema: templateSchema } } },
    201: { description: "Created", content: { "application/json": { schema: templateSchema } } },
    ...problemResponses(400, 401, 403, 413, 415, 422, 429),
  },
});
registry.registerPath({
  method: "get",
  path: "/templates/{generator}/{path}",
  tags: ["templates"],
  summary:
    "A template: source, frontmatter, variables and hash (viewer and up); `Accept: text/plain` gives the raw source",
  security: bearerSecurity,
  request: { params: templateParams },
  responses: {
    200: {
      description: "The template",
      content: { "application/json": { schema: templateSchema }, "text/plain": { schema: z.string() } },
    },
    ...problemResponses(400, 401, 403, 404, 422, 429),
  },
});
registry.registerPath({
  method: "delete",
  path: "/templates/{generator}/{path}",
  tags: ["templates"],
  summary: "Delete a template (editor and up)",
  security: bearerSecurity,
  request: { params: templateParams },
  responses: { 204: { description: "Deleted" }, ...problemResponses(400, 401, 403, 404, 422, 429) },
});
registry.registerPath({
  method: "get",
  path: "/templates",
  tags: ["templates"],
  summary: "List templates, optionally of one generator (viewer and up)",
  security: bearerSecurity,
  request: { query: listQuery },
  responses: {
    200: {
      description: "A page of templates",
      content: {
        "application/json": {
          schema: z.object({ items: z.array(templateSummarySchema), nextCursor: z.string().nullable() }),
        },
      },
    },
    ...problemResponses(400, 401, 403, 429),
  },
});
registry.registerPath({
  method: "get",
  path: "/generators",
  tags: ["templates"],
  summary: "List generators (sets of templates) (viewer and up)",
  security: bearerSecurity,
  request: { query: generatorListQuery },
  responses: {
    200: {
      description: "A page of generators",
      content: {
        "application/json": {
          schema: z.object({
            items: z.array(z.object({ name: z.string(), templates: z.number().int(), updatedAt: z.string() })),
            nextCursor: z.string().nullable(),
          }),
        },
      },
    },
    ...problemResponses(400, 401, 403, 429),
  },
});
registry.registerPath({
  method: "get",
  path: "/generators/{name}",
  tags: ["templates"],
  summary: "A generator with its template hashes (viewer and up)",
  security: bearerSecurity,
  request: { params: z.object({ name: generatorNameSchema }) },
  responses: {
    200: { description: "The generator", content: { "application/json": { schema: generatorSchema } } },
    ...problemResponses(400, 401, 403, 404, 422, 429),
  },
});
