import { createExecutionContext, createMessageBatch, getQueueResult, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { describe, expect, it, vi } from "vitest";
import { sqlDatabaseFromStorage } from "../../../durable-objects/durable-object-sql-database";
import { EventLog } from "../../../durable-objects/tenant/event-log";
import { DISPATCH_RETRY_MS, WebhookDispatcher } from "../../../durable-objects/tenant/webhook-dispatcher";
import type { WebhookService } from "../../../durable-objects/tenant/webhook-service";
import type { DeliverMessage, TenantObject } from "../../../durable-objects/tenant-object";
import worker from "../../../workers/index";
import { tenantObject } from "../../../workers/tenant-object-stub";
import { attemptDelivery } from "../../../workers/webhooks/deliver-consumer";
import { RETRY_DELAYS_SECONDS } from "../../../workers/webhooks/retry-schedule";
import { bearer, call, createTenant, jsonBody, type TestTenant } from "../helpers";
import { installReceivers, type Responder } from "./receiver";
import { sealedSecret } from "./sealed-secret";

// Not restored after the tests: deliveries still queued then would go out to hosts that do not exist.
const receivers = installReceivers();

const DAY_MS = 24 * 60 * 60 * 1000;

interface Created {
  id: string;
  secret: string;
}
interface Delivery {
  id: string;
  eventId: string;
  eventType: string;
  status: string;
  attemptCount: number;
  lastError: string | null;
  attempts?: {
    attempt: number;
    succeeded: boolean;
    responseStatus: number | null;
    responseBody: string | null;
    error: string | null;
  }[];
}
interface Webhook_ {
  status: string;
  disabledReason: string | null;
}

async function subscribe(tenant: TestTenant, events: string[], responder?: Responder) {
  const receiver = receivers.add(responder);
  const res = await call("/v1/webhooks", jsonBody({ url: receiver.url, events }, tenant.apiKey));
  expect(res.status).toBe(201);
  return { ...receiver, webhook: (await res.json()) as Created };
}

const get = async <T>(tenant: TestTenant, path: string): Promise<T> => {
  const res = await call(path, { headers: bearer(tenant.apiKey) });
  expect(res.status, path).toBe(200);
  return (await res.json()) as T;
};

const deliveries = async (tenant: TestTenant, webhookId: string) =>
  (await get<{ items: Delivery[] }>(tenant, `/v1/webhooks/${webhookId}/deliveries`)).items;

const delivery = (tenant: TestTenant, webhookId: string, deliveryId: string) =>
  get<Delivery>(tenant, `/v1/webhooks/${webhookId}/deliveries/${deliveryId}`);

async function putGraph(tenant: TestTenant, name: string) {
  const res = await call(`/v1/graphs/${name}`, {
    method: "PUT",
    headers: { ...bearer(tenant.apiKey), "content-type": "application/n-triples" },
    body: `<http://e/${name}> <http://e/p> <http://e/o> .`,
  });
  expect(res.status).toBe(201);
}

async function sendTest(tenant: TestTenant, webhookId: string): Promise<string> {
  const res = await call(`/v1/webhooks/${webhookId}/test`, { method: "POST", headers: bearer(tenant.apiKey) });
  expect(res.status).toBe(202);
  return ((await res.json()) as { deliveryId: string }).deliveryId;
}

const waitFor = (assertion: () => Promise<void> | void) => vi.waitFor(assertion, { timeout: 10_000, interval: 50 });

/**
 * Runs the Worker's queue() handler on a hand-made batch: what it acked, and what it retried with which delay
 * (getQueueResult reports retried ids only, so each message's retry() is watched).
 */
async function runQueue(queue: string, messages: { id: string; attempts: number; body: DeliverMessage }[]) {
  const batch = createMessageBatch<DeliverMessage>(
    queue,
    messages.map((message) => ({ ...message, timestamp: new Date() })),
  );
  const retried: { id: string; delaySeconds: number | undefined }[] = [];
  for (const message of batch.messages) {
    const retry = message.retry.bind(message);
    message.retry = (options?: QueueRetryOptions) => {
      retried.push({ id: message.id, delaySeconds: options?.delaySeconds });
      retry(options);
    };
  }
  const ctx = createExecutionContext();
  await worker.queue(batch as MessageBatch<unknown>, env);
  const result = await getQueueResult(batch, ctx);
  expect(result.retryMessages.map((m) => m.msgId).sort()).toEqual(retried.map((r) => r.id).sort());
  return { acked: result.explicitAcks, retried };
}

const headersOf = (request: { headers: Record<string, string> }) => ({
  "webhook-id": request.headers["webhook-id"] as string,
  "webhook-timestamp": request.headers["webhook-timestamp"] as string,
  "webhook-signature": request.headers["webhook-signature"] as string,
});

describe("webhook delivery", () => {
  it("POSTs the CloudEvent with Standard Webhooks headers that the standardwebhooks package verifies", async () => {
    const tenant = await createTenant();
    const { name, webhook } = await subscribe(tenant, ["graph.*"]);
    await putGraph(tenant, "g");
    await waitFor(() => expect(receivers.received(name)).toHaveLength(1));
    const [request] = receivers.received(name);
    if (!request) throw new Error("nothing received");
    expect(request.method).toBe("POST");
    expect(request.headers["content-type"]).toBe("application/json");
    const payload = new Webhook(webhook.secret).verify(request.body, headersOf(request)) as Record<string, unknown>;
    expect(payload).toMatchObject({
      specversion: "1.0",
      source: `/tenants/${tenant.id}`,
      type: "dev.kgen.graph.version.created",
      subject: "graphs/g",
      datacontenttype: "application/json",
      data: { graph: "g", version: 1 },
    });
    // A tampered body or another secret does not verify.
    expect(() => new Webhook(webhook.secret).verify(`${request.body} `, headersOf(request))).toThrow();
    const other = await subscribe(tenant, ["job.failed"]);
    expect(() => new Webhook(other.webhook.secret).verify(request.body, headersOf(request))).toThrow();

    await waitFor(async () => expect((await deliveries(tenant, webhook.id))[0]?.status).toBe("delivered"));
    const [recorded] = await deliveries(tenant, webhook.id);
    expect(recorded).toMatchObject({ id: request.headers["webhook-id"], eventId: payload.id, attemptCount: 1 });
    const detail = await delivery(tenant, webhook.id, recorded?.id as string);
    expect(detail.attempts).toEqual([
      expect.objectContaining({ attempt: 1, succeeded: true, responseStatus: 200, responseBody: "ok", error: null }),
    ]);
  });

  it("creates exactly one delivery per matching webhook and event, none for a pattern that does not match, and none twice when dispatch repeats", async () => {
    const tenant = await createTenant();
    const graphs = await subscribe(tenant, ["dev.kgen.graph.version.created"]);
    const everything = await subscribe(tenant, ["*"]);
    const jobs = await subscribe(tenant, ["job.*"]);
    await putGraph(tenant, "a");
    await putGraph(tenant, "b");
    await waitFor(() => expect(receivers.received(graphs.name)).toHaveLength(2));
    await waitFor(() => expect(receivers.received(everything.name).length).toBeGreaterThanOrEqual(2));

    // Dispatch again from the start of the log: deliveries are unique per webhook and event.
    const stub = tenantObject(env, { id: tenant.id, jurisdiction: null });
    await runInDurableObject(stub, async (instance: TenantObject, state) => {
      state.storage.sql.exec("UPDATE webhook_dispatch SET cursor = 0");
      await instance.alarm();
    });
    const graphDeliveries = await deliveries(tenant, graphs.webhook.id);
    expect(graphDeliveries.map((d) => d.eventType)).toEqual([
      "dev.kgen.graph.version.created",
      "dev.kgen.graph.version.created",
    ]);
    expect(new Set(graphDeliveries.map((d) => d.eventId)).size).toBe(2);
    expect(await deliveries(tenant, jobs.webhook.id)).toEqual([]);
    expect(receivers.received(jobs.name)).toEqual([]);
    // `*` also sees the webhook.created events of the two endpoints made after it.
    const seen = (await deliveries(tenant, everything.webhook.id)).map((d) => d.eventType).sort();
    expect(seen).toEqual([
      "dev.kgen.graph.version.created",
      "dev.kgen.graph.version.created",
      "dev.kgen.webhook.created",
    ]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(receivers.received(graphs.name)).toHaveLength(2);
  });

  it("keeps the dispatch cursor where it was when the queue refuses the deliveries, and tries again from the alarm", async () => {
    const tenant = await createTenant();
    const { name, webhook } = await subscribe(tenant, ["job.*"]);
    const stub = tenantObject(env, { id: tenant.id, jurisdiction: null });
    const cursor = (state: DurableObjectState) =>
      Number(state.storage.sql.exec<{ cursor: number }>("SELECT cursor FROM webhook_dispatch").one().cursor);
    const outcome = await runInDurableObject(stub, async (instance: TenantObject, state) => {
      const internals = instance as unknown as { webhookDispatcher: WebhookDispatcher; webhooks: WebhookService };
      const working = internals.webhookDispatcher;
      const refusing = new WebhookDispatcher(
        sqlDatabaseFromStorage(state.storage),
        new EventLog(sqlDatabaseFromStorage(state.storage)),
        internals.webhooks,
        () => ({
          send: async () => {
            throw new Error("queue unavailable");
          },
          sendBatch: async () => {
            throw new Error("queue unavailable");
          },
        }),
      );
      const before = cursor(state);
      // Appended and dispatched without yielding to the alarm in between.
      const event = instance.appendEvent({ type: "job.failed", data: { jobId: "j1" }, createdAt: Date.now() });
      // The append's own alarm is taken away: the failed dispatch must schedule the next one itself.
      await state.storage.deleteAlarm();
      internals.webhookDispatcher = refusing;
      try {
        await instance.alarm();
      } finally {
        internals.webhookDispatcher = working;
      }
      return { before, after: cursor(state), alarm: await state.storage.getAlarm(), eventId: event.id };
    });
    expect(outcome.after).toBe(outcome.before);
    expect(outcome.alarm).not.toBeNull();
    expect(outcome.alarm as number).toBeGreaterThan(Date.now() + DISPATCH_RETRY_MS - 2_000);
    expect(outcome.alarm as number).toBeLessThanOrEqual(Date.now() + DISPATCH_RETRY_MS);
    // The delivery was recorded before the send; the retry sends it, once.
    const recorded = await deliveries(tenant, webhook.id);
    expect(recorded.map((d) => [d.eventId, d.status, d.attemptCount])).toEqual([
      [String(outcome.eventId), "pending", 0],
    ]);
    await runInDurableObject(stub, (instance: TenantObject) => instance.alarm());
    await waitFor(() => expect(receivers.received(name)).toHaveLength(1));
    await runInDurableObject(stub, async (instance: TenantObject, state) => {
      await instance.alarm();
      expect(cursor(state)).toBe(outcome.eventId);
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receivers.received(name)).toHaveLength(1);
    expect(await deliveries(tenant, webhook.id)).toHaveLength(1);
  });

  it("never sends another tenant's events to this tenant's endpoints", async () => {
    const mine = await createTenant();
    const theirs = await createTenant();
    const { name, webhook } = await subscribe(mine, ["*"]);
    const spy = await subscribe(theirs, ["graph.*"]);
    await putGraph(theirs, "secret-graph");
    await waitFor(() => expect(receivers.received(spy.name)).toHaveLength(1));
    await putGraph(mine, "own");
    await waitFor(() => expect(receivers.received(name)).toHaveLength(1));
    const body = receivers.received(name)[0]?.body as string;
    expect(body).toContain(`/tenants/${mine.id}`);
    expect(body).not.toContain("secret-graph");
    expect(body).not.toContain(theirs.id);
    expect((await deliveries(mine, webhook.id)).length).toBe(1);
  });

  it("retries a failing receiver with the documented backoff, then the dead-letter queue records the final failure", async () => {
    const tenant = await createTenant();
    const { name, webhook } = await subscribe(tenant, ["job.*"], () => new Response("nope", { status: 500 }));
    const deliveryId = await sendTest(tenant, webhook.id);
    await waitFor(async () => expect((await delivery(tenant, webhook.id, deliveryId)).attemptCount).toBe(1));
    const body = { tenantId: tenant.id, deliveryId };
    for (let attempts = 2; attempts <= RETRY_DELAYS_SECONDS.length + 1; attempts++) {
      const result = await runQueue("kgen-deliver", [{ id: `m${attempts}`, attempts, body }]);
      expect(result.acked).toEqual([]);
      const delay = result.retried[0]?.delaySeconds as number;
      const base = RETRY_DELAYS_SECONDS[Math.min(attempts, RETRY_DELAYS_SECONDS.length) - 1] as number;
      expect(delay).toBeGreaterThanOrEqual(Math.floor(base * 0.9));
      expect(delay).toBeLessThanOrEqual(Math.ceil(base * 1.1));
    }
    const attempts = RETRY_DELAYS_SECONDS.length + 1;
    expect(receivers.received(name)).toHaveLength(attempts);
    // Every attempt carries the same webhook-id.
    expect(new Set(receivers.received(name).map((r) => r.headers["webhook-id"]))).toEqual(new Set([deliveryId]));
    expect((await delivery(tenant, webhook.id, deliveryId)).status).toBe("pending");

    const dead = await runQueue("kgen-deliver-dlq", [{ id: "dead", attempts: attempts, body }]);
    expect(dead.acked).toEqual(["dead"]);
    const failed = await delivery(tenant, webhook.id, deliveryId);
    expect(failed).toMatchObject({
      status: "failed",
      attemptCount: attempts,
      lastError: `gave up after ${attempts} attempts: the endpoint answered 500`,
    });
    expect(failed.attempts?.map((a) => [a.attempt, a.succeeded, a.responseStatus, a.responseBody])).toEqual(
      Array.from({ length: attempts }, (_, i) => [i + 1, false, 500, "nope"]),
    );
    // A failed delivery is not sent again by a stray message.
    const stray = await runQueue("kgen-deliver", [{ id: "stray", attempts: 1, body }]);
    expect(stray.acked).toEqual(["stray"]);
    expect(receivers.received(name)).toHaveLength(attempts);

    // Redelivery of the failed delivery: one more attempt, numbered on, with the same id.
    receivers.respondWith(name, () => new Response("fine"));
    const again = await call(`/v1/webhooks/${webhook.id}/deliveries/${deliveryId}/redeliver`, {
      method: "POST",
      headers: bearer(tenant.apiKey),
    });
    expect(again.status).toBe(202);
    await waitFor(async () => expect((await delivery(tenant, webhook.id, deliveryId)).status).toBe("delivered"));
    expect((await delivery(tenant, webhook.id, deliveryId)).attemptCount).toBe(attempts + 1);
    expect(receivers.received(name).at(-1)?.headers["webhook-id"]).toBe(deliveryId);
  });

  it("disables the endpoint at once on 410 Gone, with a webhook.disabled event, and sends it nothing more", async () => {
    const tenant = await createTenant();
    const { name, webhook } = await subscribe(tenant, ["graph.*"], () => new Response("gone", { status: 410 }));
    await putGraph(tenant, "g");
    await waitFor(async () =>
      expect((await get<Webhook_>(tenant, `/v1/webhooks/${webhook.id}`)).status).toBe("disabled"),
    );
    expect((await get<Webhook_>(tenant, `/v1/webhooks/${webhook.id}`)).disabledReason).toBe(
      "the endpoint answered 410 Gone",
    );
    const [failed] = await deliveries(tenant, webhook.id);
    expect(failed).toMatchObject({ status: "failed", attemptCount: 1 });
    const { events } = await get<{ events: { type: string; data: Record<string, unknown> }[] }>(
      tenant,
      "/v1/events?limit=1000",
    );
    expect(events.filter((e) => e.type === "dev.kgen.webhook.disabled").map((e) => e.data)).toEqual([
      { webhookId: webhook.id, reason: "the endpoint answered 410 Gone" },
    ]);
    // No retry of that delivery, and no new delivery while disabled.
    const again = await runQueue("kgen-deliver", [
      { id: "m2", attempts: 2, body: { tenantId: tenant.id, deliveryId: failed?.id as string } },
    ]);
    expect(again.acked).toEqual(["m2"]);
    await putGraph(tenant, "h");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await deliveries(tenant, webhook.id)).toHaveLength(1);
    expect(receivers.received(name)).toHaveLength(1);
    const test = await call(`/v1/webhooks/${webhook.id}/test`, { method: "POST", headers: bearer(tenant.apiKey) });
    expect(test.status).toBe(409);
  });

  it("disables an endpoint whose every attempt has failed for 24 hours (clock injected)", async () => {
    const tenant = await createTenant();
    const { webhook } = await subscribe(tenant, ["job.*"], () => new Response("down", { status: 502 }));
    const first = await sendTest(tenant, webhook.id);
    await waitFor(async () => expect((await delivery(tenant, webhook.id, first)).attemptCount).toBe(1));
    const stub = { id: tenant.id, jurisdiction: null };
    const message = { tenantId: tenant.id, deliveryId: first };
    // Still failing 23 hours later: retried.
    const later = await attemptDelivery(env, stub, message, 2, { now: () => Date.now() + 23 * 60 * 60 * 1000 });
    expect(later.done).toBe(false);
    expect((await get<Webhook_>(tenant, `/v1/webhooks/${webhook.id}`)).status).toBe("enabled");
    // A day after the first failure, with no success since: disabled.
    const dayLater = await attemptDelivery(env, stub, message, 3, { now: () => Date.now() + DAY_MS + 1000 });
    expect(dayLater).toEqual({ done: true });
    expect(await get<Webhook_>(tenant, `/v1/webhooks/${webhook.id}`)).toMatchObject({
      status: "disabled",
      disabledReason: "every delivery attempt failed for 24 hours",
    });
    expect((await delivery(tenant, webhook.id, first)).status).toBe("failed");
  });

  it("a success ends the failure streak: the 24 hours count from the first failure after it", async () => {
    const tenant = await createTenant();
    let status = 500;
    const { webhook } = await subscribe(tenant, ["job.*"], () => new Response(null, { status }));
    const deliveryId = await sendTest(tenant, webhook.id);
    await waitFor(async () => expect((await delivery(tenant, webhook.id, deliveryId)).attemptCount).toBe(1));
    const t0 = Date.now();
    const at = (hours: number) =>
      attemptDelivery(env, { id: tenant.id, jurisdiction: null }, { tenantId: tenant.id, deliveryId }, 2, {
        now: () => t0 + hours * 60 * 60 * 1000,
      });
    const pending = () =>
      runInDurableObject(tenantObject(env, { id: tenant.id, jurisdiction: null }), (_i: TenantObject, state) => {
        state.storage.sql.exec("UPDATE webhook_delivery SET status = 'pending' WHERE id = ?", deliveryId);
      });
    status = 204;
    expect(await at(12)).toEqual({ done: true });
    status = 500;
    await pending();
    expect((await at(13)).done).toBe(false);
    // 24 hours after the first failure, but only 11 after the streak began: still enabled.
    expect((await at(24.1)).done).toBe(false);
    expect((await get<Webhook_>(tenant, `/v1/webhooks/${webhook.id}`)).status).toBe("enabled");
    expect(await at(37.1)).toEqual({ done: true });
    expect((await get<Webhook_>(tenant, `/v1/webhooks/${webhook.id}`)).status).toBe("disabled");
  });

  it("honours Retry-After, in seconds or as an HTTP date, capped at 12 hours", async () => {
    const tenant = await createTenant();
    let retryAfter = "3600";
    const { webhook } = await subscribe(
      tenant,
      ["job.*"],
      () => new Response("busy", { status: 503, headers: { "retry-after": retryAfter } }),
    );
    const deliveryId = await sendTest(tenant, webhook.id);
    await waitFor(async () => expect((await delivery(tenant, webhook.id, deliveryId)).attemptCount).toBe(1));
    const body = { tenantId: tenant.id, deliveryId };
    const seconds = await runQueue("kgen-deliver", [{ id: "a", attempts: 1, body }]);
    expect(seconds.retried).toEqual([{ id: "a", delaySeconds: 3600 }]);

    retryAfter = new Date(Date.now() + 2 * 60 * 60 * 1000).toUTCString();
    const date = await runQueue("kgen-deliver", [{ id: "b", attempts: 1, body }]);
    const delay = date.retried[0]?.delaySeconds as number;
    expect(delay).toBeGreaterThan(2 * 60 * 60 - 5);
    expect(delay).toBeLessThanOrEqual(2 * 60 * 60);

    retryAfter = "999999";
    const capped = await runQueue("kgen-deliver", [{ id: "c", attempts: 1, body }]);
    expect(capped.retried).toEqual([{ id: "c", delaySeconds: 12 * 60 * 60 }]);

    // Shorter than the schedule's own delay: the schedule wins.
    retryAfter = "1";
    const short = await runQueue("kgen-deliver", [{ id: "d", attempts: 5, body }]);
    expect(short.retried[0]?.delaySeconds).toBeGreaterThanOrEqual(3240);
  });

  it("signs with the old and the new secret for 24 hours after a rotation, then with the new one only", async () => {
    const tenant = await createTenant();
    const { name, webhook } = await subscribe(tenant, ["job.*"]);
    const rotated = await call(`/v1/webhooks/${webhook.id}/rotate-secret`, {
      method: "POST",
      headers: bearer(tenant.apiKey),
    });
    expect(rotated.status).toBe(200);
    const { secret: newSecret, previousSecretExpiresAt } = (await rotated.json()) as {
      secret: string;
      previousSecretExpiresAt: string;
    };
    expect(newSecret).toMatch(/^whsec_/);
    expect(newSecret).not.toBe(webhook.secret);
    expect(Date.parse(previousSecretExpiresAt) - Date.now()).toBeGreaterThan(DAY_MS - 60_000);

    await sendTest(tenant, webhook.id);
    await waitFor(() => expect(receivers.received(name)).toHaveLength(1));
    const during = receivers.received(name)[0] as { body: string; headers: Record<string, string> };
    expect(during.headers["webhook-signature"]?.split(" ")).toHaveLength(2);
    expect(new Webhook(webhook.secret).verify(during.body, headersOf(during))).toBeTruthy();
    expect(new Webhook(newSecret).verify(during.body, headersOf(during))).toBeTruthy();

    // The consumer's clock 24 hours and a minute on: the old secret no longer signs.
    const deliveryId = await sendTest(tenant, webhook.id);
    await waitFor(() => expect(receivers.received(name)).toHaveLength(2));
    await waitFor(async () => expect((await delivery(tenant, webhook.id, deliveryId)).status).toBe("delivered"));
    await call(`/v1/webhooks/${webhook.id}/deliveries/${deliveryId}/redeliver`, {
      method: "POST",
      headers: bearer(tenant.apiKey),
    });
    // The redelivery goes out through the queue (real clock) and once more by hand with the clock moved on.
    await waitFor(() => expect(receivers.received(name)).toHaveLength(3));
    const later = Date.now() + DAY_MS + 60_000;
    await runInDurableObject(tenantObject(env, { id: tenant.id, jurisdiction: null }), (_i: TenantObject, state) => {
      state.storage.sql.exec("UPDATE webhook_delivery SET status = 'pending' WHERE id = ?", deliveryId);
    });
    await attemptDelivery(env, { id: tenant.id, jurisdiction: null }, { tenantId: tenant.id, deliveryId }, 1, {
      now: () => later,
    });
    const after = receivers.received(name)[3] as { body: string; headers: Record<string, string> };
    const timestamp = Number(after.headers["webhook-timestamp"]);
    expect(timestamp).toBe(Math.floor(later / 1000));
    expect(after.headers["webhook-signature"]).toBe(
      new Webhook(newSecret).sign(deliveryId, new Date(timestamp * 1000), after.body),
    );

    // A rotation that happened more than 24 hours ago (its clock injected): real deliveries carry one signature.
    const third = await sealedSecret(tenant.id, webhook.id);
    await tenantObject(env, { id: tenant.id, jurisdiction: null }).webhookRotateSecret(
      webhook.id,
      third.sealed,
      Date.now() - DAY_MS - 60_000,
    );
    await sendTest(tenant, webhook.id);
    await waitFor(() => expect(receivers.received(name)).toHaveLength(5));
    const single = receivers.received(name)[4] as { body: string; headers: Record<string, string> };
    expect(new Webhook(third.secret).verify(single.body, headersOf(single))).toBeTruthy();
    expect(() => new Webhook(newSecret).verify(single.body, headersOf(single))).toThrow();
  });

  it("redelivers a delivery as a new attempt with the same webhook-id", async () => {
    const tenant = await createTenant();
    let status = 500;
    const { name, webhook } = await subscribe(tenant, ["job.*"], () => new Response("x", { status }));
    const deliveryId = await sendTest(tenant, webhook.id);
    await waitFor(async () => expect((await delivery(tenant, webhook.id, deliveryId)).attemptCount).toBe(1));
    status = 200;
    const res = await call(`/v1/webhooks/${webhook.id}/deliveries/${deliveryId}/redeliver`, {
      method: "POST",
      headers: bearer(tenant.apiKey),
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ deliveryId });
    await waitFor(async () => expect((await delivery(tenant, webhook.id, deliveryId)).status).toBe("delivered"));
    const detail = await delivery(tenant, webhook.id, deliveryId);
    expect(detail.attempts?.map((a) => [a.attempt, a.responseStatus])).toEqual([
      [1, 500],
      [2, 200],
    ]);
    const sent = receivers.received(name);
    expect(sent.map((r) => r.headers["webhook-id"])).toEqual([deliveryId, deliveryId]);
    expect(sent[0]?.body).toBe(sent[1]?.body);
    const event = JSON.parse(sent[0]?.body as string) as Record<string, unknown>;
    expect(event).toMatchObject({ id: deliveryId, type: "dev.kgen.webhook.test", data: { webhookId: webhook.id } });
    // A duplicate message that fails afterwards is recorded, but does not take the delivery back.
    const late = await tenantObject(env, { id: tenant.id, jurisdiction: null }).webhookRecordAttempt(deliveryId, {
      succeeded: false,
      responseStatus: 503,
      latencyMs: 5,
      responseBody: "",
      error: "the endpoint answered 503",
      attemptedAt: Date.now(),
    });
    expect(late).toEqual({ attempt: 3, status: "delivered", endpointDisabled: false });
    expect(await delivery(tenant, webhook.id, deliveryId)).toMatchObject({ status: "delivered", lastError: null });
    // The test event is not in the tenant's log.
    const { events } = await get<{ events: { type: string }[] }>(tenant, "/v1/events?limit=1000");
    expect(events.map((e) => e.type)).not.toContain("dev.kgen.webhook.test");
  });

  it("keeps the first 1 KiB of a response and records network errors", async () => {
    const tenant = await createTenant();
    let mode: "big" | "throw" = "big";
    const { webhook } = await subscribe(tenant, ["job.*"], () => {
      if (mode === "throw") throw new TypeError("connection refused");
      return new Response("y".repeat(10_000), { status: 500 });
    });
    const deliveryId = await sendTest(tenant, webhook.id);
    await waitFor(async () => expect((await delivery(tenant, webhook.id, deliveryId)).attemptCount).toBe(1));
    mode = "throw";
    await runQueue("kgen-deliver", [{ id: "n", attempts: 2, body: { tenantId: tenant.id, deliveryId } }]);
    const detail = await delivery(tenant, webhook.id, deliveryId);
    expect(detail.attempts?.[0]?.responseBody).toBe("y".repeat(1024));
    expect(detail.attempts?.[1]).toMatchObject({ responseStatus: null, error: "connection refused" });
  });

  it("does not follow a redirect: the 3xx answer is a failed attempt and nothing goes to its target", async () => {
    const tenant = await createTenant();
    const target = receivers.add();
    const { webhook } = await subscribe(
      tenant,
      ["job.*"],
      () => new Response(null, { status: 307, headers: { location: target.url } }),
    );
    const deliveryId = await sendTest(tenant, webhook.id);
    await waitFor(async () => expect((await delivery(tenant, webhook.id, deliveryId)).attemptCount).toBe(1));
    const detail = await delivery(tenant, webhook.id, deliveryId);
    expect(detail).toMatchObject({ status: "pending" });
    expect(detail.attempts?.[0]?.succeeded).toBe(false);
    expect(detail.attempts?.[0]?.error).toContain("redirect");
    expect(receivers.received(target.name)).toEqual([]);
  });

  it("keeps finished deliveries for 30 days: dispatch drops older ones, never a pending one", async () => {
    const tenant = await createTenant();
    const { name, webhook } = await subscribe(tenant, ["graph.*", "job.*"]);
    const old = await sendTest(tenant, webhook.id);
    await waitFor(async () => expect((await delivery(tenant, webhook.id, old)).status).toBe("delivered"));
    const stillPending = await sendTest(tenant, webhook.id);
    await waitFor(async () => expect((await delivery(tenant, webhook.id, stillPending)).status).toBe("delivered"));
    const monthAgo = Date.now() - 31 * DAY_MS;
    await runInDurableObject(tenantObject(env, { id: tenant.id, jurisdiction: null }), (_i: TenantObject, state) => {
      state.storage.sql.exec("UPDATE webhook_delivery SET created_at = ?", monthAgo);
      state.storage.sql.exec("UPDATE webhook_delivery SET status = 'pending' WHERE id = ?", stillPending);
    });
    await putGraph(tenant, "g");
    await waitFor(() => expect(receivers.received(name)).toHaveLength(3));
    const left = (await deliveries(tenant, webhook.id)).map((d) => d.id);
    expect(left).toContain(stillPending);
    expect(left).not.toContain(old);
    expect(left).toHaveLength(2);
  });

  it("gives a receiver that never answers 10 seconds, then records the timeout and retries", async () => {
    const tenant = await createTenant();
    const { webhook } = await subscribe(
      tenant,
      ["job.*"],
      (_request, signal) =>
        new Promise<Response>((_resolve, reject) => {
          signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
        }),
    );
    const started = Date.now();
    const deliveryId = await sendTest(tenant, webhook.id);
    await vi.waitFor(async () => expect((await delivery(tenant, webhook.id, deliveryId)).attemptCount).toBe(1), {
      timeout: 20_000,
      interval: 200,
    });
    const [attempt] = (await delivery(tenant, webhook.id, deliveryId)).attempts ?? [];
    expect(attempt).toMatchObject({
      succeeded: false,
      responseStatus: null,
      error: "no complete response within 10000 ms",
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(10_000);
    expect((await delivery(tenant, webhook.id, deliveryId)).status).toBe("pending");
  }, 30_000);

  it("acks malformed messages and messages of unknown tenants or deliveries without sending anything", async () => {
    const before = receivers.received("none").length;
    const result = await runQueue("kgen-deliver", [
      { id: "bad", attempts: 1, body: { nope: true } as unknown as DeliverMessage },
      { id: "tenant", attempts: 1, body: { tenantId: "tn_missing", deliveryId: "msg_x" } },
    ]);
    expect(result.acked.sort()).toEqual(["bad", "tenant"]);
    const tenant = await createTenant();
    const unknown = await runQueue("kgen-deliver", [
      { id: "delivery", attempts: 1, body: { tenantId: tenant.id, deliveryId: "msg_unknown" } },
    ]);
    expect(unknown.acked).toEqual(["delivery"]);
    expect(receivers.received("none").length).toBe(before);
  });
});
