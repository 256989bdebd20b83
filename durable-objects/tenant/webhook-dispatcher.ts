import { randomId } from "../../shared/core/encoding";
import type { SqlDatabase } from "../../shared/sql/sql-database";
import type { EventLog } from "./event-log";
import { WebhookEndpoints } from "./webhook-endpoints";
import type { DeliverMessage, DeliverQueue, WebhookService } from "./webhook-service";

/** Deliveries one dispatch creates at most; the events page shrinks with the number of endpoints. */
export const MAX_DELIVERIES_PER_DISPATCH = 500;
const MAX_EVENTS_PER_DISPATCH = 100;
/** Messages per sendBatch call (the Queues limit). */
const SEND_BATCH = 100;
/** How long the delivery log keeps a finished delivery. */
export const DELIVERY_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;
const PRUNE_PER_DISPATCH = 500;
/** After a failed send, the next try waits this long. */
export const DISPATCH_RETRY_MS = 5_000;

export interface DispatchResult {
  /** Deliveries handed to the queue by this run. */
  enqueued: number;
  /** When to run again: 0 right away (more events wait), a delay after a failure, null when caught up. */
  againInMs: number | null;
}

/**
 * The webhook side of the event fan-out, a transactional outbox: read the events after the dispatcher's
 * cursor, create one delivery per (enabled, matching) webhook and event in the tenant's SQLite, queue them,
 * and move the cursor only once the queue took them. A crash or a failed send re-reads the same events;
 * deliveries are unique per webhook and event, so nothing is created twice.
 */
export class WebhookDispatcher {
  constructor(
    private readonly db: SqlDatabase,
    private readonly events: EventLog,
    private readonly webhooks: WebhookService,
    private readonly queue: () => DeliverQueue,
  ) {}

  async dispatch(now: number): Promise<DispatchResult> {
    const state = this.db.query<{ tenant_id: string; cursor: number }>(
      "SELECT tenant_id, cursor FROM webhook_dispatch WHERE id = 1",
    )[0];
    if (state === undefined) return { enqueued: 0, againInMs: null };
    const endpoints = this.webhooks.endpoints.enabled();
    if (endpoints.length === 0) return { enqueued: 0, againInMs: null };
    const pageSize = Math.max(
      1,
      Math.min(MAX_EVENTS_PER_DISPATCH, Math.floor(MAX_DELIVERIES_PER_DISPATCH / endpoints.length)),
    );
    const page = this.events.read(Number(state.cursor), pageSize);
    if (page.events.length === 0) return { enqueued: 0, againInMs: null };
    const deliveryIds = this.db.transaction(() => {
      const ids: string[] = [];
      for (const event of page.events) {
        for (const endpoint of endpoints) {
          if (!WebhookEndpoints.wants(endpoint, event)) continue;
          const id = this.webhooks.deliveries.ensureForEvent(randomId("msg"), endpoint.id, event.id, event.type, now);
          if (id !== null) ids.push(id);
        }
      }
      return ids;
    });
    try {
      for (let start = 0; start < deliveryIds.length; start += SEND_BATCH) {
        const messages = deliveryIds.slice(start, start + SEND_BATCH).map((deliveryId) => ({
          body: { tenantId: state.tenant_id, deliveryId } satisfies DeliverMessage,
          contentType: "json" as const,
        }));
        await this.queue().sendBatch(messages);
      }
    } catch (error) {
      console.error(
        JSON.stringify({ level: "error", msg: "webhook dispatch could not queue deliveries", error: String(error) }),
      );
      return { enqueued: 0, againInMs: DISPATCH_RETRY_MS };
    }
    this.db.run("UPDATE webhook_dispatch SET cursor = MAX(cursor, ?) WHERE id = 1", [page.nextCursor]);
    // The log grows with every delivery: each run that adds to it also takes a bounded bite of the old end.
    this.webhooks.deliveries.prune(now - DELIVERY_RETENTION_MS, PRUNE_PER_DISPATCH);
    return { enqueued: deliveryIds.length, againInMs: page.hasMore ? 0 : null };
  }
}
