import type { Context } from "hono";
import {
  type EventStreamRefusal,
  type EventStreamRequest,
  eventStreamRequest,
} from "../../../durable-objects/tenant/event-stream-request";
import { eventTypePatternsSchema, toCloudEvent } from "../../../shared/contracts/events";
import { planLimits } from "../../../shared/plans";
import type { AppEnv } from "../../context";
import type { AppRouteHandler } from "../../openapi";
import { HttpError } from "../../problems/http-error";
import { invalidField } from "../../problems/problem-response";
import { tenantObject } from "../../tenant-object-stub";
import type * as routes from "./events.routes";

/** `types=job.*,graph.deleted` as normalized patterns; undefined when absent (every type). */
function typePatterns(types: string | undefined): string[] | undefined {
  if (types === undefined) return undefined;
  const parsed = eventTypePatternsSchema.safeParse(types.split(",").map((pattern) => pattern.trim()));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const position = typeof issue?.path[0] === "number" ? ` (pattern ${issue.path[0] + 1})` : "";
    throw invalidField("types", `${issue?.message ?? "invalid event type patterns"}${position}`, "query");
  }
  return parsed.data;
}

export const listEvents: AppRouteHandler<typeof routes.listEvents> = async (c) => {
  const { after, limit, types } = c.req.valid("query");
  const patterns = typePatterns(types);
  const tenant = c.var.tenant;
  const page = await tenantObject(c.env, tenant).readEvents({
    after,
    limit,
    ...(patterns === undefined ? {} : { types: patterns }),
  });
  return c.json(
    {
      events: page.events.map((event) => toCloudEvent(tenant.id, event)),
      nextCursor: page.nextCursor,
      hasMore: page.hasMore,
    },
    200,
  );
};

export const createEventTicket: AppRouteHandler<typeof routes.createEventTicket> = async (c) => {
  const issue = await tenantObject(c.env, c.var.tenant).issueEventTicket(c.var.tenant.id, Date.now());
  if (!issue.issued) {
    throw new HttpError(
      429,
      "too-many-tickets",
      "Too Many Requests",
      "Too many unredeemed tickets; use or let expire some first.",
      {
        headers: { "Retry-After": "60" },
      },
    );
  }
  return c.json({ ticket: issue.ticket, expiresAt: new Date(issue.expiresAt).toISOString() }, 201);
};

const REFUSAL_TITLES: Record<EventStreamRefusal["type"], string> = {
  "invalid-ticket": "Unauthorized",
  "too-many-streams": "Too Many Requests",
  "websocket-upgrade-required": "Upgrade Required",
};

/** Forwards the authenticated stream request to the tenant object, which serves the stream itself. */
async function openStream(
  c: Context<AppEnv>,
  kind: EventStreamRequest["kind"],
  after: EventStreamRequest["after"],
  types?: string,
) {
  const { tenant, principal } = c.var;
  const patterns = typePatterns(types);
  const ticket = principal.credential === "event-ticket" ? c.req.query("ticket") : undefined;
  const request = eventStreamRequest(c.req.raw, {
    kind,
    tenantId: tenant.id,
    after,
    typePatterns: patterns ?? null,
    maxOpenStreams: planLimits(tenant.plan).openEventStreams,
    ...(ticket === undefined ? {} : { ticket }),
    now: Date.now(),
  });
  const response = await tenantObject(c.env, tenant).fetch(request);
  if (response.status === 101 || response.status === 200) {
    // A fresh response: the middlewares after this one add headers, and the object's are immutable.
    return new Response(response.body, {
      status: response.status,
      headers: new Headers(response.headers),
      ...(response.webSocket ? { webSocket: response.webSocket } : {}),
    });
  }
  const refused = (await response.json()) as EventStreamRefusal;
  throw new HttpError(response.status, refused.type, REFUSAL_TITLES[refused.type] ?? "Refused", refused.detail, {
    headers: response.status === 429 ? { "Retry-After": "60" } : {},
  });
}

export const streamEvents: AppRouteHandler<typeof routes.streamEvents> = async (c) => {
  const { after, types } = c.req.valid("query");
  const lastEventId = c.req.valid("header")["last-event-id"];
  return openStream(c, "sse", lastEventId === undefined ? (after ?? 0) : Number(lastEventId), types) as never;
};

export const eventSocket: AppRouteHandler<typeof routes.eventSocket> = async (c) => {
  const { after, types } = c.req.valid("query");
  return openStream(c, "socket", after ?? 0, types) as never;
};
