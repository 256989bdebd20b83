import { unwrap } from "../../../durable-objects/tenant/rpc-outcome";
import { randomId } from "../../../shared/core/encoding";
import type { AppRouteHandler } from "../../openapi";
import { checkDestination, destinationPolicy } from "../../outbound/destination-guard";
import { HttpError } from "../../problems/http-error";
import { decodeCursor, encodeCursor } from "../../repository/pagination";
import { tenantObject } from "../../tenant-object-stub";
import { newSealedWebhookSecret } from "../../webhooks/webhook-secret";
import type * as routes from "./webhooks.routes";

/** List cursors: opaque to clients, a (createdAt, id) position to the tenant object. */
function positionOf(cursor: string | undefined): { createdAt: number; id: string } | undefined {
  if (cursor === undefined) return undefined;
  const decoded = decodeCursor(cursor);
  const createdAt = Date.parse(decoded.createdAt);
  if (Number.isNaN(createdAt)) {
    throw new HttpError(400, "validation-error", "Invalid request", "Invalid query: cursor.", {
      extensions: { errors: [{ field: "cursor", message: "Not a cursor returned by this API." }] },
    });
  }
  return { createdAt, id: decoded.id };
}

function cursorOf(position: { createdAt: number; id: string } | null): string | null {
  return position === null
    ? null
    : encodeCursor({ createdAt: new Date(position.createdAt).toISOString(), id: position.id });
}

const safeUrl = (env: Env, url: string) => checkDestination(url, destinationPolicy(env.ENVIRONMENT)).href;

export const createWebhook: AppRouteHandler<typeof routes.createWebhook> = async (c) => {
  const input = c.req.valid("json");
  const { tenant } = c.var;
  const url = safeUrl(c.env, input.url);
  const id = randomId("wh");
  const { secret, sealed } = await newSealedWebhookSecret(c.env, tenant.id, id);
  const webhook = unwrap(
    await tenantObject(c.env, tenant).webhookCreate({
      tenantId: tenant.id,
      id,
      url,
      events: input.events,
      description: input.description ?? null,
      secret: sealed,
      now: Date.now(),
    }),
  );
  return c.json({ ...webhook, secret }, 201);
};

export const listWebhooks: AppRouteHandler<typeof routes.listWebhooks> = async (c) => {
  const { limit, cursor } = c.req.valid("query");
  const page = unwrap(await tenantObject(c.env, c.var.tenant).webhookList(limit, positionOf(cursor)));
  return c.json({ items: page.items, nextCursor: cursorOf(page.next) }, 200);
};

export const getWebhook: AppRouteHandler<typeof routes.getWebhook> = async (c) => {
  const webhook = unwrap(await tenantObject(c.env, c.var.tenant).webhookGet(c.req.valid("param").id));
  return c.json(webhook, 200);
};

export const updateWebhook: AppRouteHandler<typeof routes.updateWebhook> = async (c) => {
  const input = c.req.valid("json");
  const { tenant } = c.var;
  const changes = {
    ...(input.url === undefined ? {} : { url: safeUrl(c.env, input.url) }),
    ...(input.events === undefined ? {} : { events: input.events }),
    ...(input.description === undefined ? {} : { description: input.description }),
    ...(input.status === undefined ? {} : { status: input.status }),
  };
  const webhook = unwrap(
    await tenantObject(c.env, tenant).webhookUpdate(tenant.id, c.req.valid("param").id, changes, Date.now()),
  );
  return c.json(webhook, 200);
};

export const deleteWebhook: AppRouteHandler<typeof routes.deleteWebhook> = async (c) => {
  unwrap(await tenantObject(c.env, c.var.tenant).webhookDelete(c.req.valid("param").id, Date.now()));
  return c.body(null, 204);
};

export const rotateWebhookSecret: AppRouteHandler<typeof routes.rotateWebhookSecret> = async (c) => {
  const { tenant } = c.var;
  const id = c.req.valid("param").id;
  const { secret, sealed } = await newSealedWebhookSecret(c.env, tenant.id, id);
  const webhook = unwrap(await tenantObject(c.env, tenant).webhookRotateSecret(id, sealed, Date.now()));
  return c.json({ ...webhook, secret }, 200);
};

export const testWebhook: AppRouteHandler<typeof routes.testWebhook> = async (c) => {
  const { tenant } = c.var;
  const queued = unwrap(
    await tenantObject(c.env, tenant).webhookTest(tenant.id, c.req.valid("param").id, Date.now(), c.var.traceparent),
  );
  return c.json(queued, 202);
};

export const listDeliveries: AppRouteHandler<typeof routes.listDeliveries> = async (c) => {
  const { limit, cursor } = c.req.valid("query");
  const page = unwrap(
    await tenantObject(c.env, c.var.tenant).webhookDeliveries(c.req.valid("param").id, limit, positionOf(cursor)),
  );
  return c.json({ items: page.items, nextCursor: cursorOf(page.next) }, 200);
};

export const getDelivery: AppRouteHandler<typeof routes.getDelivery> = async (c) => {
  const { id, deliveryId } = c.req.valid("param");
  return c.json(unwrap(await tenantObject(c.env, c.var.tenant).webhookDelivery(id, deliveryId)), 200);
};

export const redeliver: AppRouteHandler<typeof routes.redeliver> = async (c) => {
  const { tenant } = c.var;
  const { id, deliveryId } = c.req.valid("param");
  const queued = unwrap(
    await tenantObject(c.env, tenant).webhookRedeliver(tenant.id, id, deliveryId, Date.now(), c.var.traceparent),
  );
  return c.json(queued, 202);
};
