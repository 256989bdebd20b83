import { createRoute, z } from "@hono/zod-openapi";
import { graphNameSchema } from "../../../shared/contracts/graphs";
import { requireRole } from "../../auth/authenticate";
import { tenantRequest } from "../../middleware/tenant-request";
import { bearerSecurity, problemResponses, requireJsonBody } from "../../openapi";
import { plannedUnitSchema, skippedUnitSchema } from "../planned-unit-schema";

const MAX_TEMPLATE_CHARS = 1_000_000;

export const renderRequestSchema = z
  .object({
    template: z.string().max(MAX_TEMPLATE_CHARS).optional().describe("Template source, with optional frontmatter."),
    templatePath: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]{0,63}\/.+$/, "generator/path of a stored template")
      .optional()
      .describe("`generator/path` of a stored template; its includes resolve within the generator."),
    context: z
      .record(z.string(), z.unknown())
      .default({})
      .describe("The render's values; with `graph`, the job params the preview stands for."),
    graph: graphNameSchema
      .optional()
      .describe(
        "Render against this graph exactly as a job does: frontmatter `sparql:`/`foreach:`, `sparql()` and `label()` read it.",
      ),
    version: z.number().int().min(1).optional().describe("The graph version; default the latest."),
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
        seed: z.string().min(1).max(256).optional().describe("Seed of `random`; default derived per render."),
        prefixes: z.record(z.string().regex(/^[A-Za-z][\w-]*$/), z.url()).optional(),
      })
      .strict()
      .default({})
      .describe("Engine switches for a render without a graph; a render against a graph takes none."),
  })
  .strict()
  .refine((body) => (body.template === undefined) !== (body.templatePath === undefined), {
    message: "Give exactly one of template and templatePath.",
    path: ["template"],
  })
  .refine((body) => body.version === undefined || body.graph !== undefined, {
    message: "version needs graph.",
    path: ["version"],
  })
  .refine((body) => body.graph === undefined || Object.keys(body.options).length === 0, {
    message: "A render against a graph renders exactly as a job does: options are not available.",
    path: ["options"],
  })
  .meta({ id: "RenderRequest" });

export const renderResponseSchema = z
  .object({
    output: z
      .string()
      .describe(
        "The first unit's body as rendered, before the normalization its `content` gets (the body of a template without `to:`); empty when skipped.",
      ),
    frontmatter: z.record(z.string(), z.unknown()).describe("The frontmatter, with `to` as the first unit's path."),
    outputPath: z.string().nullable().describe("The first unit's path."),
    skipped: z.boolean().describe("True when every unit was skipped (skipIf, empty `to`): output is then empty."),
    units: z.array(plannedUnitSchema).describe("Every unit a job would write for this template, in row order."),
    skippedUnits: z.array(skippedUnitSchema),
    graph: z
      .object({ name: z.string(), version: z.number().int(), hash: z.string() })
      .nullable()
      .describe("The graph version rendered against."),
  })
  .meta({ id: "RenderResponse" });

export const render = createRoute({
  method: "post",
  path: "/render",
  tags: ["templates"],
  summary: "Render a template the way a job does, optionally against a graph version (editor and up)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("editor"), requireJsonBody] as const,
  request: { body: { required: true, content: { "application/json": { schema: renderRequestSchema } } } },
  responses: {
    200: { description: "Rendered", content: { "application/json": { schema: renderResponseSchema } } },
    ...problemResponses(400, 401, 403, 404, 409, 413, 415, 422, 429),
  },
});
