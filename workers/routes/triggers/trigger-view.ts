import type { z } from "@hono/zod-openapi";
import type { TriggerAction, TriggerFilter, triggerSchema } from "../../../shared/contracts/triggers";
import type { TriggerRow } from "../../db/schema";

/**
 * Where senders post a trigger's deliveries: https on the host the API was called on (the request's
 * own scheme in development, where the API is served over plain http).
 */
export function hookUrl(env: Env, requestUrl: string, triggerId: string): string {
  const origin = new URL(requestUrl);
  const scheme = (env.ENVIRONMENT as string) === "development" ? origin.protocol : "https:";
  return `${scheme}//${origin.host}/v1/hooks/${triggerId}`;
}

/** A trigger as the API shows it: never its secret. */
export function triggerView(row: TriggerRow, url: string): z.infer<typeof triggerSchema> {
  return {
    id: row.id,
    name: row.name,
    verify: row.verify,
    action: row.action as TriggerAction,
    filter: (row.filter as TriggerFilter | null) ?? null,
    url,
    createdAt: row.createdAt,
  };
}
