import type { Context } from "hono";
import { canonicalSha256 } from "../../../shared/core/canonical-json";
import type { AppEnv } from "../../context";
import { database } from "../../db/client";
import type { TemplateRow } from "../../db/schema";
import { type AppRouteHandler, mediaTypeOf } from "../../openapi";
import { HttpError } from "../../problems/http-error";
import { invalidField, notFound } from "../../problems/problem-response";
import { pageOf } from "../../repository/pagination";
import { TemplateCatalog } from "../../repository/templates";
import { ContentStore } from "../../storage/content-store";
import { removeTemplate, saveTemplate } from "./template-writes";
import type * as routes from "./templates.routes";
import { TEMPLATE_MEDIA_TYPES } from "./templates.routes";

const summaryView = (row: TemplateRow) => ({
  generator: row.generator,
  path: row.path,
  hash: row.hash,
  size: row.size,
  updatedAt: row.updatedAt,
});

const templateView = (row: TemplateRow, source: string) => ({
  ...summaryView(row),
  frontmatter: row.frontmatter,
  variables: row.variables,
  source,
  createdAt: row.createdAt,
});

async function readTemplateSource(c: Context<AppEnv>): Promise<string> {
  if (!(TEMPLATE_MEDIA_TYPES as readonly string[]).includes(mediaTypeOf(c))) {
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

export const putTemplate: AppRouteHandler<typeof routes.putTemplate> = async (c) => {
  const { generator, path } = c.req.valid("param");
  const source = await readTemplateSource(c);
  const writer = { actor: c.var.principal.subject, requestId: c.var.requestId };
  const { row, created } = await saveTemplate(c.env, c.var.tenant, writer, { generator, path }, source);
  return c.json(templateView(row, source), created ? 201 : 200);
};

export const getTemplate: AppRouteHandler<typeof routes.getTemplate> = async (c) => {
  const { generator, path } = c.req.valid("param");
  const { tenant } = c.var;
  const row = await new TemplateCatalog(database(c.env.DB), tenant.id).find(generator, path);
  if (!row) throw notFound("The template");
  const source = await new ContentStore(c.env.ARTIFACTS, tenant.id).text(row.hash);
  if (source === null) throw new Error(`template blob ${row.hash} missing for tenant ${tenant.id}`);
  const etag = `"${row.hash}"`;
  if ((c.req.header("accept") ?? "").split(",")[0]?.trim().startsWith("text/plain")) {
    return c.text(source, 200, { "content-type": "text/plain; charset=utf-8", etag });
  }
  return c.json(templateView(row, source), 200, { etag });
};

export const deleteTemplate: AppRouteHandler<typeof routes.deleteTemplate> = async (c) => {
  const { generator, path } = c.req.valid("param");
  const { principal, tenant } = c.var;
  if (!(await new TemplateCatalog(database(c.env.DB), tenant.id).find(generator, path))) throw notFound("The template");
  const writer = { actor: principal.subject, requestId: c.var.requestId };
  if (!(await removeTemplate(c.env, tenant, writer, { generator, path }))) throw notFound("The template");
  return c.body(null, 204);
};

export const listTemplates: AppRouteHandler<typeof routes.listTemplates> = async (c) => {
  const { generator, limit, cursor } = c.req.valid("query");
  const slash = cursor?.indexOf("/") ?? -1;
  const after = cursor && slash > 0 ? { generator: cursor.slice(0, slash), path: cursor.slice(slash + 1) } : undefined;
  const rows = await new TemplateCatalog(database(c.env.DB), c.var.tenant.id).list(limit, { generator, after });
  return c.json(
    pageOf(rows, limit, summaryView, (row) => `${row.generator}/${row.path}`),
    200,
  );
};

export const listGenerators: AppRouteHandler<typeof routes.listGenerators> = async (c) => {
  const { limit, cursor } = c.req.valid("query");
  const rows = await new TemplateCatalog(database(c.env.DB), c.var.tenant.id).generators(limit, cursor);
  const generatorView = (row: (typeof rows)[number]) => ({
    name: row.name,
    templates: Number(row.templates),
    updatedAt: row.updatedAt,
  });
  return c.json(
    pageOf(rows, limit, generatorView, (row) => row.name),
    200,
  );
};

async function generatorView(catalog: TemplateCatalog, name: string) {
  const { templates, options } = await catalog.generatorWithOptions(name);
  if (templates.length === 0) throw notFound("The generator");
  return {
    name,
    hash: await generatorHash(templates),
    templates: templates.map((row) => ({ path: row.path, hash: row.hash, size: row.size })),
    options: { throwOnUndefined: options.throwOnUndefined === true },
  };
}

export const getGenerator: AppRouteHandler<typeof routes.getGenerator> = async (c) => {
  const catalog = new TemplateCatalog(database(c.env.DB), c.var.tenant.id);
  return c.json(await generatorView(catalog, c.req.valid("param").name), 200);
};

export const updateGenerator: AppRouteHandler<typeof routes.updateGenerator> = async (c) => {
  const { name } = c.req.valid("param");
  const { options } = c.req.valid("json");
  const { principal, tenant } = c.var;
  const catalog = new TemplateCatalog(database(c.env.DB), tenant.id);
  const current = await catalog.generatorWithOptions(name);
  if (current.templates.length === 0) throw notFound("The generator");
  const merged = { ...current.options, ...options };
  await catalog.setGeneratorOptions(name, merged, principal.subject, c.var.requestId, new Date().toISOString());
  return c.json(await generatorView(catalog, name), 200);
};

/** What a template's source blob is stored as (see putTemplate); other blobs of the tenant are not sources. */
const TEMPLATE_SOURCE_TYPE = "text/plain; charset=utf-8";

export const getTemplateSource: AppRouteHandler<typeof routes.getTemplateSource> = async (c) => {
  const { sha256 } = c.req.valid("param");
  // The tenant's own blob namespace: a source another tenant stored is not there, whatever its hash.
  const blob = await new ContentStore(c.env.ARTIFACTS, c.var.tenant.id).get(sha256);
  if (!blob || blob.httpMetadata?.contentType !== TEMPLATE_SOURCE_TYPE) {
    await blob?.body.cancel();
    throw notFound("The template source");
  }
  return c.body(blob.body, 200, {
    "content-type": TEMPLATE_SOURCE_TYPE,
    "content-length": String(blob.size),
    etag: `"${sha256}"`,
    "cache-control": "private, max-age=31536000, immutable",
  });
};
