import { bytesToBase64Url } from "../../shared/core/encoding";
import { sha256HexSync } from "../../shared/core/sha256";
import type { SchemaComponent } from "../../shared/sql/migrations";
import type { SqlDatabase } from "../../shared/sql/sql-database";

/** How long a ticket can be redeemed after it was issued. */
export const EVENT_TICKET_TTL_MS = 60_000;
/** Unredeemed, unexpired tickets a tenant may hold at once. */
export const MAX_OPEN_EVENT_TICKETS = 100;

const TICKET_PREFIX = "kgt";
const TENANT_ID = /^[A-Za-z0-9_-]{1,64}$/;
const TICKET = /^kgt\.([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]{43})$/;

export const eventTicketsSchema: SchemaComponent = {
  name: "event-tickets",
  migrations: [
    {
      version: 1,
      description: "single-use tickets for event streams",
      up: `
        CREATE TABLE event_ticket (
          secret_sha256 TEXT PRIMARY KEY,
          expires_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX event_ticket_expiry ON event_ticket (expires_at);
      `,
    },
  ],
};

/**
 * The tenant a ticket names, read without trusting it: the Worker routes the ticket to that tenant's
 * object, which redeems it only if it issued it. Null when the text is not shaped like a ticket.
 */
export function ticketTenantId(ticket: string): string | null {
  return TICKET.exec(ticket)?.[1] ?? null;
}

export type TicketIssue = { issued: true; ticket: string; expiresAt: number } | { issued: false };

/**
 * Single-use tickets that let a client which cannot send headers (a browser's EventSource or WebSocket)
 * open the tenant's event stream: `kgt.<tenantId>.<secret>`. Only the secret's SHA-256 is stored.
 */
export class EventTickets {
  constructor(private readonly db: SqlDatabase) {}

  issue(tenantId: string, now: number): TicketIssue {
    if (!TENANT_ID.test(tenantId)) throw new RangeError(`tenantId must match ${TENANT_ID}`);
    return this.db.transaction(() => {
      this.db.run("DELETE FROM event_ticket WHERE expires_at <= ?", [now]);
      const open = Number(this.db.all("SELECT count(*) FROM event_ticket")[0]?.[0] ?? 0);
      if (open >= MAX_OPEN_EVENT_TICKETS) return { issued: false as const };
      const secret = bytesToBase64Url(crypto.getRandomValues(new Uint8Array(32)));
      const expiresAt = now + EVENT_TICKET_TTL_MS;
      this.db.run("INSERT INTO event_ticket (secret_sha256, expires_at) VALUES (?, ?)", [
        sha256HexSync(secret),
        expiresAt,
      ]);
      return { issued: true as const, ticket: `${TICKET_PREFIX}.${tenantId}.${secret}`, expiresAt };
    });
  }

  /** Redeems the ticket: true once, for a ticket this tenant issued that has not expired at `now`. */
  redeem(tenantId: string, ticket: string, now: number): boolean {
    const match = TICKET.exec(ticket);
    if (!match || match[1] !== tenantId) return false;
    const redeemed = this.db.query<{ expires_at: number }>(
      "DELETE FROM event_ticket WHERE secret_sha256 = ? RETURNING expires_at",
      [sha256HexSync(match[2] as string)],
    )[0];
    return redeemed !== undefined && Number(redeemed.expires_at) > now;
  }
}
