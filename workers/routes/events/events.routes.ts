import { createRoute, z } from "@hono/zod-openapi";
import { cloudEventSchema } from "../../../shared/contracts/events";
import { requireRole } from "../../auth/authenticate";
import { meterRequest } from "../../middleware/request-metering";
import { requireFeature } from "../../middleware/require-feature";
import { tenantRateLimit } from "../../middleware/tenant-rate-limit";
import { tenantRequest } from "../../middleware/tenant-request";
import { bearerSecurity, problemResponses } from "../../openapi";
import { authenticateEventStream } from "./event-stream-auth";

const typesParameter = z
  .string()
  .min(1)
  .max(1000)
  .optional()
  .describe(
    "Comma-separated event type patterns, with or without the `dev.kgen.` prefix: `job.*,graph.deleted`. Default: every type.",
  );

const afterParameter = z
  .union([z.literal("latest"), z.coerce.number().int().min(0)])
  .optional()
  .describe(
    "Deliver events with id greater than this (the id of the last event read); `latest`: only events appended from now on.",
  );

export const listEvents = createRoute({
  method: "get",
  path: "/events",
  tags: ["events"],
  summary: "The tenant's ordered event log as CloudEvents, read by cursor (viewer and up)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("viewer")] as const,
  request: {
    query: z.object({
      after: z.coerce.number().int().min(0).default(0).describe("Return events with id greater than this."),
      limit: z.coerce.number().int().min(1).max(1000).default(100),
      types: typesParameter,
    }),
  },
  responses: {
    200: {
      description: "A page of events. `nextCursor` is past every event looked at, matching or not: pass it as `after`.",
      content: {
        "application/json": {
          schema: z.object({
            events: z.array(cloudEventSchema),
            nextCursor: z.number().int(),
            hasMore: z.boolean(),
          }),
        },
      },
    },
    ...problemResponses(400, 401, 403, 429),
  },
});

const streamQuery = z.object({
  after: afterParameter,
  types: typesParameter,
  ticket: z
    .string()
    .max(200)
    .optional()
    .describe("A single-use ticket from POST /v1/events/tickets, for clients that cannot send headers."),
});

const streamMiddleware = [
  authenticateEventStream,
  tenantRateLimit,
  meterRequest,
  requireRole("viewer"),
  requireFeature("eventStreams"),
];

export const streamEvents = createRoute({
  method: "get",
  path: "/events/stream",
  tags: ["events"],
  summary: "Live events as Server-Sent Events: the backlog after the cursor, then new events (viewer and up)",
  security: [...bearerSecurity, {}],
  middleware: streamMiddleware,
  request: {
    query: streamQuery,
    headers: z.object({
      "last-event-id": z
        .string()
        .regex(/^[0-9]{1,15}$/)
        .optional()
        .describe("Resume after this event id (sent by EventSource on reconnect); wins over `after`."),
    }),
  },
  responses: {
    200: {
      description:
        "An event stream: `id:` the log position, `event:` the CloudEvents type, `data:` the CloudEvent JSON; `: ping` every 25 s.",
      content: { "text/event-stream": { schema: z.string() } },
    },
    ...problemResponses(400, 401, 403, 429),
  },
});

export const eventSocket = createRoute({
  method: "get",
  path: "/events/ws",
  tags: ["events"],
  summary: "Live events over a WebSocket, one CloudEvent JSON text per message (viewer and up)",
  security: [...bearerSecurity, {}],
  middleware: streamMiddleware,
  request: { query: streamQuery },
  responses: {
    101: { description: "Switched to the WebSocket protocol" },
    ...problemResponses(400, 401, 403, 426, 429),
  },
});

export const createEventTicket = createRoute({
  method: "post",
  path: "/events/tickets",
  tags: ["events"],
  summary: "A single-use ticket that opens this tenant's event stream or socket within 60 s (viewer and up)",
  security: bearerSecurity,
  middleware: [...tenantRequest, requireRole("viewer"), requireFeature("eventStreams")] as const,
  responses: {
    201: {
      description: "The ticket: pass it as `?ticket=` to /v1/events/stream or /v1/events/ws",
      content: {
        "application/json": {
          schema: z.object({ ticket: z.string(), expiresAt: z.string().describe("RFC 3339 UTC") }),
        },
      },
    },
    ...problemResponses(401, 403, 429),
  },
});
