import type { z } from "@hono/zod-openapi";
import { type TriggerAction, type TriggerFilter, triggerActionSchema } from "../../shared/contracts/triggers";
import { assertJsonTextDepth } from "../../shared/core/json-nesting";
import { verifyGithubWebhook, verifyStandardWebhook } from "../../shared/crypto/webhook-signature";
import { database } from "../db/client";
import type { JobRow, TriggerRow } from "../db/schema";
import { rateLimitedError } from "../middleware/rate-limit-headers";
import { usageFlushDelayMs } from "../middleware/request-metering";
import { requestUsageBatch } from "../middleware/request-usage-batch";
import { assertFeatureEnabled } from "../middleware/require-feature";
import { takeTenantRequest } from "../middleware/tenant-rate-limit";
import { problemFromDomainError } from "../problems/domain-problems";
import { HttpError, problemTypeUri } from "../problems/http-error";
import { JobLedger } from "../repository/jobs";
import type { LiveTenantRow } from "../repository/tenants";
import { findTriggerForDelivery, TriggerDeliveryLedger } from "../repository/triggers";
import { jobView } from "../routes/jobs/jobs.handlers";
import type { jobSchema } from "../routes/jobs/jobs.routes";
import { tenantObject } from "../tenant-object-stub";
import { filterDelivery } from "./delivery-filter";
import { DeliveryRejectedError, runTriggerAction } from "./trigger-action";
import { openTriggerSecret } from "./trigger-secret";

/** Largest delivery accepted (GitHub caps its payloads at 25 MB; a push is far smaller). */
export const HOOK_BODY_MAX_BYTES = 1024 * 1024;
/** The route class deliveries are counted under in the tenant's usage. */
export const HOOK_ROUTE_CLASS = "post:hooks";

const TRIGGER_ID = /^trg_[a-z2-7]{26}$/;
/** GitHub's delivery GUIDs, Standard Webhooks' `msg_…` ids and the like. */
const DELIVERY_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const COMMIT_SHA = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

/**
 * The one answer for an unknown trigger and for a signature that does not verify, so the answer
 * never tells whether an id exists.
 */
export function invalidDelivery(): HttpError {
  return new HttpError(401, "invalid-signature", "Unauthorized", "The delivery is not signed for this URL.");
}

export interface HookDelivery {
  triggerId: string;
  headers: Headers;
  body: Uint8Array<ArrayBuffer>;
  nowMs: number;
  /** Runs work after the answer (events of refused deliveries). */
  waitUntil: (promise: Promise<unknown>) => void;
  /** The delivery request's trace, carried by the job it starts. */
  traceparent?: string;
}

export interface DeliveryAnswer {
  status: 200 | 202;
  body: {
    deliveryId: string;
    job: z.infer<typeof jobSchema> | null;
    reason?: string;
    graph?: { graph: string; version: number; created: boolean };
  };
}

type VerifiedDelivery = { deliveryId: string | null; event?: string; text: string | null };

function decodeText(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return null;
  }
}

async function verifySignature(
  env: Env,
  trigger: TriggerRow,
  delivery: HookDelivery,
): Promise<VerifiedDelivery | null> {
  const secret = await openTriggerSecret(env, trigger.tenantId, trigger.id, trigger.encryptedSecret);
  const { headers, body } = delivery;
  if (trigger.verify === "github") {
    const verified = await verifyGithubWebhook(secret, headers.get("x-hub-signature-256"), body);
    if (!verified.ok) return null;
    return {
      deliveryId: headers.get("x-github-delivery"),
      event: headers.get("x-github-event") ?? undefined,
      text: decodeText(body),
    };
  }
  const text = decodeText(body);
  if (text === null) return null;
  const verified = await verifyStandardWebhook(
    secret,
    {
      id: headers.get("webhook-id"),
      timestamp: headers.get("webhook-timestamp"),
      signature: headers.get("webhook-signature"),
    },
    text,
    Math.floor(delivery.nowMs / 1000),
  );
  return verified.ok ? { deliveryId: headers.get("webhook-id"), text } : null;
}

function parsePayload(text: string | null): unknown {
  if (text === null) throw new DeliveryRejectedError("the payload is not UTF-8 text");
  assertJsonTextDepth(text, "payload");
  try {
    return JSON.parse(text);
  } catch {
    throw new DeliveryRejectedError("the payload is not JSON (send it as application/json)");
  }
}

const stringField = (payload: unknown, field: string): string | undefined => {
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) return undefined;
  const value = (payload as Record<string, unknown>)[field];
  return typeof value === "string" ? value : undefined;
};

/** Why a verified delivery failed, in words for its sender, or undefined for an unexpected failure. */
function rejectionOf(error: unknown): { reason: string; cause?: string } | undefined {
  if (error instanceof DeliveryRejectedError) return { reason: error.reason };
  const problem = error instanceof HttpError ? error : problemFromDomainError(error);
  if (problem && problem.status < 500) return { reason: problem.message, cause: problemTypeUri(problem.type) };
  return undefined;
}

async function appendTriggerEvent(
  env: Env,
  tenant: LiveTenantRow,
  type: "trigger.received" | "trigger.rejected",
  data: Record<string, string | null>,
  nowMs: number,
  idempotencyKey?: string,
): Promise<void> {
  try {
    await tenantObject(env, tenant).appendEvent({ type, data, createdAt: nowMs, idempotencyKey });
  } catch (error) {
    console.error(JSON.stringify({ level: "error", msg: "trigger event not appended", type, error: String(error) }));
  }
}

/**
 * `POST /v1/hooks/{id}`: the signature is the credential. Verified deliveries take a token from the
 * tenant's request bucket, pass the trigger's filter, claim their delivery id (a repeat answers the
 * first one's job) and run the trigger's action; each outcome is appended to the tenant's events.
 */
export async function receiveDelivery(env: Env, delivery: HookDelivery): Promise<DeliveryAnswer> {
  const db = database(env.DB);
  const found = TRIGGER_ID.test(delivery.triggerId) ? await findTriggerForDelivery(db, delivery.triggerId) : undefined;
  if (!found) throw invalidDelivery();
  const { trigger, tenant } = found;
  const verified = await verifySignature(env, trigger, delivery);
  if (!verified) {
    // At most one such event per trigger and minute: a flood of forged deliveries cannot flood the log.
    const minute = Math.floor(delivery.nowMs / 60_000);
    delivery.waitUntil(
      appendTriggerEvent(
        env,
        tenant,
        "trigger.rejected",
        { triggerId: trigger.id, reason: "the signature does not verify" },
        delivery.nowMs,
        `trigger:${trigger.id}:invalid-signature:${minute}`,
      ),
    );
    throw invalidDelivery();
  }
  if (tenant.status === "suspended")
    throw new HttpError(403, "tenant-suspended", "Forbidden", "This tenant is suspended.");
  // Checked after the signature, so an unsigned request learns nothing about the trigger.
  assertFeatureEnabled(tenant, "triggers");
  const decision = await takeTenantRequest(env, tenant, delivery.nowMs);
  if (!decision.allowed) throw rateLimitedError(decision);
  let status = 500;
  try {
    const answer = await runVerifiedDelivery(env, trigger, tenant, verified, delivery);
    status = answer.status;
    return answer;
  } catch (error) {
    status = (error instanceof HttpError ? error : problemFromDomainError(error))?.status ?? 500;
    throw error;
  } finally {
    // Metered like an API request: in the isolate's batch, written after the answer.
    requestUsageBatch.add(tenant, HOOK_ROUTE_CLASS, status, delivery.nowMs);
    requestUsageBatch.scheduleFlush(env, delivery, usageFlushDelayMs(env), Date.now);
  }
}

async function runVerifiedDelivery(
  env: Env,
  trigger: TriggerRow,
  tenant: LiveTenantRow,
  verified: VerifiedDelivery,
  delivery: HookDelivery,
): Promise<DeliveryAnswer> {
  const db = database(env.DB);
  const reject = async (reason: string, deliveryId: string | null, cause?: string): Promise<never> => {
    await appendTriggerEvent(
      env,
      tenant,
      "trigger.rejected",
      { triggerId: trigger.id, deliveryId, reason },
      delivery.nowMs,
    );
    throw new HttpError(422, "delivery-rejected", "Delivery rejected", reason, {
      extensions: { reason, ...(cause ? { cause } : {}) },
    });
  };

  const deliveryId = verified.deliveryId;
  if (deliveryId === null || !DELIVERY_ID.test(deliveryId)) {
    return reject(
      `the delivery id header (${trigger.verify === "github" ? "X-GitHub-Delivery" : "webhook-id"}) is missing or not 1-128 of A-Z a-z 0-9 . _ : -`,
      null,
    );
  }
  let payload: unknown;
  try {
    payload = parsePayload(verified.text);
  } catch (error) {
    const rejection = rejectionOf(error);
    if (!rejection) throw error;
    return reject(rejection.reason, deliveryId, rejection.cause);
  }

  if (trigger.verify === "github" && verified.event === "ping") {
    return { status: 200, body: { deliveryId, job: null, reason: "ping: the webhook reaches this trigger" } };
  }
  const event = trigger.verify === "github" ? verified.event : stringField(payload, "type");
  const decisionOfFilter = filterDelivery(trigger.verify, trigger.filter as TriggerFilter | null, {
    event,
    ref: stringField(payload, "ref"),
  });
  if (!decisionOfFilter.accepted)
    return { status: 202, body: { deliveryId, job: null, reason: decisionOfFilter.reason } };

  const ledger = new TriggerDeliveryLedger(db, trigger);
  const claim = await ledger.claim(deliveryId, delivery.nowMs);
  if (!claim.claimed) {
    if (claim.existing.completedAt === null) {
      throw new HttpError(409, "delivery-in-progress", "Conflict", "This delivery is being processed; retry later.", {
        headers: { "Retry-After": "10" },
      });
    }
    const job = claim.existing.jobId ? await new JobLedger(db, tenant.id).find(claim.existing.jobId) : undefined;
    return { status: 200, body: { deliveryId, job: job ? jobView(job) : null } };
  }

  const after = trigger.verify === "github" ? stringField(payload, "after") : undefined;
  const commit = after !== undefined && COMMIT_SHA.test(after) ? after : undefined;
  let outcome: { job: JobRow | null; graphVersion?: { graph: string; version: number; created: boolean } };
  try {
    const action = triggerActionSchema.parse(trigger.action) as TriggerAction;
    outcome = await runTriggerAction(env, tenant, action, payload, {
      deliveryId,
      ...(commit ? { commit } : {}),
      traceparent: delivery.traceparent,
    });
  } catch (error) {
    await ledger.release(deliveryId);
    const rejection = rejectionOf(error);
    if (!rejection) {
      await appendTriggerEvent(
        env,
        tenant,
        "trigger.rejected",
        { triggerId: trigger.id, deliveryId, reason: "internal error" },
        delivery.nowMs,
      );
      throw error;
    }
    return reject(rejection.reason, deliveryId, rejection.cause);
  }
  const jobId = outcome.job?.id ?? null;
  await ledger.complete(deliveryId, jobId, delivery.nowMs);
  await appendTriggerEvent(
    env,
    tenant,
    "trigger.received",
    {
      triggerId: trigger.id,
      deliveryId,
      jobId,
      ...(event !== undefined ? { event } : {}),
      ...(commit !== undefined ? { commit } : {}),
    },
    delivery.nowMs,
  );
  return {
    status: 202,
    body: {
      deliveryId,
      job: outcome.job ? jobView(outcome.job) : null,
      ...(outcome.graphVersion ? { graph: outcome.graphVersion } : {}),
    },
  };
}
