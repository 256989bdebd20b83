import type { AttemptReport, DeliverMessage } from "../../durable-objects/tenant-object";
import { signStandardWebhook } from "../../shared/crypto/webhook-signature";
import { database } from "../db/client";
import type { TenantRow } from "../db/schema";
import { observeDelivery } from "../observability/operator-metrics";
import { childTrace, formatTraceparent } from "../observability/trace-context";
import { destinationPolicy } from "../outbound/destination-guard";
import { guardedFetch } from "../outbound/guarded-fetch";
import { TenantDirectory } from "../repository/tenants";
import { tenantObject } from "../tenant-object-stub";
import { parseRetryAfter, retryDelaySeconds } from "./retry-schedule";
import { openWebhookSecret } from "./webhook-secret";

export const DELIVERY_TIMEOUT_MS = 10_000;
/** Bytes of the receiver's answer kept in the attempt log. */
export const RECORDED_RESPONSE_BYTES = 1024;

export interface DeliverOptions {
  /** Epoch ms: signs the timestamp and decides which secrets sign (tests move it). */
  now?: () => number;
  /** In [0, 1), for the retry jitter. */
  random?: () => number;
}

/** What to do with the message: nothing more (ack), or try again after a delay. */
export type DeliveryVerdict = { done: true } | { done: false; retryInSeconds: number };

function isDeliverMessage(body: unknown): body is DeliverMessage {
  if (typeof body !== "object" || body === null) return false;
  const { tenantId, deliveryId } = body as Record<string, unknown>;
  return typeof tenantId === "string" && tenantId.length > 0 && typeof deliveryId === "string" && deliveryId.length > 0;
}

/**
 * One attempt of one delivery: the current secrets from the tenant object, the CloudEvent POSTed with
 * Standard Webhooks headers through the destination guard, the outcome recorded in the tenant object.
 * `webhook-id` is the delivery id, the same on every attempt, so receivers can drop duplicates.
 */
export async function attemptDelivery(
  env: Env,
  tenant: TenantAddress,
  message: DeliverMessage,
  queueAttempts: number,
  options: DeliverOptions = {},
): Promise<DeliveryVerdict> {
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const stub = tenantObject(env, tenant);
  const plan = await stub.webhookDeliveryPlan(tenant.id, message.deliveryId, now());
  if (plan === null) return { done: true };
  const secrets = await Promise.all(
    plan.secrets.map((sealed) => openWebhookSecret(env, tenant.id, plan.webhookId, sealed)),
  );
  const attemptedAt = now();
  const timestamp = Math.floor(attemptedAt / 1000);
  // The receiver sees the trace of the request (or job) that caused the event, when the message carries one.
  const trace = childTrace(message.traceparent);
  const headers = {
    traceparent: formatTraceparent(trace),
    "content-type": "application/json",
    "user-agent": "kgen-edge-webhooks/1",
    "webhook-id": plan.deliveryId,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": await signStandardWebhook(secrets, plan.deliveryId, timestamp, plan.body),
  };
  const started = Date.now();
  let report: AttemptReport;
  let retryAfter: number | null = null;
  try {
    const response = await guardedFetch(
      plan.url,
      { method: "POST", headers, body: plan.body },
      {
        policy: destinationPolicy(env.ENVIRONMENT),
        timeoutMs: DELIVERY_TIMEOUT_MS,
        maxResponseBytes: RECORDED_RESPONSE_BYTES,
        truncateBody: true,
        // A POST is not re-sent to wherever a redirect points: the endpoint's URL is the one that was checked.
        maxRedirects: 0,
      },
    );
    const succeeded = response.status >= 200 && response.status < 300;
    if (!succeeded) retryAfter = parseRetryAfter(response.headers.get("retry-after"), attemptedAt);
    report = {
      succeeded,
      responseStatus: response.status,
      latencyMs: Date.now() - started,
      responseBody: new TextDecoder().decode(response.body),
      error: succeeded ? null : `the endpoint answered ${response.status}`,
      attemptedAt,
    };
  } catch (error) {
    report = {
      succeeded: false,
      responseStatus: null,
      latencyMs: Date.now() - started,
      responseBody: null,
      error: error instanceof Error ? error.message : String(error),
      attemptedAt,
    };
  }
  const outcome = await stub.webhookRecordAttempt(plan.deliveryId, report);
  noteDeliveryAttempt(env, tenant.id, plan, report, outcome?.status, trace.traceId);
  if (outcome === null || outcome.status !== "pending") return { done: true };
  return { done: false, retryInSeconds: retryDelaySeconds(queueAttempts, random(), retryAfter) };
}

type TenantAddress = Pick<TenantRow, "id" | "jurisdiction">;

/** The CloudEvent type a delivery carries (its body is the event we built). */
function eventTypeOf(body: string): string {
  try {
    const type = (JSON.parse(body) as { type?: unknown }).type;
    return typeof type === "string" ? type.slice(0, 128) : "unknown";
  } catch {
    return "unknown";
  }
}

/** One log line (with the trace id) and the delivery metrics per attempt. */
function noteDeliveryAttempt(
  env: Env,
  tenantId: string,
  plan: { deliveryId: string; webhookId: string; body: string },
  report: AttemptReport,
  status: string | undefined,
  traceId: string,
): void {
  const outcome = report.succeeded ? "delivered" : status === "pending" ? "retry" : "failed";
  const eventType = eventTypeOf(plan.body);
  console.log(
    JSON.stringify({
      level: report.succeeded ? "info" : "warn",
      msg: "webhook delivery attempt",
      traceId,
      tenant: tenantId,
      webhookId: plan.webhookId,
      deliveryId: plan.deliveryId,
      eventType,
      outcome,
      responseStatus: report.responseStatus,
      latencyMs: report.latencyMs,
    }),
  );
  observeDelivery(env, {
    tenantId,
    eventType,
    outcome,
    responseStatus: report.responseStatus ?? 0,
    durationMs: report.latencyMs,
    bodyBytes: new TextEncoder().encode(plan.body).byteLength,
    traceId,
  });
}

/** How long a tenant's address (its jurisdiction, which never changes) is reused without asking D1. */
const TENANT_ADDRESS_TTL_MS = 5 * 60 * 1000;
const MAX_CACHED_TENANTS = 1000;
const tenantAddresses = new Map<string, { address: TenantAddress; until: number }>();

/**
 * The tenant object's address for a message: D1 is asked once per tenant every few minutes, not once per
 * delivery. A deleted tenant's object holds no deliveries any more, so a stale entry only finds nothing.
 */
function tenantLookup(env: Env) {
  const directory = new TenantDirectory(database(env.DB));
  return async (tenantId: string): Promise<TenantAddress | undefined> => {
    const cached = tenantAddresses.get(tenantId);
    if (cached !== undefined && cached.until > Date.now()) return cached.address;
    const row = await directory.findById(tenantId);
    if (row === undefined) return undefined;
    if (tenantAddresses.size >= MAX_CACHED_TENANTS) tenantAddresses.clear();
    const address = { id: row.id, jurisdiction: row.jurisdiction };
    tenantAddresses.set(tenantId, { address, until: Date.now() + TENANT_ADDRESS_TTL_MS });
    return address;
  };
}

/** The `kgen-deliver` consumer: each message is acked or retried on its own, with the backoff of retry-schedule.ts. */
export async function consumeDeliverBatch(
  batch: MessageBatch<unknown>,
  env: Env,
  options: DeliverOptions = {},
): Promise<void> {
  const tenantOf = tenantLookup(env);
  await Promise.all(
    batch.messages.map(async (message) => {
      const body = message.body;
      if (!isDeliverMessage(body)) {
        console.error(JSON.stringify({ level: "error", msg: "malformed deliver message dropped", id: message.id }));
        message.ack();
        return;
      }
      try {
        const tenant = await tenantOf(body.tenantId);
        const verdict: DeliveryVerdict =
          tenant === undefined ? { done: true } : await attemptDelivery(env, tenant, body, message.attempts, options);
        if (verdict.done) message.ack();
        else message.retry({ delaySeconds: verdict.retryInSeconds });
      } catch (error) {
        console.error(
          JSON.stringify({
            level: "error",
            msg: "webhook delivery failed before its attempt was recorded",
            deliveryId: body.deliveryId,
            attempts: message.attempts,
            error: String(error),
          }),
        );
        message.retry({ delaySeconds: retryDelaySeconds(message.attempts, (options.random ?? Math.random)()) });
      }
    }),
  );
}

/** The `kgen-deliver-dlq` consumer: a delivery whose retries are used up is recorded as failed. */
export async function consumeDeliverDeadLetters(
  batch: MessageBatch<unknown>,
  env: Env,
  options: DeliverOptions = {},
): Promise<void> {
  const tenantOf = tenantLookup(env);
  const now = options.now ?? Date.now;
  for (const message of batch.messages) {
    const body = message.body;
    if (isDeliverMessage(body)) {
      const tenant = await tenantOf(body.tenantId);
      if (tenant !== undefined) await tenantObject(env, tenant).webhookRecordGaveUp(body.deliveryId, now());
    }
    message.ack();
  }
}
