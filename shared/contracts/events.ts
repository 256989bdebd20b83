import { z } from "zod";

/**
 * The tenant event log as the outside world sees it: every event is a CloudEvents 1.0 JSON object
 * (https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/spec.md) whose `id` is its position in
 * the tenant's log, so the id of the last event read is the cursor to read on from.
 */

/** Internal event types carry no prefix (`job.completed`); on the wire they are `dev.kgen.job.completed`. */
export const CLOUD_EVENT_TYPE_PREFIX = "dev.kgen.";

/** Every event type the platform appends, by the resource whose state changed. */
export const EVENT_TYPES = [
  "graph.version.created",
  "graph.deleted",
  "template.updated",
  "template.deleted",
  "job.started",
  "job.progress",
  "job.completed",
  "job.failed",
  "job.expired",
  "webhook.created",
  "webhook.updated",
  "webhook.deleted",
  "webhook.secret.rotated",
  "webhook.disabled",
  "trigger.created",
  "trigger.deleted",
  "trigger.received",
  "trigger.rejected",
  "monitor.created",
  "monitor.deleted",
  "monitor.failed",
  "drift.detected",
  "drift.resolved",
  "impact.computed",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

const SEGMENT = "[a-z][a-z0-9_-]*";
const INTERNAL_TYPE = new RegExp(`^${SEGMENT}(\\.${SEGMENT}){0,7}$`);
/** `job.completed`, `job.*`, `*`, each optionally written with the `dev.kgen.` prefix. */
const PATTERN = new RegExp(`^(${SEGMENT}\\.){0,7}(${SEGMENT}|\\*)$`);

export const MAX_EVENT_TYPE_PATTERNS = 20;

/** An event type pattern without the wire prefix: exact (`job.failed`) or a trailing wildcard (`job.*`, `*`). */
export function normalizeEventTypePattern(pattern: string): string {
  return pattern.startsWith(CLOUD_EVENT_TYPE_PREFIX) ? pattern.slice(CLOUD_EVENT_TYPE_PREFIX.length) : pattern;
}

export const eventTypePatternSchema = z
  .string()
  .max(120)
  .transform(normalizeEventTypePattern)
  .refine((pattern) => PATTERN.test(pattern), {
    message: "must be an event type such as job.completed, or end in a wildcard segment such as job.* or *",
  });

export const eventTypePatternsSchema = z.array(eventTypePatternSchema).min(1).max(MAX_EVENT_TYPE_PATTERNS);

/**
 * Whether an internal event type matches a (normalized) pattern. `*` as the last segment stands for
 * one or more further segments: `job.*` matches `job.progress`, `graph.*` matches
 * `graph.version.created`, `*` matches everything.
 */
export function eventTypeMatches(pattern: string, type: string): boolean {
  if (pattern === "*") return true;
  if (pattern.endsWith(".*")) return type.startsWith(pattern.slice(0, -1));
  return pattern === type;
}

export function eventTypeMatchesAny(patterns: readonly string[], type: string): boolean {
  return patterns.some((pattern) => eventTypeMatches(pattern, type));
}

export function isInternalEventType(type: string): boolean {
  return INTERNAL_TYPE.test(type);
}

/** An event of the tenant's log, as stored. */
export interface LoggedEvent {
  /** Position in the tenant's log (strictly increasing). */
  id: number;
  type: string;
  data: unknown;
  /** Epoch milliseconds. */
  createdAt: number;
}

export interface CloudEvent {
  specversion: "1.0";
  /** The log position as a decimal string: unique per source, and the cursor for `after`. */
  id: string;
  /** `/tenants/{tenantId}`. */
  source: string;
  type: string;
  /** RFC 3339 UTC. */
  time: string;
  /** The resource the event is about, relative to the source (`jobs/{id}`, `graphs/{name}`), when there is one. */
  subject?: string;
  datacontenttype: "application/json";
  data: unknown;
}

export const cloudEventSchema = z
  .object({
    specversion: z.literal("1.0"),
    id: z.string(),
    source: z.string(),
    type: z.string(),
    time: z.string(),
    subject: z.string().optional(),
    datacontenttype: z.literal("application/json"),
    data: z.unknown(),
  })
  .meta({ id: "CloudEvent" });

export function toCloudEvent(tenantId: string, event: LoggedEvent): CloudEvent {
  const subject = eventSubject(event.type, event.data);
  return {
    specversion: "1.0",
    id: String(event.id),
    source: `/tenants/${tenantId}`,
    type: `${CLOUD_EVENT_TYPE_PREFIX}${event.type}`,
    time: new Date(event.createdAt).toISOString(),
    ...(subject === undefined ? {} : { subject }),
    datacontenttype: "application/json",
    data: event.data,
  };
}

/** The data field that names the event's resource, by the type's first segment. */
const SUBJECT_FIELDS: Readonly<Record<string, { field: string; collection: string }>> = {
  graph: { field: "graph", collection: "graphs" },
  template: { field: "path", collection: "templates" },
  job: { field: "jobId", collection: "jobs" },
  webhook: { field: "webhookId", collection: "webhooks" },
  trigger: { field: "triggerId", collection: "triggers" },
  drift: { field: "reportId", collection: "drift" },
  monitor: { field: "monitorId", collection: "monitors" },
  impact: { field: "jobId", collection: "jobs" },
};

function eventSubject(type: string, data: unknown): string | undefined {
  const rule = SUBJECT_FIELDS[type.split(".")[0] as string];
  if (rule === undefined || typeof data !== "object" || data === null) return undefined;
  const value = (data as Record<string, unknown>)[rule.field];
  return typeof value === "string" || typeof value === "number" ? `${rule.collection}/${value}` : undefined;
}
