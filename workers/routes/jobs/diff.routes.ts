import { createRoute, z } from "@hono/zod-openapi";
import { requireRole } from "../../auth/authenticate";
import { DIFF_PAGE_BOUNDS, PATCH_BOUNDS } from "../../jobs/job-diff-source";
import { tenantRequest } from "../../middleware/tenant-request";
import { bearerSecurity, problemResponses } from "../../openapi";

const jobPairParams = z.object({
  a: z.string().min(1).max(64).describe("The job compared from"),
  b: z.string().min(1).max(64).describe("The job compared to"),
});

const diffQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50).describe("Most files on a page (JSON only)"),
  cursor: z.string().max(1024).optional().describe("`nextCursor` of the previous page (JSON only)"),
});

const diffSideSchema = z.object({
  sha256: z.string(),
  size: z.number().int(),
  chmod: z.string().nullable().describe('Permission bits as four octal digits, e.g. "0755".'),
});

const fileDiffSchema = z
  .object({
    path: z.string(),
    status: z.enum(["added", "removed", "changed"]),
    a: diffSideSchema.optional().describe("The artifact in job a (absent when added)"),
    b: diffSideSchema.optional().describe("The artifact in job b (absent when removed)"),
    binary: z
      .boolean()
      .optional()
      .describe("Either side is not UTF-8 text; `diff` is then git's `Binary files … differ` line"),
    diff: z
      .string()
      .optional()
      .describe(
        "The file's section of the git patch (unified hunks, three lines of context). Absent when a side is larger than the file bound",
      ),
    truncated: z
      .boolean()
      .optional()
      .describe(
        `\`diff\` was cut after ${DIFF_PAGE_BOUNDS.maxFileDiffBytes} bytes, or left out because a side is over ${DIFF_PAGE_BOUNDS.maxFileBytes} bytes`,
      ),
  })
  .meta({ id: "JobFileDiff" });

export const jobDiffSchema = z
  .object({
    a: z.string(),
    b: z.string(),
    summary: z
      .object({
        added: z.number().int(),
        removed: z.number().int(),
        changed: z.number().int(),
        unchanged: z.number().int(),
      })
      .describe("Every path of both jobs, whatever the page"),
    files: z.array(fileDiffSchema).describe("The differing files after `cursor`, by path"),
    nextCursor: z.string().nullable(),
  })
  .meta({ id: "JobDiff" });

export const diffJobs = createRoute({
  method: "get",
  path: "/jobs/{a}/diff/{b}",
  tags: ["jobs"],
  summary:
    "Files added, removed and changed from job a to job b, with unified diffs; `Accept: text/x-diff` gives one patch for `git apply` (viewer)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("viewer")] as const,
  request: { params: jobPairParams, query: diffQuery },
  responses: {
    200: {
      description: `A page of the comparison (JSON), or the whole comparison as one git patch (\`text/x-diff\`, at most ${PATCH_BOUNDS.maxPatchBytes} bytes, each file at most ${PATCH_BOUNDS.maxFileBytes} bytes a side, else 422 diff-too-large)`,
      content: {
        "application/json": { schema: jobDiffSchema },
        "text/x-diff": { schema: z.string() },
      },
    },
    ...problemResponses(400, 401, 403, 404, 406, 409, 422, 429),
  },
});
