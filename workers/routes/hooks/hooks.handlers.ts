import type { AppRouteHandler } from "../../openapi";
import { receiveDelivery } from "../../triggers/receive-delivery";
import type * as routes from "./hooks.routes";

export const receiveHook: AppRouteHandler<typeof routes.receiveHook> = async (c) => {
  const answer = await receiveDelivery(c.env, {
    triggerId: c.req.valid("param").id,
    headers: c.req.raw.headers,
    body: new Uint8Array(await c.req.arrayBuffer()),
    nowMs: Date.now(),
    waitUntil: (promise) => c.executionCtx.waitUntil(promise),
    traceparent: c.var.traceparent,
  });
  return answer.status === 200 ? c.json(answer.body, 200) : c.json(answer.body, 202);
};
