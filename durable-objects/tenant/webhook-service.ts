import { toCloudEvent } from "../../shared/contracts/events";
import type { WebhookDeliveryDetailView, WebhookDeliveryView, WebhookView } from "../../shared/contracts/webhooks";
import { randomId } from "../../shared/core/encoding";
import type { EncryptedSecret } from "../../shared/crypto/secret-box";
import type { SqlDatabase } from "../../shared/sql/sql-database";
import type { TracedMessage } from "../../workers/observability/trace-context";
import { HttpError } from "../../workers/problems/http-error";
import type { EventLog } from "./event-log";
import {
  type AttemptReport,
  type DeliveryListCursor,
  type DeliveryStatus,
  WebhookDeliveries,
} from "./webhook-deliveries";
import {
  type AppendWebhookEvent,
  type NewWebhook,
  type WebhookChanges,
  WebhookEndpoints,
  type WebhookListCursor,
} from "./webhook-endpoints";

/** What the `kgen-deliver` queue carries: the delivery to attempt, nothing that could go stale. */
export interface DeliverMessage extends TracedMessage {
  tenantId: string;
  deliveryId: string;
}

/** The part of the DELIVER_QUEUE binding webhooks use. */
export interface DeliverQueue {
  send(body: DeliverMessage, options?: QueueSendOptions): Promise<unknown>;
  sendBatch(messages: Iterable<MessageSendRequest<DeliverMessage>>, options?: QueueSendBatchOptions): Promise<unknown>;
}

/** A failure streak this long (every attempt failing) disables the endpoint. */
export const SUSTAINED_FAILURE_MS = 24 * 60 * 60 * 1000;
export const TEST_EVENT_TYPE = "webhook.test";

export interface Page<T, C> {
  items: T[];
  next: C | null;
}

/** One attempt to make: where, what, and the sealed secrets that sign it. */
export interface DeliveryPlan {
  deliveryId: string;
  webhookId: string;
  url: string;
  body: string;
  secrets: EncryptedSecret[];
}

export interface AttemptOutcome {
  attempt: number;
  status: DeliveryStatus;
  /** True when this attempt disabled the endpoint (410 Gone, or failing for SUSTAINED_FAILURE_MS). */
  endpointDisabled: boolean;
}

/** Subscriptions, deliveries and their attempts, inside the tenant object. */
export class WebhookService {
  readonly endpoints: WebhookEndpoints;
  readonly deliveries: WebhookDeliveries;

  constructor(
    private readonly db: SqlDatabase,
    private readonly events: EventLog,
    appendEvent: AppendWebhookEvent,
    private readonly queue: () => DeliverQueue,
  ) {
    this.endpoints = new WebhookEndpoints(db, appendEvent);
    this.deliveries = new WebhookDeliveries(db);
  }

  create(input: NewWebhook): WebhookView {
    return this.endpoints.create(input);
  }

  list(limit: number, after?: WebhookListCursor): Page<WebhookView, WebhookListCursor> {
    const rows = this.endpoints.list(limit, after);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map((row) => this.endpoints.view(row)),
      next: rows.length > limit && last !== undefined ? { createdAt: Number(last.created_at), id: last.id } : null,
    };
  }

  get(id: string): WebhookView {
    return this.endpoints.get(id);
  }

  update(tenantId: string, id: string, changes: WebhookChanges, now: number): WebhookView {
    return this.endpoints.update(tenantId, id, changes, now);
  }

  delete(id: string, now: number): void {
    this.endpoints.delete(id, now);
  }

  rotateSecret(id: string, secret: EncryptedSecret, now: number): WebhookView {
    return this.endpoints.rotateSecret(id, secret, now);
  }

  /** Queues a synthetic `webhook.test` event for one endpoint; it is not appended to the log. */
  async enqueueTest(
    tenantId: string,
    webhookId: string,
    now: number,
    traceparent?: string,
  ): Promise<{ deliveryId: string }> {
    this.requireEnabled(webhookId);
    const deliveryId = randomId("msg");
    const payload = JSON.stringify({
      ...toCloudEvent(tenantId, { id: 0, type: TEST_EVENT_TYPE, data: { webhookId }, createdAt: now }),
      id: deliveryId,
    });
    this.deliveries.createSynthetic(deliveryId, webhookId, TEST_EVENT_TYPE, payload, now);
    try {
      await this.queue().send({ tenantId, deliveryId, traceparent }, { contentType: "json" });
    } catch (error) {
      this.deliveries.remove(deliveryId);
      throw error;
    }
    return { deliveryId };
  }

  /** Another attempt of the same delivery (same id, attempts numbered on). */
  async redeliver(
    tenantId: string,
    webhookId: string,
    deliveryId: string,
    now: number,
    traceparent?: string,
  ): Promise<{ deliveryId: string }> {
    this.requireEnabled(webhookId);
    const before = this.deliveries.ofWebhook(webhookId, deliveryId);
    this.deliveries.setStatus(deliveryId, "pending", null, now);
    try {
      await this.queue().send({ tenantId, deliveryId, traceparent }, { contentType: "json" });
    } catch (error) {
      this.deliveries.setStatus(deliveryId, before.status, before.last_error, Number(before.updated_at));
      throw error;
    }
    return { deliveryId };
  }

  deliveriesOf(
    webhookId: string,
    limit: number,
    before?: DeliveryListCursor,
  ): Page<WebhookDeliveryView, DeliveryListCursor> {
    this.endpoints.row(webhookId);
    const rows = this.deliveries.list(webhookId, limit, before);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map((row) => this.deliveries.view(row)),
      next: rows.length > limit && last !== undefined ? { createdAt: Number(last.created_at), id: last.id } : null,
    };
  }

  delivery(webhookId: string, deliveryId: string): WebhookDeliveryDetailView {
    this.endpoints.row(webhookId);
    return this.deliveries.detail(this.deliveries.ofWebhook(webhookId, deliveryId));
  }

  /**
   * What the consumer sends for a delivery, or null when there is nothing to send: unknown (its webhook was
   * deleted), already delivered or given up, or its endpoint disabled (the delivery then fails).
   */
  plan(tenantId: string, deliveryId: string, now: number): DeliveryPlan | null {
    const delivery = this.deliveries.find(deliveryId);
    if (delivery === undefined || delivery.status !== "pending") return null;
    const endpoint = this.endpoints.find(delivery.webhook_id);
    if (endpoint === undefined) return null;
    if (endpoint.status === "disabled") {
      this.deliveries.setStatus(deliveryId, "failed", "the webhook is disabled", now);
      return null;
    }
    const body = delivery.payload ?? this.eventBody(tenantId, delivery.event_id);
    if (body === null) {
      this.deliveries.setStatus(deliveryId, "failed", "the event is no longer in the log", now);
      return null;
    }
    return {
      deliveryId,
      webhookId: endpoint.id,
      url: endpoint.url,
      body,
      secrets: this.endpoints.signingSecrets(endpoint, now),
    };
  }

  /** Records an attempt; disables the endpoint on 410 Gone or when every attempt has failed for a day. */
  recordAttempt(deliveryId: string, report: AttemptReport): AttemptOutcome | null {
    return this.db.transaction(() => {
      const delivery = this.deliveries.find(deliveryId);
      if (delivery === undefined) return null;
      const attempt = this.deliveries.recordAttempt(deliveryId, report);
      const { failingSince } = this.endpoints.recordOutcome(delivery.webhook_id, report.succeeded, report.attemptedAt);
      if (report.succeeded || delivery.status === "delivered") {
        return { attempt, status: "delivered", endpointDisabled: false };
      }
      let reason: string | null = null;
      if (report.responseStatus === 410) reason = "the endpoint answered 410 Gone";
      else if (failingSince !== null && report.attemptedAt - failingSince >= SUSTAINED_FAILURE_MS) {
        reason = "every delivery attempt failed for 24 hours";
      }
      if (reason === null) return { attempt, status: "pending", endpointDisabled: false };
      const disabled = this.endpoints.disable(delivery.webhook_id, reason, report.attemptedAt);
      this.deliveries.setStatus(deliveryId, "failed", `${report.error ?? "failed"}; ${reason}`, report.attemptedAt);
      return { attempt, status: "failed", endpointDisabled: disabled };
    });
  }

  /** The dead-letter queue's word: the delivery used up its retries. */
  recordGaveUp(deliveryId: string, now: number): boolean {
    const delivery = this.deliveries.find(deliveryId);
    if (delivery === undefined || delivery.status !== "pending") return false;
    const reason = `gave up after ${delivery.attempts} attempts${delivery.last_error ? `: ${delivery.last_error}` : ""}`;
    this.deliveries.setStatus(deliveryId, "failed", reason, now);
    return true;
  }

  private eventBody(tenantId: string, eventId: number | null): string | null {
    if (eventId === null) return null;
    const event = this.events.read(Number(eventId) - 1, 1).events[0];
    if (event === undefined || event.id !== Number(eventId)) return null;
    return JSON.stringify(toCloudEvent(tenantId, event));
  }

  private requireEnabled(webhookId: string): void {
    const endpoint = this.endpoints.row(webhookId);
    if (endpoint.status !== "enabled") {
      throw new HttpError(
        409,
        "webhook-disabled",
        "Webhook disabled",
        `The webhook is disabled (${endpoint.disabled_reason ?? "no reason recorded"}); enable it with PATCH first.`,
      );
    }
  }
}
