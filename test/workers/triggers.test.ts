import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it, vi } from "vitest";
import { canonicalSha256 } from "../../shared/core/canonical-json";
import { bytesToHex, utf8 } from "../../shared/core/encoding";
import { app } from "../../workers/app";
import { runScheduledMaintenance } from "../../workers/scheduled";
import pushText from "../fixtures/github/push.json?raw";
import {
  ADMIN_TOKEN,
  BASE,
  bearer,
  call,
  createKey,
  createTenant,
  expectProblem,
  jsonBody,
  type TestTenant,
} from "./helpers";
import { settledJob } from "./job-helpers";

const PUSH = JSON.parse(pushText) as { after: string; ref: string; repository: { full_name: string } };

const MODEL = `@prefix ex: <http://example.org/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ex:Order a ex:Entity ; rdfs:label "order" .
`;
const SYNCED_MODEL = `@prefix ex: <http://example.org/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ex:Order a ex:Entity ; rdfs:label "order" .
ex:Customer a ex:Entity ; rdfs:label "customer" .
`;
const TEMPLATE = `---
to: "build/{{ repo }}.txt"
sparql: "PREFIX ex: <http://example.org/> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> SELECT ?name WHERE { ?e a ex:Entity ; rdfs:label ?name } ORDER BY ?name"
---
{{ repo }} at {{ kgenCommit }} (delivery {{ kgenDeliveryId }}): {% for r in rows %}[{{ r.name }}]{% endfor %}
`;

type Job = { id: string; status: string; lock: { paramsHash: string } };
type Answer = { deliveryId: string; job: Job | null; reason?: string; graph?: { graph: string; version: number } };
type Trigger = { id: string; name: string; url: string; secret: string; verify: string; action: unknown };
type Event = { id: number; type: string; data: Record<string, unknown> };

async function setupTenant(plan = "standard"): Promise<TestTenant> {
  const tenant = await createTenant({ plan });
  const graph = await call("/v1/graphs/model", {
    method: "PUT",
    headers: { ...bearer(tenant.apiKey), "content-type": "text/turtle" },
    body: MODEL,
  });
  expect(graph.status).toBe(201);
  const template = await call("/v1/templates/site/info.njk", {
    method: "PUT",
    headers: { ...bearer(tenant.apiKey), "content-type": "text/plain" },
    body: TEMPLATE,
  });
  expect(template.status, await template.clone().text()).toBeLessThan(300);
  return tenant;
}

async function createTrigger(tenant: TestTenant, body: Record<string, unknown>): Promise<Trigger> {
  const res = await call("/v1/triggers", jsonBody(body, tenant.apiKey));
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as Trigger;
}

const githubTrigger = (tenant: TestTenant, extra: Record<string, unknown> = {}) =>
  createTrigger(tenant, {
    name: "shop-model pushes",
    verify: "github",
    action: { generator: "site", graph: "model", params: { repo: "/repository/name" } },
    filter: { events: ["push"], ref: "refs/heads/main" },
    ...extra,
  });

/** HMAC-SHA256 of the raw bytes, hex, as GitHub computes X-Hub-Signature-256 (independently of the code under test). */
async function githubSignature(secret: string, body: Uint8Array): Promise<string> {
  const key = await crypto.subtle.importKey("raw", utf8(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return `sha256=${bytesToHex(new Uint8Array(await crypto.subtle.sign("HMAC", key, body as Uint8Array<ArrayBuffer>)))}`;
}

async function deliverGithub(
  trigger: Pick<Trigger, "id" | "secret">,
  options: { body?: string; event?: string; delivery?: string; secret?: string; headers?: Record<string, string> } = {},
) {
  const body = utf8(options.body ?? pushText);
  return call(`/v1/hooks/${trigger.id}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "user-agent": "GitHub-Hookshot/6a2b1c0",
      "x-github-event": options.event ?? "push",
      "x-github-delivery": options.delivery ?? crypto.randomUUID(),
      "x-github-hook-id": "512345678",
      "x-hub-signature-256": await githubSignature(options.secret ?? trigger.secret, body),
      ...options.headers,
    },
    body,
  });
}

function deliverStandard(trigger: Trigger, payload: unknown, options: { id?: string; timestamp?: Date } = {}) {
  const body = JSON.stringify(payload);
  const id = options.id ?? `msg_${crypto.randomUUID().replaceAll("-", "")}`;
  const timestamp = options.timestamp ?? new Date();
  return call(`/v1/hooks/${trigger.id}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(timestamp.getTime() / 1000)),
      "webhook-signature": new Webhook(trigger.secret).sign(id, timestamp, body),
    },
    body,
  });
}

async function jobParams(jobId: string): Promise<Record<string, unknown>> {
  const row = await env.DB.prepare("SELECT params FROM jobs WHERE id = ?").bind(jobId).first<{ params: string }>();
  return JSON.parse(row?.params ?? "null");
}

async function jobIds(tenant: TestTenant): Promise<string[]> {
  const page = (await (await call("/v1/jobs", { headers: bearer(tenant.apiKey) })).json()) as { items: Job[] };
  return page.items.map((job) => job.id);
}

/** Jobs in D1, read without the API (whose requests would take tokens from the tenant's bucket). */
async function storedJobCount(tenant: TestTenant): Promise<number> {
  const row = await env.DB.prepare("SELECT count(*) AS n FROM jobs WHERE tenant_id = ?")
    .bind(tenant.id)
    .first<{ n: number }>();
  return Number(row?.n);
}

/** The tenant's events whose type starts with the prefix, with types as logged (without `dev.kgen.`). */
async function events(tenant: TestTenant, prefix = "trigger."): Promise<Event[]> {
  const page = (await (await call("/v1/events?limit=1000", { headers: bearer(tenant.apiKey) })).json()) as {
    events: Event[];
  };
  return page.events
    .map((event) => ({ ...event, type: event.type.replace(/^dev\.kgen\./, "") }))
    .filter((event) => event.type.startsWith(prefix));
}

async function artifactText(tenant: TestTenant, jobId: string, path = "build/shop-model.txt"): Promise<string> {
  const page = (await (await call(`/v1/jobs/${jobId}/artifacts`, { headers: bearer(tenant.apiKey) })).json()) as {
    items: { id: string; path: string }[];
  };
  const [artifact] = page.items;
  expect(artifact?.path).toBe(path);
  return (await call(`/v1/artifacts/${artifact?.id}`, { headers: bearer(tenant.apiKey) })).text();
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("triggers: the resource", () => {
  it("creates a trigger with its hook URL and a secret shown once, lists, reads and deletes it", async () => {
    const tenant = await setupTenant();
    const res = await call(
      "/v1/triggers",
      jsonBody(
        {
          name: "shop-model pushes",
          verify: "github",
          action: { generator: "site", graph: "model", params: { repo: "/repository/name" } },
          filter: { events: ["push"], ref: "refs/heads/main" },
        },
        tenant.apiKey,
      ),
    );
    expect(res.status).toBe(201);
    const created = (await res.json()) as Trigger & { createdAt: string; filter: unknown };
    expect(created.id).toMatch(/^trg_[a-z2-7]{26}$/);
    expect(created.url).toBe(`http://kgen.test/v1/hooks/${created.id}`);
    expect(res.headers.get("location")).toBe(`/v1/triggers/${created.id}`);
    expect(created.secret.length).toBeGreaterThanOrEqual(43);
    expect(created.filter).toEqual({ events: ["push"], ref: "refs/heads/main" });

    const standard = await createTrigger(tenant, {
      name: "standard",
      verify: "standard-webhooks",
      action: { generator: "site", graph: "model" },
    });
    expect(standard.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);

    // The secret is never shown again, nor stored in the clear.
    const fetched = await call(`/v1/triggers/${created.id}`, { headers: bearer(tenant.apiKey) });
    expect(fetched.status).toBe(200);
    const view = (await fetched.json()) as Record<string, unknown>;
    expect(view).not.toHaveProperty("secret");
    expect(view).toEqual({ ...created, secret: undefined });
    const stored = await env.DB.prepare("SELECT encrypted_secret FROM triggers WHERE id = ?")
      .bind(created.id)
      .first<{ encrypted_secret: string }>();
    expect(stored?.encrypted_secret).not.toContain(created.secret);
    expect(JSON.parse(stored?.encrypted_secret ?? "{}")).toMatchObject({ alg: "A256GCM" });

    const first = (await (await call("/v1/triggers?limit=1", { headers: bearer(tenant.apiKey) })).json()) as {
      items: Trigger[];
      nextCursor: string;
    };
    expect(first.items.map((t) => t.id)).toEqual([created.id]);
    const second = (await (
      await call(`/v1/triggers?limit=1&cursor=${first.nextCursor}`, { headers: bearer(tenant.apiKey) })
    ).json()) as { items: Trigger[]; nextCursor: string | null };
    expect(second.items.map((t) => t.id)).toEqual([standard.id]);
    expect(second.nextCursor).toBeNull();

    const deleted = await call(`/v1/triggers/${created.id}`, { method: "DELETE", headers: bearer(tenant.apiKey) });
    expect(deleted.status).toBe(204);
    await expectProblem(await call(`/v1/triggers/${created.id}`, { headers: bearer(tenant.apiKey) }), 404, "not-found");
    // Its URL is dead: the same 401 as for an id that never existed.
    await expectProblem(await deliverGithub(created), 401, "invalid-signature");

    const log = await events(tenant);
    expect(log.map((event) => [event.type, event.data.triggerId])).toEqual([
      ["trigger.created", created.id],
      ["trigger.created", standard.id],
      ["trigger.deleted", created.id],
    ]);
  });

  it("answers 400 for a malformed body, 422 naming the action's fields, 409 for a taken name", async () => {
    const tenant = await setupTenant();
    const valid = { name: "t", verify: "github", action: { generator: "site", graph: "model" } };
    const badBodies: [Record<string, unknown>, string][] = [
      [{ ...valid, name: "" }, "name"],
      [{ ...valid, verify: "gitlab" }, "verify"],
      [{ ...valid, filter: { branches: ["main"] } }, "filter"],
      [{ ...valid, filter: { events: [] } }, "filter.events"],
      [{ ...valid, extra: 1 }, "body"],
      [{ name: "t", verify: "github" }, "action"],
      [{ ...valid, action: "generate" }, "action"],
    ];
    for (const [body, field] of badBodies) {
      const problem = await expectProblem(
        await call("/v1/triggers", jsonBody(body, tenant.apiKey)),
        400,
        "validation-error",
      );
      const fields = (problem.errors as { field: string }[]).map((error) => error.field);
      expect(fields.some((f) => f.startsWith(field)) || field === "body", `${JSON.stringify(body)}: ${fields}`).toBe(
        true,
      );
    }

    const badActions: [unknown, string][] = [
      [{ generator: "site", graph: "model", params: { repo: "repository/name" } }, "action.params.repo"],
      [{ generator: "site", graph: "model", params: { kgenCommit: "/after" } }, "action.params.kgenCommit"],
      [{ generator: "Site!", graph: "model" }, "action.generator"],
      [{ generator: "site" }, "action.graph"],
      [{ generator: "site", graph: "model", rerun: true }, "action"],
      [
        {
          syncGraph: {
            graph: "model",
            urlTemplate: "https://{repository.owner.login}.example.com/x",
            format: "text/turtle",
          },
        },
        "action.syncGraph.urlTemplate",
      ],
      [
        { syncGraph: { graph: "model", urlTemplate: "https://h.example/m.ttl", format: "text/csv" } },
        "action.syncGraph.format",
      ],
      [{ syncGraph: { graph: "model", format: "text/turtle" } }, "action.syncGraph.urlTemplate"],
    ];
    for (const [action, field] of badActions) {
      const problem = await expectProblem(
        await call("/v1/triggers", jsonBody({ ...valid, action }, tenant.apiKey)),
        422,
        "invalid-trigger-action",
      );
      expect(
        (problem.errors as { field: string }[]).map((error) => error.field),
        JSON.stringify(action),
      ).toContain(field);
    }

    // A template whose fixed part is unsafe is refused at once.
    await expectProblem(
      await call(
        "/v1/triggers",
        jsonBody(
          {
            ...valid,
            action: { syncGraph: { graph: "m", urlTemplate: "https://10.0.0.1/{after}", format: "text/turtle" } },
          },
          tenant.apiKey,
        ),
      ),
      422,
      "unsafe-destination",
    );
    await expectProblem(
      await call("/v1/triggers", { method: "POST", headers: bearer(tenant.apiKey), body: "name=t" }),
      415,
      "unsupported-media-type",
    );
    await expectProblem(
      await call("/v1/triggers", {
        method: "POST",
        headers: { ...bearer(tenant.apiKey), "content-type": "application/json" },
        body: "{",
      }),
      400,
      "validation-error",
    );

    await createTrigger(tenant, valid);
    await expectProblem(await call("/v1/triggers", jsonBody(valid, tenant.apiKey)), 409, "conflict");

    await expectProblem(
      await call("/v1/triggers?limit=0", { headers: bearer(tenant.apiKey) }),
      400,
      "validation-error",
    );
    await expectProblem(
      await call("/v1/triggers?cursor=not-a-cursor", { headers: bearer(tenant.apiKey) }),
      400,
      "validation-error",
    );
    await expectProblem(await call("/v1/triggers/trg_nope", { headers: bearer(tenant.apiKey) }), 404, "not-found");
    await expectProblem(
      await call("/v1/triggers/trg_nope", { method: "DELETE", headers: bearer(tenant.apiKey) }),
      404,
      "not-found",
    );
    await expectProblem(
      await call(`/v1/triggers/${"x".repeat(65)}`, { headers: bearer(tenant.apiKey) }),
      400,
      "validation-error",
    );
  });

  it("needs the admin role and a credential", async () => {
    const tenant = await setupTenant();
    const editor = await createKey(tenant, "editor");
    const body = { name: "t", verify: "github", action: { generator: "site", graph: "model" } };
    await expectProblem(await call("/v1/triggers", jsonBody(body, editor.secret)), 403, "insufficient-role");
    await expectProblem(await call("/v1/triggers", { headers: bearer(editor.secret) }), 403, "insufficient-role");
    await expectProblem(await call("/v1/triggers", jsonBody(body)), 401, "unauthorized");
    const admin = await createKey(tenant, "admin");
    expect((await call("/v1/triggers", jsonBody(body, admin.secret))).status).toBe(201);
  });

  it("caps the triggers of a tenant", async () => {
    const tenant = await setupTenant();
    const action = { generator: "site", graph: "model" };
    for (let i = 0; i < 25; i++) await createTrigger(tenant, { name: `t${i}`, verify: "github", action });
    const problem = await expectProblem(
      await call("/v1/triggers", jsonBody({ name: "one too many", verify: "github", action }, tenant.apiKey)),
      403,
      "quota-exceeded",
    );
    expect(problem).toMatchObject({ counter: "triggers", limit: 25, used: 25 });
  });

  it("keeps tenants apart: another tenant's trigger is 404 and never listed", async () => {
    const a = await setupTenant();
    const b = await setupTenant();
    const trigger = await githubTrigger(b);
    for (const init of [{}, { method: "DELETE" }]) {
      await expectProblem(
        await call(`/v1/triggers/${trigger.id}`, { ...init, headers: bearer(a.apiKey) }),
        404,
        "not-found",
      );
    }
    const listed = await (await call("/v1/triggers", { headers: bearer(a.apiKey) })).text();
    expect(listed).not.toContain(trigger.id);
    expect((await call(`/v1/triggers/${trigger.id}`, { headers: bearer(b.apiKey) })).status).toBe(200);
    // B's hook still starts B's jobs only.
    expect((await deliverGithub(trigger)).status).toBe(202);
    expect(await jobIds(a)).toEqual([]);
    expect(await jobIds(b)).toHaveLength(1);
  });
});

describe("POST /v1/hooks/{id}: GitHub", () => {
  it("starts a job for a signed push whose params carry the delivery id and the commit", async () => {
    const tenant = await setupTenant();
    const trigger = await githubTrigger(tenant);
    const delivery = "72d3162e-cc78-11e3-81ab-4c9367dc0958";
    const res = await deliverGithub(trigger, { delivery });
    expect(res.status).toBe(202);
    const answer = (await res.json()) as Answer;
    expect(answer.deliveryId).toBe(delivery);
    expect(answer.job?.status).toBe("queued");
    const jobId = answer.job?.id as string;
    expect((await settledJob(tenant.apiKey, jobId)).status).toBe("completed");

    const params = { repo: "shop-model", kgenDeliveryId: delivery, kgenCommit: PUSH.after };
    expect(await jobParams(jobId)).toEqual(params);
    // The lock, and so every attestation, pins exactly these params.
    expect(answer.job?.lock.paramsHash).toBe(await canonicalSha256(params));
    expect((await artifactText(tenant, jobId)).trimEnd()).toBe(
      `shop-model at ${PUSH.after} (delivery ${delivery}): [order]`,
    );

    // Metered like an API request, under its own route class.
    await vi.waitFor(async () => {
      const usage = (await (await call("/v1/usage", { headers: bearer(tenant.apiKey) })).json()) as {
        requests: { routeClass: string; requests: number }[];
      };
      expect(usage.requests.find((row) => row.routeClass === "post:hooks")?.requests).toBe(1);
    });

    const [received] = await events(tenant, "trigger.received");
    expect(received?.data).toEqual({
      triggerId: trigger.id,
      deliveryId: delivery,
      jobId,
      event: "push",
      commit: PUSH.after,
    });
  });

  it("answers a repeated delivery with the job it already started, and concurrent repeats start one job", async () => {
    const tenant = await setupTenant();
    const trigger = await githubTrigger(tenant);
    const first = (await (await deliverGithub(trigger, { delivery: "d-1" })).json()) as Answer;
    const again = await deliverGithub(trigger, { delivery: "d-1" });
    expect(again.status).toBe(200);
    expect(((await again.json()) as Answer).job?.id).toBe(first.job?.id);

    const racing = await Promise.all([1, 2, 3].map(() => deliverGithub(trigger, { delivery: "d-2" })));
    const statuses = racing.map((res) => res.status).sort();
    expect(statuses.filter((status) => status === 202)).toHaveLength(1);
    for (const status of statuses) expect([200, 202, 409]).toContain(status);
    expect(await jobIds(tenant)).toHaveLength(2);
    expect((await events(tenant, "trigger.received")).map((event) => event.data.deliveryId)).toEqual(["d-1", "d-2"]);
  });

  it("starts nothing for a ping, another event or another branch", async () => {
    const tenant = await setupTenant();
    const trigger = await githubTrigger(tenant);
    const ping = await deliverGithub(trigger, {
      event: "ping",
      body: JSON.stringify({ zen: "Keep it logically awesome.", hook_id: 512345678 }),
    });
    expect(ping.status).toBe(200);
    expect(await ping.json()).toMatchObject({ job: null, reason: expect.stringContaining("ping") });

    const issue = await deliverGithub(trigger, { event: "issues" });
    expect(issue.status).toBe(202);
    expect(await issue.json()).toMatchObject({ job: null, reason: 'event "issues" is not one of push' });

    const dev = await deliverGithub(trigger, { body: pushText.replace('"refs/heads/main"', '"refs/heads/dev"') });
    expect(dev.status).toBe(202);
    expect(await dev.json()).toMatchObject({ job: null, reason: 'ref "refs/heads/dev" is not refs/heads/main' });
    expect(await jobIds(tenant)).toEqual([]);
  });

  it("acts on push only when the filter names no events", async () => {
    const tenant = await setupTenant();
    const trigger = await githubTrigger(tenant, { name: "no filter", filter: undefined });
    expect(((await (await deliverGithub(trigger, { event: "release" })).json()) as Answer).job).toBeNull();
    expect((await deliverGithub(trigger)).status).toBe(202);
  });

  it("answers a bad signature and an unknown id with the same 401", async () => {
    const tenant = await setupTenant();
    const trigger = await githubTrigger(tenant);
    const headers = { "x-request-id": "same-request-id" };
    const bad = await deliverGithub(trigger, { secret: "not the secret", headers });
    const unknown = await deliverGithub({ id: "trg_aaaaaaaaaaaaaaaaaaaaaaaaaa", secret: "x" }, { headers });
    const malformed = await deliverGithub({ id: "nope", secret: "x" }, { headers });
    const unsigned = await call(`/v1/hooks/${trigger.id}`, { method: "POST", headers, body: pushText });
    const bodies = [];
    for (const res of [bad, unknown, malformed, unsigned]) {
      const problem = await expectProblem(res, 401, "invalid-signature");
      const { instance, ...rest } = problem;
      expect(instance).toBe(new URL(res.url || `http://kgen.test${instance}`).pathname);
      bodies.push(rest);
      expect([...res.headers.keys()].sort()).toEqual([...bad.headers.keys()].sort());
    }
    for (const body of bodies) expect(body).toEqual(bodies[0]);
    expect(await jobIds(tenant)).toEqual([]);
    // The tenant sees that someone failed to sign for its trigger (at most once a minute).
    const rejected = await events(tenant, "trigger.rejected");
    expect(rejected.map((event) => event.data)).toEqual([
      { triggerId: trigger.id, reason: "the signature does not verify" },
    ]);
  });

  it("refuses a body over 1 MiB with 413, declared or streamed", async () => {
    const tenant = await setupTenant();
    const trigger = await githubTrigger(tenant);
    const big = JSON.stringify({ ...PUSH, padding: "x".repeat(1024 * 1024) });
    await expectProblem(await deliverGithub(trigger, { body: big }), 413, "payload-too-large");
    const streamed = new ReadableStream({
      start(controller) {
        controller.enqueue(utf8(big));
        controller.close();
      },
    });
    await expectProblem(
      await call(`/v1/hooks/${trigger.id}`, { method: "POST", body: streamed, duplex: "half" } as RequestInit),
      413,
      "payload-too-large",
    );
  });

  it("rejects a delivery whose param pointer is missing from the payload, with trigger.rejected", async () => {
    const tenant = await setupTenant();
    const trigger = await githubTrigger(tenant, {
      action: { generator: "site", graph: "model", params: { repo: "/repository/topics/0" } },
    });
    const problem = await expectProblem(
      await deliverGithub(trigger, { delivery: "d-missing" }),
      422,
      "delivery-rejected",
    );
    expect(problem.reason).toBe("params.repo: /repository/topics/0 is not in the payload");
    expect(await jobIds(tenant)).toEqual([]);
    expect((await events(tenant, "trigger.rejected")).map((event) => event.data)).toEqual([
      { triggerId: trigger.id, deliveryId: "d-missing", reason: problem.reason },
    ]);
    // The claim was given up: a redelivery is tried afresh (and rejected again), not answered as done.
    expect((await deliverGithub(trigger, { delivery: "d-missing" })).status).toBe(422);
  });

  it("rejects a payload that is not JSON, and a generator that does not exist", async () => {
    const tenant = await setupTenant();
    const trigger = await githubTrigger(tenant);
    const form = await deliverGithub(trigger, { body: `payload=${encodeURIComponent(pushText)}` });
    expect((await expectProblem(form, 422, "delivery-rejected")).reason).toContain("not JSON");
    const missing = await githubTrigger(tenant, { name: "missing", action: { generator: "nope", graph: "model" } });
    const problem = await expectProblem(await deliverGithub(missing), 422, "delivery-rejected");
    expect(problem.cause).toBe("https://kgen.dev/problems/not-found");
  });
});

describe("POST /v1/hooks/{id}: Standard Webhooks", () => {
  it("starts a job for a signed delivery and refuses a stale timestamp", async () => {
    const tenant = await setupTenant();
    const trigger = await createTrigger(tenant, {
      name: "standard",
      verify: "standard-webhooks",
      action: { generator: "site", graph: "model", params: { repo: "/data/repository" } },
      filter: { events: ["model.published"] },
    });
    const payload = { type: "model.published", timestamp: "2026-12-06T10:00:00Z", data: { repository: "shop" } };
    const res = await deliverStandard(trigger, payload, { id: "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W" });
    expect(res.status).toBe(202);
    const answer = (await res.json()) as Answer;
    expect(await jobParams(answer.job?.id as string)).toEqual({
      repo: "shop",
      kgenDeliveryId: "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W",
    });
    const replay = await deliverStandard(trigger, payload, { id: "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W" });
    expect(replay.status).toBe(200);
    expect(((await replay.json()) as Answer).job?.id).toBe(answer.job?.id);

    const other = await deliverStandard(trigger, { ...payload, type: "model.deleted" });
    expect(await other.json()).toMatchObject({
      job: null,
      reason: 'event "model.deleted" is not one of model.published',
    });

    const stale = await deliverStandard(trigger, payload, { timestamp: new Date(Date.now() - 6 * 60 * 1000) });
    await expectProblem(stale, 401, "invalid-signature");
    const future = await deliverStandard(trigger, payload, { timestamp: new Date(Date.now() + 6 * 60 * 1000) });
    await expectProblem(future, 401, "invalid-signature");
    expect(await jobIds(tenant)).toHaveLength(1);
  });
});

describe("POST /v1/hooks/{id}: syncGraph", () => {
  const syncTrigger = (tenant: TestTenant, generator?: string) =>
    createTrigger(tenant, {
      name: "sync",
      verify: "github",
      action: {
        syncGraph: {
          graph: "model",
          urlTemplate: "https://models.example.com/{repository.full_name}/{after}/shop.ttl",
          format: "text/turtle",
        },
        ...(generator ? { generator } : {}),
      },
    });

  it("fetches the document the push names, stores it as a new version and generates over it", async () => {
    const tenant = await setupTenant();
    const trigger = await syncTrigger(tenant, "site");
    const requested: string[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input) => {
      const url = input instanceof Request ? input.url : String(input);
      requested.push(url);
      return new Response(SYNCED_MODEL, { headers: { "content-type": "text/turtle" } });
    });
    const res = await deliverGithub(trigger);
    expect(res.status, await res.clone().text()).toBe(202);
    const answer = (await res.json()) as Answer;
    expect(requested).toEqual([`https://models.example.com/octo-org/shop-model/${PUSH.after}/shop.ttl`]);
    expect(answer.graph).toEqual({ graph: "model", version: 2, created: true });
    vi.restoreAllMocks();
    // The job rendered the new version: both entities.
    expect((await settledJob(tenant.apiKey, answer.job?.id as string)).status).toBe("completed");
    expect(await artifactText(tenant, answer.job?.id as string, "build/.txt")).toContain("[customer][order]");
    expect(await jobParams(answer.job?.id as string)).toMatchObject({ kgenCommit: PUSH.after });
    const versions = (await (await call("/v1/graphs/model/versions", { headers: bearer(tenant.apiKey) })).json()) as {
      items: { version: number; triples: number }[];
    };
    expect(versions.items.at(-1)).toMatchObject({ version: 2, triples: 4 });
  });

  it("refuses a redirect to a private address and records trigger.rejected", async () => {
    const tenant = await setupTenant();
    const trigger = await syncTrigger(tenant);
    const requested: string[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input) => {
      requested.push(input instanceof Request ? input.url : String(input));
      return new Response(null, { status: 302, headers: { location: "https://10.0.0.1/shop.ttl" } });
    });
    const problem = await expectProblem(await deliverGithub(trigger, { delivery: "d-ssrf" }), 422, "delivery-rejected");
    vi.restoreAllMocks();
    expect(problem.cause).toBe("https://kgen.dev/problems/unsafe-destination");
    expect(requested).toHaveLength(1);
    const [rejected] = await events(tenant, "trigger.rejected");
    expect(rejected?.data).toMatchObject({ triggerId: trigger.id, deliveryId: "d-ssrf" });
    expect(String(rejected?.data.reason)).toContain("10.0.0.1");
    const versions = (await (await call("/v1/graphs/model/versions", { headers: bearer(tenant.apiKey) })).json()) as {
      items: unknown[];
    };
    expect(versions.items).toHaveLength(1);
  });

  it("rejects a document the server does not serve, or a payload without the template's values", async () => {
    const tenant = await setupTenant();
    const trigger = await syncTrigger(tenant);
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("gone", { status: 404 }));
    const notFound = await expectProblem(await deliverGithub(trigger), 422, "delivery-rejected");
    expect(notFound.reason).toContain("answered 404");
    const withoutAfter = JSON.stringify({ ...PUSH, after: undefined });
    const missing = await expectProblem(await deliverGithub(trigger, { body: withoutAfter }), 422, "delivery-rejected");
    expect(missing.reason).toContain("{after}");
  });
});

describe("POST /v1/hooks/{id}: limits", () => {
  it("rejects a payload nested too deeply before anything recurses into it", async () => {
    const tenant = await setupTenant();
    const trigger = await githubTrigger(tenant, { filter: undefined });
    const deep = `${"[".repeat(10_000)}${"]".repeat(10_000)}`;
    const problem = await expectProblem(await deliverGithub(trigger, { body: deep }), 422, "delivery-rejected");
    expect(problem.cause).toBe("https://kgen.dev/problems/nesting-too-deep");
  });

  it("takes a verified delivery from the tenant's plan rate at the edge: 429 when the plan's limiter refuses", async () => {
    const tenant = await setupTenant("free");
    const trigger = await githubTrigger(tenant);
    const body = utf8(pushText);
    const limitedTenants: string[] = [];
    const refusing = {
      limit: async ({ key }: { key: string }) => {
        limitedTenants.push(key);
        return { success: false };
      },
    };
    const ctx = createExecutionContext();
    const res = await app.fetch(
      new Request(`${BASE}/v1/hooks/${trigger.id}`, {
        method: "POST",
        headers: {
          "x-github-event": "push",
          "x-github-delivery": "d-limited",
          "x-hub-signature-256": await githubSignature(trigger.secret, body),
        },
        body,
      }),
      { ...env, RATE_LIMIT_FREE: refusing } as unknown as Env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    await expectProblem(res, 429, "rate-limited");
    expect(res.headers.get("retry-after")).toBeTruthy();
    expect(limitedTenants).toEqual([tenant.id]);
    expect(await storedJobCount(tenant)).toBe(0);
  });

  it("answers 403 for a suspended tenant's correctly signed delivery, and starts nothing", async () => {
    const tenant = await setupTenant();
    const trigger = await githubTrigger(tenant);
    const suspend = await call(`/v1/tenants/${tenant.id}`, jsonBody({ status: "suspended" }, ADMIN_TOKEN, "PATCH"));
    expect(suspend.status).toBe(200);
    await expectProblem(await deliverGithub(trigger), 403, "tenant-suspended");
    expect(await storedJobCount(tenant)).toBe(0);
  });
});

describe("delivery retention", () => {
  it("forgets delivery ids after 30 days (cron), so only a recent repeat is answered with its first job", async () => {
    const tenant = await setupTenant();
    const trigger = await githubTrigger(tenant);
    expect((await deliverGithub(trigger, { delivery: "d-old" })).status).toBe(202);
    expect((await deliverGithub(trigger, { delivery: "d-new" })).status).toBe(202);
    await env.DB.prepare("UPDATE trigger_deliveries SET received_at = ? WHERE trigger_id = ? AND delivery_id = ?")
      .bind("2000-01-01T00:00:00.000Z", trigger.id, "d-old")
      .run();
    const result = await runScheduledMaintenance(env, Date.now());
    expect(result.purgedTriggerDeliveries).toBeGreaterThanOrEqual(1);
    const remaining = await env.DB.prepare("SELECT delivery_id FROM trigger_deliveries WHERE trigger_id = ?")
      .bind(trigger.id)
      .all<{ delivery_id: string }>();
    expect(remaining.results.map((row) => row.delivery_id)).toEqual(["d-new"]);
    expect((await deliverGithub(trigger, { delivery: "d-new" })).status).toBe(200);
  });
});

describe("delivery claims", () => {
  it("answers 409 while a claim is fresh, and takes over one abandoned for 15 minutes", async () => {
    const tenant = await setupTenant();
    const trigger = await githubTrigger(tenant);
    const claim = (deliveryId: string, receivedAt: string) =>
      env.DB.prepare(
        "INSERT INTO trigger_deliveries (trigger_id, delivery_id, tenant_id, job_id, received_at, completed_at) VALUES (?, ?, ?, NULL, ?, NULL)",
      )
        .bind(trigger.id, deliveryId, tenant.id, receivedAt)
        .run();
    await claim("d-running", new Date().toISOString());
    await claim("d-abandoned", new Date(Date.now() - 16 * 60 * 1000).toISOString());

    const running = await deliverGithub(trigger, { delivery: "d-running" });
    await expectProblem(running, 409, "delivery-in-progress");
    expect(running.headers.get("retry-after")).toBe("10");
    const abandoned = await deliverGithub(trigger, { delivery: "d-abandoned" });
    expect(abandoned.status).toBe(202);
    expect(((await abandoned.json()) as Answer).job?.status).toBe("queued");
    expect(await storedJobCount(tenant)).toBe(1);
  });

  it("are deleted with their trigger and with their tenant", async () => {
    const tenant = await setupTenant();
    const trigger = await githubTrigger(tenant);
    expect((await deliverGithub(trigger, { delivery: "d-1" })).status).toBe(202);
    const count = async (table: string) =>
      Number(
        (
          await env.DB.prepare(`SELECT count(*) AS n FROM ${table} WHERE tenant_id = ?`)
            .bind(tenant.id)
            .first<{ n: number }>()
        )?.n,
      );
    expect(await count("trigger_deliveries")).toBe(1);
    const other = await githubTrigger(tenant, { name: "other" });
    expect((await deliverGithub(other, { delivery: "d-2" })).status).toBe(202);
    expect(
      (await call(`/v1/triggers/${trigger.id}`, { method: "DELETE", headers: bearer(tenant.apiKey) })).status,
    ).toBe(204);
    expect(await count("trigger_deliveries")).toBe(1);
    expect((await call(`/v1/tenants/${tenant.id}`, { method: "DELETE", headers: bearer(ADMIN_TOKEN) })).status).toBe(
      202,
    );
    // At once the hook no longer finds the trigger; the queued erasure then removes its rows.
    await expectProblem(await deliverGithub(other), 401, "invalid-signature");
    await vi.waitFor(async () => expect([await count("triggers"), await count("trigger_deliveries")]).toEqual([0, 0]), {
      timeout: 30_000,
      interval: 50,
    });
  });
});

describe("POST /v1/hooks/{id}: the public route", () => {
  it("sits behind the per-client abuse guard, before any lookup", async () => {
    const tenant = await setupTenant();
    const trigger = await githubTrigger(tenant);
    const body = utf8(pushText);
    const ctx = createExecutionContext();
    const limited: string[] = [];
    const denying = {
      limit: async ({ key }: { key: string }) => {
        limited.push(key);
        return { success: false };
      },
    };
    const res = await app.fetch(
      new Request(`${BASE}/v1/hooks/${trigger.id}`, {
        method: "POST",
        headers: {
          "cf-connecting-ip": "140.82.115.1",
          "x-github-event": "push",
          "x-github-delivery": "d-guarded",
          "x-hub-signature-256": await githubSignature(trigger.secret, body),
        },
        body,
      }),
      { ...env, ABUSE_LIMITER: denying } as unknown as Env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    await expectProblem(res, 429, "rate-limited");
    expect(limited).toEqual(["140.82.115.1"]);
    expect(await storedJobCount(tenant)).toBe(0);
  });

  it("is in the OpenAPI document without a bearer credential", async () => {
    const doc = (await (await call("/v1/openapi.json")).json()) as {
      paths: Record<string, Record<string, { security?: unknown; responses: Record<string, unknown> }>>;
    };
    const hook = doc.paths["/v1/hooks/{id}"]?.post;
    expect(hook?.security).toBeUndefined();
    expect(Object.keys(hook?.responses ?? {})).toEqual(expect.arrayContaining(["200", "202", "401", "413", "422"]));
    expect(Object.keys(doc.paths["/v1/triggers/{id}"] ?? {}).sort()).toEqual(["delete", "get"]);
    expect(Object.keys(doc.paths["/v1/triggers"] ?? {}).sort()).toEqual(["get", "post"]);
  });
});
