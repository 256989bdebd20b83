import { createRoute, z } from "@hono/zod-openapi";
import { templatePathSchema } from "../../shared/contracts/templates";
import { sha256Hex } from "../../shared/core/sha256";
import { TemplateError } from "../../shared/template/errors";
import { type FetchOnceLoader, fetchOnceLoader } from "../../shared/template/fetch-once-loader";
import { evaluateFrontmatter } from "../../shared/template/frontmatter/evaluate-frontmatter";
import { parseFrontmatter } from "../../shared/template/frontmatter/parse-frontmatter";
import { deriveRenderSeed } from "../../shared/template/kgen/seeded-random";
import { createKgenEngine } from "../../shared/template/kgen-engine";
import { authenticate, requireRole } from "../auth/authenticate";
import { database } from "../db/client";
import { bearerSecurity, createRouter, problemResponses, requireJsonBody } from "../openapi";
import { notFound } from "../problems/problem-response";
import { TemplateCatalog } from "../repository/templates";
import { ContentStore } from "../storage/content-store";

/** The build time of a render that does not name one: the Unix epoch, never the clock. */
export const DEFAULT_RENDER_BUILD_TIME = "1970-01-01T00:00:00.000Z";
const MAX_TEMPLATE_CHARS = 1_000_000;

const renderRequestSchema = z
  .object({
    template: z.string().max(MAX_TEMPLATE_CHARS).optional().describe("Template source, with optional frontmatter."),
    templatePath: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]{0,63}\/.+$/, "generator/path of a stored template")
      .optional()
      .describe("`generator/path` of a stored template; its includes resolve within the generator."),
    context: z.record(z.string(), z.unknown()).default({}),
    options: z
      .object({
        autoescape: z.boolean().optional(),
        throwOnUndefined: z.boolean().optional(),
        trimBlocks: z.boolean().optional(),
        lstripBlocks: z.boolean().optional(),
        buildTime: z.iso
          .datetime({ offset: true })
          .optional()
          .describe("What `now`/`date` see; default 1970-01-01T00:00:00Z."),
        seed: z
          .string()
          .min(1)
          .max(256)
          .optional()
          .describe("Seed of `random`; default derived from template and context."),
        prefixes: z.record(z.string().regex(/^[A-Za-z][\w-]*$/), z.url()).optional(),
      })
      .strict()
      .default({}),
  })
  .strict()
  .refine((body) => (body.template === undefined) !== (body.templatePath === undefined), {
    message: "Give exactly one of template and templatePath.",
    path: ["template"],
  })
  .meta({ id: "RenderRequest" });

const renderResponseSchema = z
  .object({
    output: z.string(),
    frontmatter: z.record(z.string(), z.unknown()).describe("The frontmatter, with `to` rendered."),
    outputPath: z.string().nullable(),
    skipped: z.boolean().describe("True when skipIf says to skip: output is then empty."),
  })
  .meta({ id: "RenderResponse" });

const render = createRoute({
  method: "post",
  path: "/render",
  tags: ["templates"],
  summary: "Render a template with the KGEN environment (editor and up)",
  security: bearerSecurity,
  middleware: [authenticate, requireRole("editor"), requireJsonBody] as const,
  request: { body: { required: true, content: { "application/json": { schema: renderRequestSchema } } } },
  responses: {
    200: { description: "Rendered", content: { "application/json": { schema: renderResponseSchema } } },
    ...problemResponses(400, 401, 403, 404, 413, 415, 422, 429),
  },
});

/** Template errors in the body report lines of the whole source, frontmatter included. */
function shiftLines(error: unknown, bodyLine: number): unknown {
  if (error instanceof TemplateError && error.line !== undefined && error.templatePath === undefined && bodyLine > 1) {
    return new TemplateError(error.message, error.line + bodyLine - 1, error.column, undefined);
  }
  return error;
}

export const renderRoutes = createRouter().openapi(render, async (c) => {
  const body = c.req.valid("json");
  const { tenant } = c.var;
  let source: string;
  let loader: FetchOnceLoader | undefined;
  if (body.templatePath !== undefined) {
    const slash = body.templatePath.indexOf("/");
    const generator = body.templatePath.slice(0, slash);
    const path = body.templatePath.slice(slash + 1);
    if (!templatePathSchema.safeParse(path).success) throw notFound("The template");
    // One catalog read for the generator: names it does not have cost no storage read at all.
    const hashes = await new TemplateCatalog(database(c.env.DB), tenant.id).hashesOf(generator);
    const content = new ContentStore(c.env.ARTIFACTS, tenant.id);
    const readTemplate = async (templatePath: string) => {
      const hash = hashes.get(templatePath);
      return hash === undefined ? null : content.text(hash);
    };
    const found = await readTemplate(path);
    if (found === null) throw notFound("The template");
    source = found;
    loader = fetchOnceLoader(async (name) => {
      const included = await readTemplate(name);
      return included === null ? null : parseFrontmatter(included).body;
    });
  } else {
    source = body.template as string;
  }

  const { frontmatter, body: templateBody, bodyLine } = parseFrontmatter(source);
  const { options, context } = body;
  const engine = createKgenEngine({
    buildTime: options.buildTime ?? DEFAULT_RENDER_BUILD_TIME,
    seed: options.seed ?? deriveRenderSeed(await sha256Hex(source), context),
    prefixes: options.prefixes,
    loader,
    autoescape: options.autoescape,
    throwOnUndefined: options.throwOnUndefined,
    trimBlocks: options.trimBlocks,
    lstripBlocks: options.lstripBlocks,
  });
  try {
    const evaluated = evaluateFrontmatter(frontmatter, context, (template, ctx) => engine.renderString(template, ctx));
    const output = evaluated.skip ? "" : await engine.renderStringAsync(templateBody, context);
    return c.json(
      {
        output,
        frontmatter: evaluated.frontmatter as Record<string, unknown>,
        outputPath: evaluated.outputPath ?? null,
        skipped: evaluated.skip,
      },
      200,
    );
  } catch (error) {
    throw loader?.exceeded ?? shiftLines(error, bodyLine);
  }
});
