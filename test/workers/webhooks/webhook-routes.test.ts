import { describe, expect, it } from "vitest";
import { MAX_WEBHOOKS_PER_TENANT } from "../../../shared/contracts/webhooks";
import { bearer, call, createKey, createTenant, expectProblem, jsonBody, type TestTenant } from "../helpers";
import { installReceivers } from "./receiver";

// Not restored after the tests: deliveries still queued then would go out to hosts that do not exist.
const receivers = installReceivers();

interface WebhookBody {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  status: string;
  disabledReason: string | null;
  createdAt: string;
  updatedAt: string;
  previousSecretExpiresAt: string | null;
  secret?: string;
}

async function create(tenant: TestTenant, body: Record<string, unknown>) {
  const res = await call("/v1/webhooks", jsonBody(body, tenant.apiKey));
  expect(res.status).toBe(201);
  return (await res.json()) as WebhookBody;
}

/** The tenant's events with their types as logged (without the `dev.kgen.` prefix of the wire). */
const events = async (tenant: TestTenant) =>
  (
    (await (await call("/v1/events?limit=1000", { headers: bearer(tenant.apiKey) })).json()) as {
      events: { type: string; data: Record<string, unknown> }[];
    }
  ).events.map((event) => ({ ...event, type: event.type.replace(/^dev\.kgen\./, "") }));

describe("webhook subscriptions", () => {
  it("creates a webhook, shows the secret once, and reads, lists, updates and deletes it", async () => {
    const tenant = await createTenant();
    const { url } = receivers.add();
    const created = await create(tenant, {
      url,
      events: ["dev.kgen.job.completed", "graph.*"],
      description: " build hook ",
    });
    expect(created).toMatchObject({
      url,
      events: ["job.completed", "graph.*"],
      description: "build hook",
      status: "enabled",
      disabledReason: null,
      previousSecretExpiresAt: null,
    });
    expect(created.id).toMatch(/^wh_/);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);

    const read = (await (
      await call(`/v1/webhooks/${created.id}`, { headers: bearer(tenant.apiKey) })
    ).json()) as WebhookBody;
    const { secret: _secret, ...withoutSecret } = created;
    expect(read).toEqual(withoutSecret);
    expect(JSON.stringify(read)).not.toContain("whsec_");

    const listed = (await (await call("/v1/webhooks", { headers: bearer(tenant.apiKey) })).json()) as {
      items: WebhookBody[];
      nextCursor: string | null;
    };
    expect(listed).toEqual({ items: [withoutSecret], nextCursor: null });

    const other = receivers.add();
    const patched = await call(
      `/v1/webhooks/${created.id}`,
      jsonBody({ url: other.url, events: ["*"], description: null }, tenant.apiKey, "PATCH"),
    );
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ url: other.url, events: ["*"], description: null });

    const deleted = await call(`/v1/webhooks/${created.id}`, { method: "DELETE", headers: bearer(tenant.apiKey) });
    expect(deleted.status).toBe(204);
    await expectProblem(await call(`/v1/webhooks/${created.id}`, { headers: bearer(tenant.apiKey) }), 404, "not-found");
    await expectProblem(
      await call(`/v1/webhooks/${created.id}`, { method: "DELETE", headers: bearer(tenant.apiKey) }),
      404,
      "not-found",
    );

    const log = await events(tenant);
    const webhookEvents = log.filter((event) => event.type.startsWith("webhook."));
    expect(webhookEvents.map((event) => [event.type, event.data.webhookId])).toEqual([
      ["webhook.created", created.id],
      ["webhook.updated", created.id],
      ["webhook.deleted", created.id],
    ]);
    expect(webhookEvents[1]?.data.changed).toEqual(["url", "events", "description"]);
    expect(JSON.stringify(log)).not.toContain("whsec_");
  });

  it("rotates the secret: a new one shown once, the previous one kept for 24 hours, and a webhook.secret.rotated event without either", async () => {
    const tenant = await createTenant();
    const created = await create(tenant, { url: receivers.add().url, events: ["*"] });
    const res = await call(`/v1/webhooks/${created.id}/rotate-secret`, {
      method: "POST",
      headers: bearer(tenant.apiKey),
    });
    expect(res.status).toBe(200);
    const rotated = (await res.json()) as WebhookBody;
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(created.secret);
    const expiresIn = Date.parse(rotated.previousSecretExpiresAt as string) - Date.now();
    expect(expiresIn).toBeGreaterThan(24 * 60 * 60 * 1000 - 60_000);
    expect(expiresIn).toBeLessThanOrEqual(24 * 60 * 60 * 1000);
    const log = await events(tenant);
    expect(log.map((event) => event.type)).toContain("webhook.secret.rotated");
    expect(JSON.stringify(log)).not.toContain(created.secret as string);
    expect(JSON.stringify(log)).not.toContain(rotated.secret as string);
  });

  it("disables and re-enables with PATCH; a re-enabled endpoint gets what happens after, not the backlog", async () => {
    const tenant = await createTenant();
    const created = await create(tenant, { url: receivers.add().url, events: ["graph.*"] });
    const disabled = await call(`/v1/webhooks/${created.id}`, jsonBody({ status: "disabled" }, tenant.apiKey, "PATCH"));
    expect(await disabled.json()).toMatchObject({ status: "disabled", disabledReason: "disabled by a user" });
    await call("/v1/graphs/while-off", {
      method: "PUT",
      headers: { ...bearer(tenant.apiKey), "content-type": "application/n-triples" },
      body: "<http://e/s> <http://e/p> <http://e/o> .",
    });
    const enabled = await call(`/v1/webhooks/${created.id}`, jsonBody({ status: "enabled" }, tenant.apiKey, "PATCH"));
    expect(await enabled.json()).toMatchObject({ status: "enabled", disabledReason: null });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const deliveries = (await (
      await call(`/v1/webhooks/${created.id}/deliveries`, { headers: bearer(tenant.apiKey) })
    ).json()) as { items: unknown[] };
    expect(deliveries.items).toEqual([]);
    expect((await events(tenant)).filter((e) => e.type === "webhook.disabled").map((e) => e.data)).toEqual([
      { webhookId: created.id, reason: "disabled by a user" },
    ]);
  });

  it("pages webhooks and deliveries by cursor, deliveries newest first", async () => {
    const tenant = await createTenant();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await create(tenant, { url: receivers.add().url, events: ["job.*"] })).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor === null ? "?limit=2" : `?limit=2&cursor=${encodeURIComponent(cursor)}`;
      const page = (await (await call(`/v1/webhooks${query}`, { headers: bearer(tenant.apiKey) })).json()) as {
        items: { id: string }[];
        nextCursor: string | null;
      };
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((item) => item.id));
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect([...seen].sort()).toEqual([...ids].sort());
    expect(new Set(seen).size).toBe(5);

    const hook = ids[0] as string;
    const sent: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await call(`/v1/webhooks/${hook}/test`, { method: "POST", headers: bearer(tenant.apiKey) });
      sent.push(((await res.json()) as { deliveryId: string }).deliveryId);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const first = (await (
      await call(`/v1/webhooks/${hook}/deliveries?limit=2`, { headers: bearer(tenant.apiKey) })
    ).json()) as { items: { id: string }[]; nextCursor: string };
    const second = (await (
      await call(`/v1/webhooks/${hook}/deliveries?limit=2&cursor=${encodeURIComponent(first.nextCursor)}`, {
        headers: bearer(tenant.apiKey),
      })
    ).json()) as { items: { id: string }[]; nextCursor: string | null };
    expect([...first.items, ...second.items].map((item) => item.id)).toEqual([...sent].reverse());
    expect(second.nextCursor).toBeNull();
  });

  it("refuses unsafe destinations with 422 unsafe-destination, on create and on update", async () => {
    const tenant = await createTenant();
    for (const url of [
      "http://example.com/hook",
      "https://127.0.0.2/hook",
      "https://0.0.0.0/hook",
      "https://10.0.0.8/hook",
      "https://[::ffff:192.168.0.1]/hook",
      "https://169.254.169.254/latest/meta-data",
      "https://user:pass@example.com/hook",
      "https://metadata.google.internal/",
      "https://intranet/hook",
      "ftp://example.com/hook",
      "not a url",
    ]) {
      const res = await call("/v1/webhooks", jsonBody({ url, events: ["*"] }, tenant.apiKey));
      const problem = await expectProblem(res, 422, "unsafe-destination");
      expect(typeof problem.reason, url).toBe("string");
    }
    // Development (the tests' ENVIRONMENT) allows a local receiver over http.
    const local = await create(tenant, { url: "http://127.0.0.1:9999/hook", events: ["*"] });
    const patched = await call(
      `/v1/webhooks/${local.id}`,
      jsonBody({ url: "https://192.168.1.1/" }, tenant.apiKey, "PATCH"),
    );
    await expectProblem(patched, 422, "unsafe-destination");
    const unchanged = (await (
      await call(`/v1/webhooks/${local.id}`, { headers: bearer(tenant.apiKey) })
    ).json()) as WebhookBody;
    expect(unchanged.url).toBe("http://127.0.0.1:9999/hook");
    const list = (await (await call("/v1/webhooks", { headers: bearer(tenant.apiKey) })).json()) as {
      items: unknown[];
    };
    expect(list.items).toHaveLength(1);
  });

  it("answers 400 naming the field for bad input on every route, and 415 for a body that is not JSON", async () => {
    const tenant = await createTenant();
    const hook = await create(tenant, { url: receivers.add().url, events: ["*"] });
    const bad: [string, RequestInit][] = [
      ["/v1/webhooks", jsonBody({ events: ["*"] }, tenant.apiKey)],
      ["/v1/webhooks", jsonBody({ url: receivers.add().url, events: [] }, tenant.apiKey)],
      ["/v1/webhooks", jsonBody({ url: receivers.add().url, events: ["Job Completed"] }, tenant.apiKey)],
      ["/v1/webhooks", jsonBody({ url: receivers.add().url, events: ["job.*.x"] }, tenant.apiKey)],
      [
        "/v1/webhooks",
        jsonBody({ url: receivers.add().url, events: Array.from({ length: 21 }, () => "*") }, tenant.apiKey),
      ],
      [
        "/v1/webhooks",
        jsonBody({ url: receivers.add().url, events: ["*"], description: "x".repeat(501) }, tenant.apiKey),
      ],
      ["/v1/webhooks", jsonBody({ url: `https://example.com/${"a".repeat(2100)}`, events: ["*"] }, tenant.apiKey)],
      ["/v1/webhooks", jsonBody({ url: receivers.add().url, events: ["*"], secret: "whsec_mine" }, tenant.apiKey)],
      ["/v1/webhooks", jsonBody([1, 2], tenant.apiKey)],
      [
        "/v1/webhooks",
        { method: "POST", headers: { ...bearer(tenant.apiKey), "content-type": "application/json" }, body: "{" },
      ],
      [`/v1/webhooks/${hook.id}`, jsonBody({}, tenant.apiKey, "PATCH")],
      [`/v1/webhooks/${hook.id}`, jsonBody({ status: "paused" }, tenant.apiKey, "PATCH")],
      [`/v1/webhooks/${hook.id}`, jsonBody({ events: "*" }, tenant.apiKey, "PATCH")],
      ["/v1/webhooks?limit=0", { headers: bearer(tenant.apiKey) }],
      ["/v1/webhooks?cursor=not-a-cursor", { headers: bearer(tenant.apiKey) }],
      [`/v1/webhooks/${hook.id}/deliveries?limit=1000`, { headers: bearer(tenant.apiKey) }],
      [`/v1/webhooks/${hook.id}/deliveries?cursor=%5B%5D`, { headers: bearer(tenant.apiKey) }],
      [`/v1/webhooks/${"x".repeat(65)}`, { headers: bearer(tenant.apiKey) }],
      [`/v1/webhooks/${hook.id}/deliveries/${"x".repeat(65)}`, { headers: bearer(tenant.apiKey) }],
      [`/v1/webhooks/${"x".repeat(65)}/rotate-secret`, { method: "POST", headers: bearer(tenant.apiKey) }],
      [`/v1/webhooks/${"x".repeat(65)}/test`, { method: "POST", headers: bearer(tenant.apiKey) }],
      [
        `/v1/webhooks/${hook.id}/deliveries/${"x".repeat(65)}/redeliver`,
        { method: "POST", headers: bearer(tenant.apiKey) },
      ],
    ];
    for (const [path, init] of bad) {
      const res = await call(path, init);
      expect(`${init.method ?? "GET"} ${path.slice(0, 60)} ${res.status}`).toBe(
        `${init.method ?? "GET"} ${path.slice(0, 60)} 400`,
      );
      await expectProblem(res, 400, "validation-error");
    }
    const text = await call("/v1/webhooks", {
      method: "POST",
      headers: { ...bearer(tenant.apiKey), "content-type": "text/plain" },
      body: "url=https://example.com",
    });
    await expectProblem(text, 415, "unsupported-media-type");
    // Nothing half-written: still the one webhook, and only its webhook.created event.
    const list = (await (await call("/v1/webhooks", { headers: bearer(tenant.apiKey) })).json()) as {
      items: unknown[];
    };
    expect(list.items).toHaveLength(1);
    expect((await events(tenant)).filter((e) => e.type.startsWith("webhook.")).map((e) => e.type)).toEqual([
      "webhook.created",
    ]);
  });

  it("answers 404 for unknown webhooks and deliveries, 409 for a test or redelivery to a disabled webhook", async () => {
    const tenant = await createTenant();
    const hook = await create(tenant, { url: receivers.add().url, events: ["*"] });
    for (const [path, method] of [
      ["/v1/webhooks/wh_missing", "GET"],
      ["/v1/webhooks/wh_missing", "DELETE"],
      ["/v1/webhooks/wh_missing/rotate-secret", "POST"],
      ["/v1/webhooks/wh_missing/test", "POST"],
      ["/v1/webhooks/wh_missing/deliveries", "GET"],
      [`/v1/webhooks/${hook.id}/deliveries/msg_missing`, "GET"],
      [`/v1/webhooks/${hook.id}/deliveries/msg_missing/redeliver`, "POST"],
    ] as const) {
      await expectProblem(await call(path, { method, headers: bearer(tenant.apiKey) }), 404, "not-found");
    }
    await expectProblem(
      await call("/v1/webhooks/wh_missing", jsonBody({ description: "x" }, tenant.apiKey, "PATCH")),
      404,
      "not-found",
    );
    const test = (await (
      await call(`/v1/webhooks/${hook.id}/test`, { method: "POST", headers: bearer(tenant.apiKey) })
    ).json()) as { deliveryId: string };
    await call(`/v1/webhooks/${hook.id}`, jsonBody({ status: "disabled" }, tenant.apiKey, "PATCH"));
    await expectProblem(
      await call(`/v1/webhooks/${hook.id}/test`, { method: "POST", headers: bearer(tenant.apiKey) }),
      409,
      "webhook-disabled",
    );
    await expectProblem(
      await call(`/v1/webhooks/${hook.id}/deliveries/${test.deliveryId}/redeliver`, {
        method: "POST",
        headers: bearer(tenant.apiKey),
      }),
      409,
      "webhook-disabled",
    );
  });

  it(`keeps at most ${MAX_WEBHOOKS_PER_TENANT} webhooks per tenant (409 webhook-limit-reached)`, async () => {
    const tenant = await createTenant();
    for (let i = 0; i < MAX_WEBHOOKS_PER_TENANT; i++) {
      await create(tenant, { url: receivers.add().url, events: ["job.*"] });
    }
    const res = await call("/v1/webhooks", jsonBody({ url: receivers.add().url, events: ["*"] }, tenant.apiKey));
    const problem = await expectProblem(res, 409, "webhook-limit-reached");
    expect(problem.limit).toBe(MAX_WEBHOOKS_PER_TENANT);
  }, 30_000);

  it("lets viewers read and only admins write", async () => {
    const tenant = await createTenant();
    const hook = await create(tenant, { url: receivers.add().url, events: ["*"] });
    const viewer = (await createKey(tenant, "viewer")).secret;
    const editor = (await createKey(tenant, "editor")).secret;
    const admin = (await createKey(tenant, "admin")).secret;
    for (const path of ["/v1/webhooks", `/v1/webhooks/${hook.id}`, `/v1/webhooks/${hook.id}/deliveries`]) {
      expect((await call(path, { headers: bearer(viewer) })).status, path).toBe(200);
    }
    for (const key of [viewer, editor]) {
      for (const [path, init] of [
        ["/v1/webhooks", jsonBody({ url: receivers.add().url, events: ["*"] }, key)],
        [`/v1/webhooks/${hook.id}`, jsonBody({ description: "x" }, key, "PATCH")],
        [`/v1/webhooks/${hook.id}`, { method: "DELETE", headers: bearer(key) }],
        [`/v1/webhooks/${hook.id}/rotate-secret`, { method: "POST", headers: bearer(key) }],
        [`/v1/webhooks/${hook.id}/test`, { method: "POST", headers: bearer(key) }],
        [`/v1/webhooks/${hook.id}/deliveries/msg_x/redeliver`, { method: "POST", headers: bearer(key) }],
      ] as [string, RequestInit][]) {
        await expectProblem(await call(path, init), 403, "insufficient-role");
      }
    }
    expect((await call(`/v1/webhooks/${hook.id}/test`, { method: "POST", headers: bearer(admin) })).status).toBe(202);
    await expectProblem(await call("/v1/webhooks"), 401, "unauthorized");
  });

  it("answers 404 for another tenant's webhooks and deliveries and lists none of them", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const bHook = await create(b, { url: receivers.add().url, events: ["*"] });
    const bDelivery = (
      (await (await call(`/v1/webhooks/${bHook.id}/test`, { method: "POST", headers: bearer(b.apiKey) })).json()) as {
        deliveryId: string;
      }
    ).deliveryId;
    const aHook = await create(a, { url: receivers.add().url, events: ["*"] });
    for (const [path, init] of [
      [`/v1/webhooks/${bHook.id}`, {}],
      [`/v1/webhooks/${bHook.id}`, jsonBody({ description: "mine" }, undefined, "PATCH")],
      [`/v1/webhooks/${bHook.id}`, { method: "DELETE" }],
      [`/v1/webhooks/${bHook.id}/rotate-secret`, { method: "POST" }],
      [`/v1/webhooks/${bHook.id}/test`, { method: "POST" }],
      [`/v1/webhooks/${bHook.id}/deliveries`, {}],
      [`/v1/webhooks/${bHook.id}/deliveries/${bDelivery}`, {}],
      [`/v1/webhooks/${bHook.id}/deliveries/${bDelivery}/redeliver`, { method: "POST" }],
      // A's own webhook with B's delivery id.
      [`/v1/webhooks/${aHook.id}/deliveries/${bDelivery}`, {}],
      [`/v1/webhooks/${aHook.id}/deliveries/${bDelivery}/redeliver`, { method: "POST" }],
    ] as [string, RequestInit][]) {
      const res = await call(path, {
        ...init,
        headers: { ...(init.headers as Record<string, string>), ...bearer(a.apiKey) },
      });
      await expectProblem(res, 404, "not-found");
    }
    const list = JSON.stringify(await (await call("/v1/webhooks", { headers: bearer(a.apiKey) })).json());
    expect(list).not.toContain(bHook.id);
    expect(list).toContain(aHook.id);
    // B's webhook is untouched.
    const still = (await (await call(`/v1/webhooks/${bHook.id}`, { headers: bearer(b.apiKey) })).json()) as WebhookBody;
    expect(still).toMatchObject({ id: bHook.id, description: null, previousSecretExpiresAt: null });
  });
});
