import { z } from "@hono/zod-openapi";

/**
 * One unit of a template as a job plans it, in the fields an artifact keeps from the plan to its
 * row and HTTP view: `mode` in the write-mode vocabulary, `chmod` as four octal digits.
 */
export const plannedUnitSchema = z
  .object({
    path: z.string().describe("Output path (the rendered, trimmed and checked `to:`)."),
    mode: z.enum(["write", "inject", "append", "prepend", "lineAt"]),
    inject: z.object({ position: z.enum(["before", "after"]), marker: z.string() }).optional(),
    lineAt: z.number().int().min(1).optional(),
    chmod: z
      .string()
      .regex(/^0[0-7]{3}$/)
      .optional()
      .describe('Permission bits as four octal digits, e.g. "0755".'),
    content: z.string().describe("The normalized output text (LF line ends, final newline)."),
    sha256: z.string(),
    size: z.number().int(),
    template: z.object({ path: z.string(), hash: z.string() }),
    rowIndex: z.number().int().nullable().describe("The foreach row of this unit, null without foreach."),
    contextSha256: z.string(),
    dependencies: z.array(z.object({ query: z.string(), resultSha256: z.string() })),
  })
  .meta({ id: "PlannedUnit" });

export const skippedUnitSchema = z
  .object({
    template: z.string(),
    rowIndex: z.number().int().nullable(),
    reason: z.enum(["no-to", "skip-if", "empty-to"]),
  })
  .meta({ id: "SkippedUnit" });
