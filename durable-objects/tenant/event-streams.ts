import { type CloudEvent, toCloudEvent } from "../../shared/contracts/events";
import type { EventLog, TenantEvent } from "./event-log";
import { type EventStreamRequest, readEventStreamRequest, refusal } from "./event-stream-request";
import type { EventTickets } from "./event-tickets";

/** A comment line on every open SSE stream this often, so proxies keep idle connections open. */
export const SSE_HEARTBEAT_MS = 25_000;
/** Events read per page when a stream catches up. */
export const STREAM_PAGE_EVENTS = 100;
/** Pages one delivery sends to one stream; a stream further behind gets the rest from the next alarm. */
export const MAX_PAGES_PER_DELIVERY = 5;
/** Bytes an SSE stream may hold unread; delivery waits for a slow reader instead of buffering more. */
export const SSE_BUFFER_BYTES = 256 * 1024;
/** Tag of the tenant object's event sockets (ctx.getWebSockets). */
const SOCKET_TAG = "events";

/**
 * What a hibernatable socket remembers between wake-ups: the object may be evicted while the socket
 * stays open, so the filter and the position last sent live here, not in memory.
 */
export interface SocketAttachment {
  tenantId: string;
  typePatterns: string[] | null;
  /** Id of the last event position the socket has been brought up to. */
  cursor: number;
}

interface SseStream {
  tenantId: string;
  typePatterns: string[] | null;
  cursor: number;
  controller: ReadableStreamDefaultController<Uint8Array>;
  /** Set while a pump runs: enqueue may call `pull`, which must not start a second pump mid-page. */
  pumping: boolean;
}

const encoder = new TextEncoder();
const HEARTBEAT = encoder.encode(": ping\n\n");

/** One Server-Sent Events message: `id` the log position, `event` the CloudEvents type, `data` the CloudEvent. */
export function sseFrame(event: CloudEvent): string {
  return `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

/**
 * The tenant's live event streams: Server-Sent Events responses (held in memory while open) and
 * hibernatable WebSockets (their state in attachments). Each stream reads the log from its own cursor,
 * the backlog first, then whatever the fan-out alarm finds new.
 */
export class EventStreams {
  private readonly sseStreams = new Set<SseStream>();
  private heartbeat: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly events: EventLog,
    private readonly tickets: EventTickets,
    /** Asks for another delivery pass (the fan-out alarm) when a stream is left behind by its page bound. */
    private readonly requestDelivery: () => void,
  ) {}

  /** Opens the stream the Worker asked for, or refuses it (bad ticket, too many open streams). */
  open(request: Request): Response {
    const stream = readEventStreamRequest(request);
    if (stream.kind === "socket" && request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return refusal(426, {
        type: "websocket-upgrade-required",
        detail: "Open this URL as a WebSocket (Upgrade: websocket).",
      });
    }
    if (stream.ticket !== undefined && !this.tickets.redeem(stream.tenantId, stream.ticket, stream.now)) {
      return refusal(401, { type: "invalid-ticket", detail: "The ticket is unknown, already used or expired." });
    }
    if (this.openCount() >= stream.maxOpenStreams) {
      return refusal(429, {
        type: "too-many-streams",
        detail: `The tenant already has ${stream.maxOpenStreams} event streams open, the most its plan allows.`,
      });
    }
    const opened = { ...stream, after: stream.after === "latest" ? this.events.head() : stream.after };
    return opened.kind === "sse" ? this.openSse(opened) : this.openSocket(opened);
  }

  openCount(): number {
    return this.sseStreams.size + this.ctx.getWebSockets(SOCKET_TAG).length;
  }

  /** Brings every open stream and socket up to the log's head (bounded per call; see requestDelivery). */
  deliverNewEvents(): void {
    for (const stream of this.sseStreams) this.pumpSse(stream);
    for (const socket of this.ctx.getWebSockets(SOCKET_TAG)) this.pumpSocket(socket);
  }

  /** Ends every open stream and socket (the tenant's data is being deleted). */
  closeAll(): void {
    for (const stream of this.sseStreams) this.closeSse(stream);
    for (const socket of this.ctx.getWebSockets(SOCKET_TAG)) {
      try {
        socket.close(1001, "The tenant was deleted.");
      } catch {
        // Already closing.
      }
    }
  }

  /** The socket protocol is one-way (a text `ping` is answered `pong` without waking the object). */
  socketMessage(socket: WebSocket): void {
    socket.close(1003, "This socket only sends events.");
  }

  socketClosed(socket: WebSocket, code: number, reason: string): void {
    try {
      socket.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // Already closed from this side.
    }
  }

  private openSse(request: EventStreamRequest & { after: number }): Response {
    let stream: SseStream | undefined;
    const body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          stream = {
            tenantId: request.tenantId,
            typePatterns: request.typePatterns,
            cursor: request.after,
            controller,
            pumping: false,
          };
          this.sseStreams.add(stream);
        },
        // The reader drained its buffer: the backlog (or a burst) goes on from the stream's cursor.
        pull: () => {
          if (stream) this.pumpSse(stream);
        },
        cancel: () => {
          if (stream) this.closeSse(stream);
        },
      },
      { highWaterMark: SSE_BUFFER_BYTES, size: (chunk) => chunk.byteLength },
    );
    this.startHeartbeat();
    return new Response(body, {
      status: 200,
      headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store" },
    });
  }

  private openSocket(request: EventStreamRequest & { after: number }): Response {
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    this.ctx.acceptWebSocket(server, [SOCKET_TAG]);
    const attachment: SocketAttachment = {
      tenantId: request.tenantId,
      typePatterns: request.typePatterns,
      cursor: request.after,
    };
    server.serializeAttachment(attachment);
    this.pumpSocket(server);
    return new Response(null, { status: 101, webSocket: client });
  }

  private pumpSse(stream: SseStream): void {
    if (!this.sseStreams.has(stream) || stream.pumping) return;
    stream.pumping = true;
    try {
      for (let pages = 0; pages < MAX_PAGES_PER_DELIVERY; pages++) {
        if ((stream.controller.desiredSize ?? 0) <= 0) return;
        const more = this.sendPage(stream, (event) =>
          stream.controller.enqueue(encoder.encode(sseFrame(toCloudEvent(stream.tenantId, event)))),
        );
        if (!more) return;
      }
      this.requestDelivery();
    } catch {
      this.closeSse(stream);
    } finally {
      stream.pumping = false;
    }
  }

  private pumpSocket(socket: WebSocket): void {
    const stored = socket.deserializeAttachment() as SocketAttachment | null;
    if (stored === null) return;
    const position = { ...stored };
    try {
      let more = true;
      for (let pages = 0; pages < MAX_PAGES_PER_DELIVERY && more; pages++) {
        more = this.sendPage(position, (event) => socket.send(JSON.stringify(toCloudEvent(position.tenantId, event))));
      }
      if (more) this.requestDelivery();
    } catch {
      // The socket is closing; what was sent is recorded below, webSocketClose finishes it.
    }
    if (position.cursor !== stored.cursor) socket.serializeAttachment(position);
  }

  /** Sends one page after the cursor and moves it; whether more events follow. */
  private sendPage(
    position: { typePatterns: string[] | null; cursor: number },
    send: (event: TenantEvent) => void,
  ): boolean {
    const page = this.events.read(position.cursor, STREAM_PAGE_EVENTS, position.typePatterns ?? undefined);
    for (const event of page.events) {
      send(event);
      position.cursor = event.id;
    }
    position.cursor = page.nextCursor;
    return page.hasMore;
  }

  private closeSse(stream: SseStream): void {
    this.sseStreams.delete(stream);
    try {
      stream.controller.close();
    } catch {
      // Cancelled by the reader: nothing to close.
    }
    if (this.sseStreams.size === 0 && this.heartbeat !== undefined) {
      clearInterval(this.heartbeat);
      this.heartbeat = undefined;
    }
  }

  /** Sends the `: ping` comment to every open SSE stream (every SSE_HEARTBEAT_MS while any is open). */
  sendHeartbeat(): void {
    for (const stream of this.sseStreams) {
      try {
        stream.controller.enqueue(HEARTBEAT);
      } catch {
        this.closeSse(stream);
      }
    }
  }

  private startHeartbeat(): void {
    if (this.heartbeat === undefined) this.heartbeat = setInterval(() => this.sendHeartbeat(), SSE_HEARTBEAT_MS);
  }
}
