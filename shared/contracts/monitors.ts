import { z } from "zod";
import { graphNameSchema } from "./graphs";
import { generatorNameSchema } from "./templates";

export const MAX_MONITOR_NAME_CHARS = 100;
export const MAX_MANIFEST_URL_CHARS = 2048;
export const MAX_MANIFEST_HEADERS = 10;
/** Files one manifest may list (the drift check's own limit applies too). */
export const MAX_MANIFEST_FILES = 10_000;
/** Days of history the trend route reaches back at most. */
export const MAX_TREND_DAYS = 90;

const jobIdSchema = z.string().regex(/^job_[A-Za-z0-9_-]{1,64}$/, "a job id such as job_…");

/** What a monitor watches: one job's files, or the newest completed job of a generator over a graph. */
export const monitorTargetSchema = z.union([
  z.object({ job: jobIdSchema }).strict(),
  z
    .object({
      graph: graphNameSchema,
      generator: generatorNameSchema,
      params: z.record(z.string(), z.unknown()).optional(),
    })
    .strict(),
]);
export type MonitorTarget = z.infer<typeof monitorTargetSchema>;

const headerNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/, "an HTTP header name")
  .refine((name) => !["host", "content-length", "transfer-encoding", "connection"].includes(name.toLowerCase()), {
    message: "this header is set by the platform",
  });

export const monitorSourceSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("graph") }).strict(),
  z
    .object({
      kind: z.literal("manifest"),
      url: z
        .string()
        .min(1)
        .max(MAX_MANIFEST_URL_CHARS)
        .describe("An HTTPS URL answering `{files: [{path, sha256}]}` (http://localhost in development only)."),
      headers: z
        .record(headerNameSchema, z.string().max(4096))
        .refine((headers) => Object.keys(headers).length <= MAX_MANIFEST_HEADERS, {
          message: `at most ${MAX_MANIFEST_HEADERS} headers`,
        })
        .optional()
        .describe("Sent with every fetch (e.g. an Authorization header); stored sealed, never shown again."),
    })
    .strict(),
]);
export type MonitorSource = z.infer<typeof monitorSourceSchema>;

export const MONITOR_ON_DRIFT = ["report", "regenerate"] as const;
export type MonitorOnDrift = (typeof MONITOR_ON_DRIFT)[number];

const nameSchema = z.string().trim().min(1).max(MAX_MONITOR_NAME_CHARS);
const scheduleSchema = z
  .string()
  .min(1)
  .max(120)
  .describe("A cron expression (five fields, UTC), e.g. `0 * * * *`; at least the plan's minimum interval apart.");

export const createMonitorSchema = z
  .object({
    name: nameSchema,
    target: monitorTargetSchema,
    source: monitorSourceSchema,
    schedule: scheduleSchema.optional(),
    onDrift: z.enum(MONITOR_ON_DRIFT).default("report"),
  })
  .strict()
  .meta({ id: "CreateMonitor" });
export type CreateMonitor = z.infer<typeof createMonitorSchema>;

export const updateMonitorSchema = z
  .object({
    name: nameSchema.optional(),
    schedule: scheduleSchema.nullable().optional(),
    onDrift: z.enum(MONITOR_ON_DRIFT).optional(),
    enabled: z.boolean().optional(),
    source: monitorSourceSchema.optional(),
  })
  .strict()
  .refine((body) => Object.values(body).some((value) => value !== undefined), {
    message: "name at least one of name, schedule, onDrift, enabled, source",
  })
  .meta({ id: "UpdateMonitor" });
export type UpdateMonitor = z.infer<typeof updateMonitorSchema>;

export const monitorSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    target: monitorTargetSchema,
    source: z.union([
      z.object({ kind: z.literal("graph") }),
      z.object({
        kind: z.literal("manifest"),
        url: z.string(),
        headerNames: z.array(z.string()).describe("The names of the stored headers; their values are not shown."),
      }),
    ]),
    schedule: z.string().nullable(),
    onDrift: z.enum(MONITOR_ON_DRIFT),
    enabled: z.boolean(),
    nextRunAt: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: "Monitor" });

export const MONITOR_RUN_STATUSES = ["queued", "running", "clean", "drift", "failed"] as const;
export type MonitorRunStatus = (typeof MONITOR_RUN_STATUSES)[number];

export const monitorRunSchema = z
  .object({
    id: z.string(),
    monitorId: z.string(),
    trigger: z.string().describe("`schedule:<time>` for a scheduled run, `graph:<name>@<version>` for a new version."),
    status: z.enum(MONITOR_RUN_STATUSES),
    scheduledFor: z.string(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
    durationMs: z.number().int().nullable(),
    counts: z.record(z.string(), z.number().int()).nullable(),
    reportId: z.string().nullable().describe("The drift report or impact this run produced."),
    jobId: z.string().nullable().describe("The job the run checked."),
    regeneratedJobId: z.string().nullable(),
    error: z.string().nullable(),
  })
  .meta({ id: "MonitorRun" });
export type MonitorRun = z.infer<typeof monitorRunSchema>;

export const monitorTrendSchema = z
  .object({
    monitorId: z.string(),
    days: z.number().int(),
    items: z.array(
      z.object({ day: z.string(), clean: z.number().int(), drift: z.number().int(), failed: z.number().int() }),
    ),
  })
  .meta({ id: "MonitorTrend" });

/** What a manifest source must answer. */
export const driftManifestSchema = z.object({
  files: z
    .array(
      z.object({
        path: z.string().min(1).max(1024),
        sha256: z.string().regex(/^[0-9a-f]{64}$/, "a lowercase hex sha256"),
      }),
    )
    .max(MAX_MANIFEST_FILES),
});
export type DriftManifest = z.infer<typeof driftManifestSchema>;
