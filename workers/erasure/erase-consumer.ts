import { z } from "zod";
import { database } from "../db/client";
import { countQueueSent } from "../observability/operator-metrics";
import type { TracedMessage } from "../observability/trace-context";
import { TenantErasures } from "../repository/tenant-erasures";
import { eraseTenantPages } from "./erase-tenant";

/** A message on the erase queue: go on with this tenant's erasure from where its record stands. */
export interface EraseMessage extends TracedMessage {
  tenantId: string;
}

const eraseMessageSchema = z.object({
  tenantId: z.string().min(1).max(64),
  traceparent: z.string().max(55).optional(),
});

/** Seconds before a failed erasure message is tried again: 10 s doubling, at most 5 minutes. */
export function eraseRetryDelaySeconds(attempts: number): number {
  return Math.min(300, 10 * 2 ** Math.max(0, attempts - 1));
}

export async function enqueueErasure(env: Env, tenantId: string, traceparent?: string): Promise<void> {
  await env.ERASE_QUEUE.send({ tenantId, traceparent } satisfies EraseMessage);
  countQueueSent("erase", 1);
}

function eraseMessage(message: Message<unknown>): EraseMessage | undefined {
  const parsed = eraseMessageSchema.safeParse(message.body);
  if (parsed.success) return parsed.data;
  console.error(JSON.stringify({ level: "error", msg: "malformed erase message dropped", id: message.id }));
  return undefined;
}

/**
 * The erase queue: each message runs a bounded number of pages of one tenant's erasure and, when more
 * is left, enqueues the next message before it is acknowledged. A failing page retries the message with
 * backoff (its reason kept on the record); after the last retry the dead-letter queue marks it failed.
 */
export async function consumeEraseBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  for (const message of batch.messages) {
    const body = eraseMessage(message);
    if (!body) {
      message.ack();
      continue;
    }
    try {
      if ((await eraseTenantPages(env, body.tenantId)) === "more")
        await enqueueErasure(env, body.tenantId, body.traceparent);
      message.ack();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      console.error(JSON.stringify({ level: "error", msg: "erasure page failed", tenant: body.tenantId, reason }));
      try {
        await new TenantErasures(database(env.DB)).recordAttemptFailure(
          body.tenantId,
          reason,
          new Date().toISOString(),
        );
      } catch (recordError) {
        // D1 itself may be what fails: the retry still happens, the record catches up on a later attempt.
        console.error(
          JSON.stringify({ level: "error", msg: "erasure failure not recorded", reason: String(recordError) }),
        );
      }
      message.retry({ delaySeconds: eraseRetryDelaySeconds(message.attempts) });
    }
  }
}

/** Dead letters of the erase queue: the erasure stops as failed, with the last reason it failed for. */
export async function consumeEraseDeadLetters(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const erasures = new TenantErasures(database(env.DB));
  for (const message of batch.messages) {
    const body = eraseMessage(message);
    if (body) {
      const record = await erasures.find(body.tenantId);
      const attempts = record?.attempts ?? 0;
      const reason = `gave up after ${attempts} failed attempt${attempts === 1 ? "" : "s"}: ${record?.lastError ?? "the erase message was dead-lettered"}`;
      await erasures.markFailed(body.tenantId, reason, new Date().toISOString());
    }
    message.ack();
  }
}
