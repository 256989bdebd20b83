import type { Context } from "hono";
import { isSyncGraphAction } from "../../../shared/contracts/triggers";
import { randomId } from "../../../shared/core/encoding";
import type { AppEnv } from "../../context";
import { database } from "../../db/client";
import type { AppRouteHandler } from "../../openapi";
import { checkDestination, destinationPolicy } from "../../outbound/destination-guard";
import { HttpError } from "../../problems/http-error";
import { notFound } from "../../problems/problem-response";
import { toPage } from "../../repository/pagination";
import { MAX_TRIGGERS_PER_TENANT, TriggerRegistry } from "../../repository/triggers";
import { tenantObject } from "../../tenant-object-stub";
import { newTriggerSecret, sealTriggerSecret } from "../../triggers/trigger-secret";
import { hookUrl, triggerView } from "./trigger-view";
import type * as routes from "./triggers.routes";

const registryOf = (c: Context<AppEnv>) => new TriggerRegistry(database(c.env.DB), c.var.tenant.id);

async function appendTriggerChange(
  c: Context<AppEnv>,
  type: "trigger.created" | "trigger.deleted",
  triggerId: string,
  name: string,
) {
  await tenantObject(c.env, c.var.tenant).appendEvent({
    type,
    data: { triggerId, name },
    createdAt: Date.now(),
    idempotencyKey: `${type}:${triggerId}`,
  });
}

export const createTrigger: AppRouteHandler<typeof routes.createTrigger> = async (c) => {
  const input = c.req.valid("json");
  const { principal, tenant } = c.var;
  if (isSyncGraphAction(input.action)) {
    // Refuse at once a template whose fixed part already points somewhere unsafe (deliveries re-check the filled URL).
    checkDestination(
      input.action.syncGraph.urlTemplate.replace(/\{[^}]*\}/g, "placeholder"),
      destinationPolicy(c.env.ENVIRONMENT as string),
    );
  }
  const id = randomId("trg");
  const secret = newTriggerSecret(input.verify);
  const creation = await registryOf(c).create(
    {
      id,
      name: input.name,
      verify: input.verify,
      action: input.action as Record<string, unknown>,
      filter: (input.filter as Record<string, unknown> | undefined) ?? null,
      encryptedSecret: await sealTriggerSecret(c.env, tenant.id, id, secret),
      createdAt: new Date().toISOString(),
      createdBy: principal.subject,
    },
    c.var.requestId,
  );
  if (!creation.created) {
    if (creation.reason === "name-taken")
      throw new HttpError(409, "conflict", "Conflict", `A trigger named "${input.name}" exists.`);
    throw new HttpError(
      403,
      "quota-exceeded",
      "Quota exceeded",
      `A tenant has at most ${MAX_TRIGGERS_PER_TENANT} triggers; delete one first.`,
      { extensions: { counter: "triggers", limit: MAX_TRIGGERS_PER_TENANT, used: await registryOf(c).count() } },
    );
  }
  await appendTriggerChange(c, "trigger.created", id, input.name);
  const url = hookUrl(c.env, c.req.url, id);
  return c.json({ ...triggerView(creation.row, url), secret }, 201, { location: `/v1/triggers/${id}` });
};

export const listTriggers: AppRouteHandler<typeof routes.listTriggers> = async (c) => {
  const { limit, cursor } = c.req.valid("query");
  const rows = await registryOf(c).list(limit, cursor);
  return c.json(
    toPage(rows, limit, (row) => triggerView(row, hookUrl(c.env, c.req.url, row.id))),
    200,
  );
};

export const getTrigger: AppRouteHandler<typeof routes.getTrigger> = async (c) => {
  const row = await registryOf(c).find(c.req.valid("param").id);
  if (!row) throw notFound("The trigger");
  return c.json(triggerView(row, hookUrl(c.env, c.req.url, row.id)), 200);
};

export const deleteTrigger: AppRouteHandler<typeof routes.deleteTrigger> = async (c) => {
  const registry = registryOf(c);
  const row = await registry.find(c.req.valid("param").id);
  if (!row) throw notFound("The trigger");
  if (!(await registry.delete(row.id, c.var.principal.subject, c.var.requestId, new Date().toISOString())))
    throw notFound("The trigger");
  await appendTriggerChange(c, "trigger.deleted", row.id, row.name);
  return c.body(null, 204);
};
