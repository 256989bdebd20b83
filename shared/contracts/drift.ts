import { z } from "zod";
import { lockSchema, sha256HexSchema } from "./lock";

/** Most files one drift check may send. */
export const MAX_DRIFT_FILES = 20_000;
/** Checks above either threshold run on the drift queue (202) instead of in the request (200). */
export const SYNC_DRIFT_MAX_FILES = 1_000;
export const SYNC_DRIFT_MAX_BODY_BYTES = 1024 * 1024;
/** Largest drift check body (the plan's body limit applies too). */
export const DRIFT_MAX_BODY_BYTES = 8 * 1024 * 1024;
export const MAX_DRIFT_PATH_GLOBS = 32;
const MAX_PATH_CHARS = 1024;

const pathSchema = z.string().min(1).max(MAX_PATH_CHARS).describe("Relative POSIX path below the output folder.");

export const driftFileSchema = z
  .union([
    z
      .object({
        path: pathSchema,
        sha256: sha256HexSchema,
        size: z.number().int().min(0).optional(),
      })
      .strict(),
    z
      .object({
        path: pathSchema,
        content: z.string(),
        encoding: z.enum(["utf8", "base64"]).default("utf8"),
      })
      .strict(),
  ])
  .describe(
    "A file of the checked tree: its sha256 (and size), or its content. Files written with inject/append/prepend/lineAt need their content to be verified.",
  );

const scopeSchema = {
  files: z.array(driftFileSchema).max(MAX_DRIFT_FILES),
  paths: z
    .array(z.string().min(1).max(256))
    .max(MAX_DRIFT_PATH_GLOBS)
    .optional()
    .describe("Globs (`*`, `?`, `**`) limiting the check to these paths; without them every artifact is checked."),
};

export const driftRequestSchema = z
  .union([
    z
      .object({
        job: z.string().min(1).max(64).describe("The completed job whose artifacts are expected."),
        ...scopeSchema,
      })
      .strict(),
    z
      .object({
        lock: lockSchema.describe("A lock: the tenant's latest completed job with the same lock hash is expected."),
        ...scopeSchema,
      })
      .strict(),
  ])
  .meta({ id: "DriftRequest" });

export type DriftRequest = z.infer<typeof driftRequestSchema>;
export type DriftFile = z.infer<typeof driftFileSchema>;

const fileVersionSchema = z.object({ sha256: z.string(), size: z.number().int().optional() });

export const driftSummarySchema = z.object({
  expected: z.number().int(),
  matched: z.number().int(),
  modified: z.number().int(),
  missing: z.number().int(),
  unexpected: z.number().int(),
});

export const modifiedFileSchema = z.object({
  path: z.string(),
  reason: z.enum(["content", "line-endings", "marker-missing", "unverifiable-block"]),
  expected: fileVersionSchema,
  actual: fileVersionSchema,
  diff: z.string().optional().describe("Unified diff, expected against actual, for text files sent with content."),
  diffTruncated: z.literal(true).optional(),
});

export const driftReportSchema = z
  .object({
    id: z.string(),
    job: z.string(),
    state: z.enum(["pending", "done", "failed"]),
    status: z.enum(["clean", "drift"]).optional(),
    exitCode: z.union([z.literal(0), z.literal(3)]).optional(),
    summary: driftSummarySchema.optional(),
    modified: z.array(modifiedFileSchema).optional(),
    missing: z.array(z.string()).optional(),
    unexpected: z.array(z.string()).optional(),
    error: z.string().optional(),
    createdAt: z.string(),
  })
  .meta({ id: "DriftReport" });

export type DriftReportView = z.infer<typeof driftReportSchema>;

export const driftReportListItemSchema = driftReportSchema
  .pick({ id: true, job: true, state: true, status: true, exitCode: true, summary: true, error: true, createdAt: true })
  .meta({ id: "DriftReportListItem" });
