import type { MiddlewareHandler } from "hono";
import { ticketTenantId } from "../../../durable-objects/tenant/event-tickets";
import { authenticate } from "../../auth/authenticate";
import type { AppEnv } from "../../context";
import { database } from "../../db/client";
import { HttpError } from "../../problems/http-error";
import { TenantDirectory } from "../../repository/tenants";

const invalidTicket = () =>
  new HttpError(401, "invalid-ticket", "Unauthorized", "The ticket is unknown, already used or expired.");

/**
 * Who opens an event stream: the Authorization header as on every route, or (for browsers, which cannot
 * set headers on EventSource and WebSocket) `?ticket=` from POST /v1/events/tickets. A ticket names its
 * tenant, so it is routed to that tenant's object, which redeems it only if it issued it (once, within
 * its minute); the handler passes it on for that. A ticket grants the viewer role.
 */
export const authenticateEventStream: MiddlewareHandler<AppEnv> = async (c, next) => {
  const ticket = c.req.query("ticket");
  if (ticket === undefined) return authenticate(c, next);
  if (c.req.header("authorization") !== undefined) {
    throw new HttpError(
      400,
      "ambiguous-credential",
      "Invalid request",
      "Send either a ticket or an Authorization header, not both.",
    );
  }
  const tenantId = ticketTenantId(ticket);
  if (tenantId === null) throw invalidTicket();
  const tenant = await new TenantDirectory(database(c.env.DB)).findById(tenantId);
  if (!tenant) throw invalidTicket();
  if (tenant.status === "suspended") {
    throw new HttpError(403, "tenant-suspended", "Forbidden", "This tenant is suspended.");
  }
  c.set("principal", {
    tenantId: tenant.id,
    role: "viewer",
    subject: "event-ticket",
    credential: "event-ticket",
    confirmedAtMs: Date.now(),
  });
  c.set("tenant", tenant);
  await next();
};
