import { createRoute, z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { graphNameSchema } from "../../../shared/contracts/graphs";
import { lockSchema, renderOptionsSchema } from "../../../shared/contracts/lock";
import { generatorNameSchema } from "../../../shared/contracts/templates";
import { requireRole } from "../../auth/authenticate";
import type { AppEnv } from "../../context";
import { MAX_INLINE_CONTENT_BYTES } from "../../jobs/inline-content";
import { tenantRequest } from "../../middleware/tenant-request";
import { bearerSecurity, problemResponses, requireJsonBody } from "../../openapi";
import { pageQuerySchema } from "../../repository/pagination";
import { plannedUnitSchema } from "../planned-unit-schema";

const paramsSchema = z.record(z.string(), z.unknown()).default({}).describe("The job params templates see.");
const includeSchema = z
  .array(z.enum(["content"]))
  .max(1)
  .optional()
  .describe(
    `With \`dryRun\`: \`["content"]\` returns each planned artifact's content, at most ${MAX_INLINE_CONTENT_BYTES} bytes in all (else 422 content-too-large).`,
  );

export const jobRequestSchema = z
  .union([
    z
      .object({
        graph: graphNameSchema,
        version: z.number().int().min(1).optional(),
        generator: generatorNameSchema,
        params: paramsSchema,
        options: renderOptionsSchema.optional(),
        dryRun: z.boolean().default(false),
        include: includeSchema,
      })
      .strict(),
    z
      .object({ lock: lockSchema, params: paramsSchema, dryRun: z.boolean().default(false), include: includeSchema })
      .strict(),
    z
      .object({
        job: z.string().min(1).max(64).describe("The completed job to regenerate incrementally."),
        version: z.number().int().min(1).optional().describe("The graph version to pin; the latest unless named."),
        only: z
          .literal("affected")
          .describe(
            "Re-render only the artifacts the version changes or adds; the job's others are carried over as they are.",
          ),
      })
      .strict(),
  ])
  .refine((body) => !("include" in body) || body.include === undefined || body.dryRun, {
    message: "include needs dryRun: a job's content is read from its artifacts.",
    path: ["include"],
  })
  .meta({ id: "JobRequest" });

export const jobSchema = z
  .object({
    id: z.string(),
    status: z.enum(["queued", "running", "completed", "failed"]),
    generator: z.string().describe("The generator the job ran (its lock's `generator.name`)."),
    pinned: z.boolean().describe("A pinned job is kept by retention whatever its age (`POST /v1/jobs/{id}/pin`)."),
    lock: lockSchema,
    lockHash: z.string(),
    baseJob: z
      .string()
      .nullable()
      .describe('For an incremental job (`only: "affected"`): the completed job it regenerates.'),
    counts: z.object({
      total: z.number().int(),
      artifacts: z.number().int(),
      skipped: z.number().int(),
      bytes: z.number().int(),
      carried: z
        .number()
        .int()
        .describe("Of `total`, the units an incremental job carries over from its base job instead of rendering."),
    }),
    error: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: "Job" });

/** An artifact as a job's plan, row and view all name it; `id` once written, `content` only on request. */
export const artifactSchema = plannedUnitSchema
  .pick({ path: true, sha256: true, size: true, mode: true, template: true })
  .extend({ chmod: z.string().nullable().describe('Permission bits as four octal digits, e.g. "0755".') });

export const writtenArtifactSchema = artifactSchema.extend({ id: z.string() }).meta({ id: "Artifact" });

export const plannedArtifactSchema = artifactSchema
  .extend({ content: z.string().optional().describe('With `include: ["content"]`: the normalized output text.') })
  .meta({ id: "PlannedArtifact" });

export const dryRunSchema = z
  .object({
    dryRun: z.literal(true),
    lock: lockSchema,
    lockHash: z.string(),
    units: z.number().int(),
    artifacts: z
      .array(plannedArtifactSchema)
      .nullable()
      .describe("Null when the plan is larger than the plan's synchronous job size (only counted)."),
    skipped: z.number().int().nullable(),
  })
  .meta({ id: "DryRun" });

const jobIdParam = z.object({ id: z.string().min(1).max(64) });
const jobPageSchema = z.object({ items: z.array(jobSchema), nextCursor: z.string().nullable() });
const artifactPageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(200),
  cursor: z.string().max(1024).optional(),
});
const artifactPageSchema = z.object({ items: z.array(writtenArtifactSchema), nextCursor: z.string().nullable() });

/** Marks answers of a deprecated alias (RFC 9745 `Deprecation`, and the route to move to). */
const deprecatedAliasOf =
  (successor: string): MiddlewareHandler<AppEnv> =>
  async (c, next) => {
    await next();
    c.res.headers.set("deprecation", "true");
    c.res.headers.set("link", `<${successor}>; rel="successor-version"`);
  };

const createJobRoute = (path: "/jobs" | "/generations", deprecated: boolean) =>
  createRoute({
    method: "post",
    path,
    tags: ["jobs"],
    summary: deprecated
      ? "Deprecated alias of POST /v1/jobs (same request, same answers)"
      : "Start a job: generate a generator's templates over a graph version (or replay a lock); `dryRun` returns the plan (editor)",
    deprecated,
    security: bearerSecurity,
    middleware: deprecated
      ? ([deprecatedAliasOf("/v1/jobs"), ...tenantRequest, requireRole("editor"), requireJsonBody] as const)
      : ([...tenantRequest, requireRole("editor"), requireJsonBody] as const),
    request: { body: { required: true, content: { "application/json": { schema: jobRequestSchema } } } },
    responses: {
      200: { description: "The plan of a dry run", content: { "application/json": { schema: dryRunSchema } } },
      202: {
        description: "The job, queued: it is planned and rendered on the queue (poll `Location`)",
        content: { "application/json": { schema: jobSchema } },
      },
      ...problemResponses(400, 401, 403, 404, 409, 415, 422, 429),
    },
  });

export const createJob = createJobRoute("/jobs", false);
export const createJobDeprecatedAlias = createJobRoute("/generations", true);

export const listJobs = createRoute({
  method: "get",
  path: "/jobs",
  tags: ["jobs"],
  summary: "Jobs, newest first (viewer)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("viewer")] as const,
  request: { query: pageQuerySchema },
  responses: {
    200: { description: "A page of jobs", content: { "application/json": { schema: jobPageSchema } } },
    ...problemResponses(400, 401, 403, 429),
  },
});

export const getJob = createRoute({
  method: "get",
  path: "/jobs/{id}",
  tags: ["jobs"],
  summary: "A job: status, lock, counts (viewer)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("viewer")] as const,
  request: { params: jobIdParam },
  responses: {
    200: { description: "The job", content: { "application/json": { schema: jobSchema } } },
    ...problemResponses(401, 403, 404, 429),
  },
});

export const listJobArtifacts = createRoute({
  method: "get",
  path: "/jobs/{id}/artifacts",
  tags: ["jobs"],
  summary: "A job's artifacts: id, path, sha256, size, mode, chmod, template (viewer)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("viewer")] as const,
  request: { params: jobIdParam, query: artifactPageQuery },
  responses: {
    200: {
      description: "A page of artifacts, by path",
      content: { "application/json": { schema: artifactPageSchema } },
    },
    ...problemResponses(400, 401, 403, 404, 429),
  },
});

export const getJobBundle = createRoute({
  method: "get",
  path: "/jobs/{id}/bundle",
  tags: ["jobs"],
  summary: "A zip of the artifacts, their attestations and the lock (viewer)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("viewer")] as const,
  request: { params: jobIdParam },
  responses: {
    200: {
      description: "The bundle",
      content: { "application/zip": { schema: z.string().meta({ format: "binary" }) } },
    },
    ...problemResponses(401, 403, 404, 409, 429),
  },
});

const pinRoute = (method: "post" | "delete") =>
  createRoute({
    method,
    path: "/jobs/{id}/pin",
    tags: ["jobs"],
    summary:
      method === "post"
        ? "Pin a job: retention keeps it and its artifacts until it is unpinned (editor)"
        : "Unpin a job: retention treats it like any other again (editor)",
    security: bearerSecurity,
    middleware: [...tenantRequest, requireRole("editor")] as const,
    request: { params: jobIdParam },
    responses: {
      200: { description: "The job, with `pinned` as set", content: { "application/json": { schema: jobSchema } } },
      ...problemResponses(401, 403, 404, 429),
    },
  });

export const pinJob = pinRoute("post");
export const unpinJob = pinRoute("delete");
