import { z } from "zod";
import { renderOptionsSchema } from "./lock";

export const GENERATOR_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
export const TEMPLATE_PATH_SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
export const MAX_TEMPLATE_PATH_LENGTH = 512;

export const generatorNameSchema = z.string().regex(GENERATOR_NAME, "lowercase letters, digits, '.', '_' and '-'");

/** A template's path inside its generator: relative, `/`-separated, no `.`/`..` or empty segments. */
export const templatePathSchema = z
  .string()
  .min(1)
  .max(MAX_TEMPLATE_PATH_LENGTH)
  .refine(
    (path) =>
      path.split("/").every((segment) => TEMPLATE_PATH_SEGMENT.test(segment) && segment !== ".." && segment !== "."),
    {
      message: "segments of letters, digits, '.', '_' and '-', separated by '/' (no empty, '.' or '..' segments)",
    },
  );

export const templateSummarySchema = z
  .object({
    generator: z.string(),
    path: z.string(),
    hash: z.string().describe("SHA-256 (hex) of the template source."),
    size: z.number().int(),
    updatedAt: z.string(),
  })
  .meta({ id: "TemplateSummary" });

export const templateSchema = templateSummarySchema
  .extend({
    frontmatter: z.record(z.string(), z.unknown()),
    variables: z.array(z.string()).describe("Free variables the template reads."),
    source: z.string(),
    createdAt: z.string(),
  })
  .meta({ id: "Template" });

/** A generator's render options with every default spelled out. */
export const generatorOptionsViewSchema = z.object({
  throwOnUndefined: z
    .boolean()
    .describe("`{{ x }}` with x undefined or null fails the job, naming the template, line and expression."),
});

export const generatorSchema = z
  .object({
    name: z.string(),
    hash: z.string().describe("SHA-256 of the canonical JSON of {path: templateHash}: changes when any template does."),
    templates: z.array(z.object({ path: z.string(), hash: z.string(), size: z.number().int() })),
    options: generatorOptionsViewSchema,
  })
  .meta({ id: "Generator" });

/** `PATCH /v1/generators/{name}`: the render options the generator's jobs default to. */
export const generatorSettingsSchema = z
  .strictObject({
    options: renderOptionsSchema.describe(
      "Defaults for jobs of this generator; a job's own `options` win. Omitted options keep their value.",
    ),
  })
  .meta({ id: "GeneratorSettings" });
