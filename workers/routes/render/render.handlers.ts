import type { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { unwrap } from "../../../durable-objects/tenant/rpc-outcome";
import { templatePathSchema } from "../../../shared/contracts/templates";
import { sha256Hex } from "../../../shared/core/sha256";
import { kgenContext } from "../../../shared/generate/generate";
import { GraphRequiredError } from "../../../shared/generate/graph-required-error";
import { kgenPlanDependencies } from "../../../shared/generate/kgen-dependencies";
import type { Lock } from "../../../shared/generate/lock";
import type { TemplatePreview } from "../../../shared/generate/template-preview";
import { previewTemplate } from "../../../shared/generate/template-preview";
import { type PlanTemplate, TemplateUnitPipeline } from "../../../shared/generate/template-unit";
import { queryLimits } from "../../../shared/plans";
import { type FetchOnceLoader, fetchOnceLoader } from "../../../shared/template/fetch-once-loader";
import { parseFrontmatter } from "../../../shared/template/frontmatter/parse-frontmatter";
import { deriveRenderSeed } from "../../../shared/template/kgen/seeded-random";
import { ENGINE_VERSION } from "../../../shared/version";
import type { AppEnv } from "../../context";
import { database } from "../../db/client";
import { assertInlineContentSize } from "../../jobs/inline-content";
import { lockFor, lockOf, pinnedGraphVersion, templatesOfLock } from "../../jobs/job-inputs";
import { routeClassOf } from "../../middleware/request-metering";
import { requestUsageBatch } from "../../middleware/request-usage-batch";
import type { AppRouteHandler } from "../../openapi";
import { notFound } from "../../problems/problem-response";
import { TemplateCatalog } from "../../repository/templates";
import { ContentStore } from "../../storage/content-store";
import { tenantObject } from "../../tenant-object-stub";
import type * as routes from "./render.routes";

/** The build time of a render without a graph that does not name one: the Unix epoch, never the clock. */
export const DEFAULT_RENDER_BUILD_TIME = "1970-01-01T00:00:00.000Z";
/** Where an inline template sits, and the generator it forms, when it is rendered like a job. */
export const INLINE_TEMPLATE_PATH = "template.njk";
export const INLINE_GENERATOR = "preview";
/** Units one render answers with (a foreach over a large result belongs in a job). */
export const MAX_PREVIEW_UNITS = 1000;

type AppContext = Context<AppEnv>;
type RenderRequest = z.infer<typeof routes.renderRequestSchema>;
type GraphPin = { name: string; version: number; hash: string };

function splitTemplatePath(templatePath: string): { generator: string; path: string } {
  const slash = templatePath.indexOf("/");
  const path = templatePath.slice(slash + 1);
  if (!templatePathSchema.safeParse(path).success) throw notFound("The template");
  return { generator: templatePath.slice(0, slash), path };
}

/** Without a graph: rendered here, at the edge; includes of a stored template are read when included. */
async function previewWithoutGraph(c: AppContext, body: RenderRequest): Promise<TemplatePreview> {
  const { tenant } = c.var;
  let template: PlanTemplate;
  let loader: FetchOnceLoader | undefined;
  let generator: string | null = null;
  if (body.templatePath !== undefined) {
    const where = splitTemplatePath(body.templatePath);
    generator = where.generator;
    // One catalog read for the generator: names it does not have cost no storage read at all.
    const hashes = await new TemplateCatalog(database(c.env.DB), tenant.id).hashesOf(where.generator);
    const content = new ContentStore(c.env.ARTIFACTS, tenant.id);
    const readTemplate = async (path: string) => {
      const hash = hashes.get(path);
      return hash === undefined ? null : content.text(hash);
    };
    const source = await readTemplate(where.path);
    if (source === null) throw notFound("The template");
    template = { path: where.path, hash: hashes.get(where.path) as string, source };
    loader = fetchOnceLoader(async (name) => {
      const included = await readTemplate(name);
      return included === null ? null : parseFrontmatter(included).body;
    });
  } else {
    const source = body.template as string;
    template = { path: INLINE_TEMPLATE_PATH, hash: await sha256Hex(source), source };
  }
  const { options, context } = body;
  const buildTime = options.buildTime ?? DEFAULT_RENDER_BUILD_TIME;
  const deps = kgenPlanDependencies({
    templates: [template],
    buildTime,
    params: context,
    runQuery: () => {
      throw new GraphRequiredError("sparql() or label()");
    },
    prefixes: options.prefixes,
    engine: {
      autoescape: options.autoescape,
      throwOnUndefined: options.throwOnUndefined,
      trimBlocks: options.trimBlocks,
      lstripBlocks: options.lstripBlocks,
    },
    // Without a graph there is no lock to seed from: one seed per template and context, as renders always had.
    seed: options.seed ?? deriveRenderSeed(template.hash, context),
    loader,
  });
  const pipeline = new TemplateUnitPipeline(deps, {
    params: context,
    kgen: { buildTime, engineVersion: ENGINE_VERSION, generator, graph: null },
  });
  try {
    return await previewTemplate(pipeline, template, { readsGraph: false, maxUnits: MAX_PREVIEW_UNITS });
  } catch (error) {
    throw loader?.exceeded ?? error;
  }
}

/**
 * Against a graph: the lock a job would have (a stored template's generator, or an inline template
 * as a one-template generator), rendered in the tenant's object next to the pinned version, as a job is.
 */
async function previewOnGraph(
  c: AppContext,
  body: RenderRequest & { graph: string },
): Promise<{ preview: TemplatePreview; graph: GraphPin }> {
  const { tenant } = c.var;
  let lock: Lock;
  let templates: PlanTemplate[];
  let path: string;
  if (body.templatePath !== undefined) {
    const where = splitTemplatePath(body.templatePath);
    path = where.path;
    lock = await lockFor(c.env, tenant, {
      graph: body.graph,
      version: body.version,
      generator: where.generator,
      params: body.context,
    });
    if (!Object.hasOwn(lock.generator.templates, path)) throw notFound("The template");
    templates = await templatesOfLock(c.env, tenant.id, lock);
  } else {
    const source = body.template as string;
    path = INLINE_TEMPLATE_PATH;
    const template = { path, hash: await sha256Hex(source), source };
    const graph = await pinnedGraphVersion(c.env, tenant, body.graph, body.version);
    lock = await lockOf(graph, { name: INLINE_GENERATOR, templates: [template] }, body.context);
    templates = [template];
  }
  const request = {
    lock,
    params: body.context,
    templates,
    limits: queryLimits(tenant.plan),
    maxArtifacts: MAX_PREVIEW_UNITS,
  };
  // The frontmatter's free metadata is typed unknown, which the RPC stub's types cannot follow.
  const preview = unwrap(
    await tenantObject(c.env, tenant).jobPreview(request, path, MAX_PREVIEW_UNITS),
  ) as TemplatePreview;
  const { graph } = kgenContext(lock) as { graph: GraphPin };
  return { preview, graph };
}

export const render: AppRouteHandler<typeof routes.render> = async (c) => {
  const body = c.req.valid("json");
  // Wall time, template and graph reads included (the clock stands still during pure CPU work in production).
  const started = Date.now();
  const { preview, graph } =
    body.graph === undefined
      ? { preview: await previewWithoutGraph(c, body), graph: null }
      : await previewOnGraph(c, { ...body, graph: body.graph });
  requestUsageBatch.addWork(c.var.tenant, routeClassOf(c.req.method, c.req.routePath), Date.now(), {
    renderMs: Date.now() - started,
  });
  const { units, skipped, rawOutput, frontmatter } = preview;
  assertInlineContentSize([...units.map((unit) => unit.size), new TextEncoder().encode(rawOutput ?? "").length]);
  const first = units[0];
  return c.json(
    {
      output: rawOutput ?? "",
      frontmatter: (first ? { ...frontmatter, to: first.path } : frontmatter) as Record<string, unknown>,
      outputPath: first?.path ?? null,
      skipped: units.length === 0 && skipped.length > 0,
      units,
      skippedUnits: skipped,
      graph,
    },
    200,
  );
};
