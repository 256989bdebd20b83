import { requireCount, requireObject } from "./rpc-input";

/**
 * What the Worker asks of the tenant object's `fetch` when it opens an event stream, after it has
 * authenticated the caller: every field comes from the verified credential or validated input.
 */
export interface EventStreamRequest {
  kind: "sse" | "socket";
  tenantId: string;
  /** Deliver events with id > after; `"latest"`: only events appended after the stream opened. */
  after: number | "latest";
  /** Normalized type patterns; null delivers every type. */
  typePatterns: string[] | null;
  /** Streams and sockets the tenant may hold open at once (its plan's limit). */
  maxOpenStreams: number;
  /** A ticket to redeem before the stream opens (the caller authenticated with it). */
  ticket?: string;
  /** The Worker's clock, epoch ms, for the ticket's expiry. */
  now: number;
}

/** The status and problem type slug the tenant object answers a refused stream with. */
export interface EventStreamRefusal {
  type: "invalid-ticket" | "too-many-streams" | "websocket-upgrade-required";
  detail: string;
}

const HEADER = "x-kgen-event-stream";
const ORIGIN = "https://tenant-object.internal";
export const EVENT_STREAM_PATH = "/events/stream";

/** The request the Worker forwards to the tenant object (headers such as Upgrade are kept). */
export function eventStreamRequest(original: Request, stream: EventStreamRequest): Request {
  const headers = new Headers();
  const upgrade = original.headers.get("upgrade");
  if (upgrade !== null) headers.set("upgrade", upgrade);
  headers.set(HEADER, JSON.stringify(stream));
  return new Request(`${ORIGIN}${EVENT_STREAM_PATH}`, { method: "GET", headers });
}

export function readEventStreamRequest(request: Request): EventStreamRequest {
  const header = request.headers.get(HEADER);
  if (header === null) throw new TypeError(`missing ${HEADER}`);
  const args = requireObject("event stream request", JSON.parse(header));
  if (args.kind !== "sse" && args.kind !== "socket") throw new RangeError("kind must be sse or socket");
  if (typeof args.tenantId !== "string" || args.tenantId.length === 0) throw new TypeError("tenantId is required");
  const typePatterns = args.typePatterns;
  if (typePatterns !== null && !(Array.isArray(typePatterns) && typePatterns.every((p) => typeof p === "string"))) {
    throw new TypeError("typePatterns must be null or an array of strings");
  }
  if (args.ticket !== undefined && typeof args.ticket !== "string") throw new TypeError("ticket must be a string");
  return {
    kind: args.kind,
    tenantId: args.tenantId,
    after: args.after === "latest" ? "latest" : requireCount("after", args.after),
    typePatterns,
    maxOpenStreams: requireCount("maxOpenStreams", args.maxOpenStreams),
    ...(args.ticket === undefined ? {} : { ticket: args.ticket }),
    now: requireCount("now", args.now),
  };
}

export function refusal(status: number, body: EventStreamRefusal): Response {
  return Response.json(body, { status });
}
