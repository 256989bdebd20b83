import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { resolveFlag } from "../../shared/contracts/flags";
import { bytesToHex, utf8 } from "../../shared/core/encoding";
import { tokenConfig } from "../../workers/auth/config";
import { CREDENTIAL_CACHE_TTL_MS, EdgeCredentials } from "../../workers/auth/edge-credentials";
import { countedCall, tally } from "./central-calls";
import {
  ADMIN_TOKEN,
  bearer,
  call,
  createKey,
  createTenant,
  expectProblem,
  jsonBody,
  type TestTenant,
} from "./helpers";

type FlagView = { value: unknown; source: string; planDefault: unknown; override: unknown; rollout?: unknown };
type FlagsView = { tenantId: string; plan: string; flags: Record<string, FlagView> };

const putFlags = (tenantId: string, overrides: unknown, credential = ADMIN_TOKEN) =>
  call(`/v1/tenants/${tenantId}/flags`, jsonBody({ overrides }, credential, "PUT"));

async function setFlags(tenant: TestTenant, overrides: Record<string, unknown>): Promise<FlagsView> {
  const res = await putFlags(tenant.id, overrides);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as FlagsView;
}

async function flagsOf(tenantId: string): Promise<FlagsView> {
  const res = await call(`/v1/tenants/${tenantId}/flags`, { headers: bearer(ADMIN_TOKEN) });
  expect(res.status).toBe(200);
  return (await res.json()) as FlagsView;
}

async function meFlags(credential: string): Promise<Record<string, unknown>> {
  const res = await call("/v1/me", { headers: bearer(credential) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { flags: Record<string, unknown> }).flags;
}

async function expectFeatureDisabled(res: Response, flag: string) {
  const problem = await expectProblem(res, 403, "feature-disabled");
  expect(problem.flag).toBe(flag);
  expect(problem.detail).toContain(flag);
}

const webhookBody = { url: "http://127.0.0.1:9/hook", events: ["job.*"] };

describe("tenant flags (operator API)", () => {
  it("shows every flag with its plan default, then the overrides an operator sets, and audit-logs the change", async () => {
    const tenant = await createTenant({ plan: "standard" });
    const initial = await flagsOf(tenant.id);
    expect(initial.tenantId).toBe(tenant.id);
    expect(Object.keys(initial.flags).sort()).toEqual(["eventStreams", "maxTokenTtlSeconds", "triggers", "webhooks"]);
    expect(initial.flags.webhooks).toMatchObject({ value: true, source: "plan", planDefault: true, override: null });

    const updated = await setFlags(tenant, {
      webhooks: false,
      maxTokenTtlSeconds: { percentage: 100, value: 300, otherwise: 900 },
    });
    expect(updated.flags.webhooks).toMatchObject({ value: false, source: "override", override: false });
    expect(updated.flags.maxTokenTtlSeconds).toMatchObject({
      value: 300,
      source: "rollout",
      rollout: { percentage: 100, included: true },
    });
    expect(await flagsOf(tenant.id)).toEqual(updated);
    expect(await meFlags(tenant.apiKey)).toEqual({
      eventStreams: true,
      maxTokenTtlSeconds: 300,
      triggers: true,
      webhooks: false,
    });

    const audit = (await (await call("/v1/audit-log?limit=1", { headers: bearer(tenant.apiKey) })).json()) as {
      items: { action: string; target: string; detail: unknown }[];
    };
    expect(audit.items[0]).toMatchObject({
      action: "tenant.flags.update",
      target: tenant.id,
      detail: { overrides: { webhooks: false } },
    });

    // PUT replaces the whole set: what is left out follows the plan again.
    const reset = await setFlags(tenant, {});
    expect(Object.values(reset.flags).every((flag) => flag.source === "plan")).toBe(true);
  });

  it("refuses a value that does not fit its flag, or an unknown flag, naming it, and changes nothing", async () => {
    const tenant = await createTenant();
    await setFlags(tenant, { triggers: false });
    const cases: [unknown, string][] = [
      [{ webhooks: "off" }, "overrides.webhooks"],
      [{ maxTokenTtlSeconds: 30 }, "overrides.maxTokenTtlSeconds"],
      [{ telemetry: true }, "overrides.telemetry"],
      [{ eventStreams: { percentage: 150, value: false } }, "overrides.eventStreams.percentage"],
      [{ eventStreams: { percentage: 50, value: 1 } }, "overrides.eventStreams.value"],
      [[true], "overrides"],
      [Object.fromEntries(Array.from({ length: 5_000 }, (_, index) => [`flag${index}`, true])), "overrides"],
    ];
    for (const [overrides, field] of cases) {
      const problem = await expectProblem(await putFlags(tenant.id, overrides), 400, "validation-error");
      expect(
        (problem.errors as { field: string }[]).map((e) => e.field),
        JSON.stringify(overrides),
      ).toContain(field);
      expect(problem.detail).toContain(field);
    }
    const notJson = await call(`/v1/tenants/${tenant.id}/flags`, {
      method: "PUT",
      headers: { ...bearer(ADMIN_TOKEN), "content-type": "application/json" },
      body: "{",
    });
    await expectProblem(notJson, 400, "validation-error");
    const wrongType = await call(`/v1/tenants/${tenant.id}/flags`, {
      method: "PUT",
      headers: { ...bearer(ADMIN_TOKEN), "content-type": "text/plain" },
      body: "webhooks=false",
    });
    await expectProblem(wrongType, 415, "unsupported-media-type");
    expect((await flagsOf(tenant.id)).flags.triggers).toMatchObject({ value: false, source: "override" });
  });

  it("answers 404 for a tenant that does not exist, and refuses tenant credentials", async () => {
    await expectProblem(await putFlags("tn_missing", { webhooks: false }), 404, "not-found");
    await expectProblem(await call("/v1/tenants/tn_missing/flags", { headers: bearer(ADMIN_TOKEN) }), 404, "not-found");
    const tenant = await createTenant();
    const owner = tenant.apiKey;
    await expectProblem(await call(`/v1/tenants/${tenant.id}/flags`, { headers: bearer(owner) }), 401, "unauthorized");
    await expectProblem(await putFlags(tenant.id, { webhooks: true }, owner), 401, "unauthorized");
    await expectProblem(await call(`/v1/tenants/${tenant.id}/flags`), 401, "unauthorized");
  });

  it("keeps each tenant's flags to itself", async () => {
    const a = await createTenant();
    const b = await createTenant();
    await setFlags(a, { webhooks: false, eventStreams: false });
    // A's credential cannot read or write B's flags (nor its own: the route is the operator's).
    await expectProblem(await call(`/v1/tenants/${b.id}/flags`, { headers: bearer(a.apiKey) }), 401, "unauthorized");
    await expectProblem(await putFlags(b.id, { webhooks: false }, a.apiKey), 401, "unauthorized");
    expect(await meFlags(b.apiKey)).toMatchObject({ webhooks: true, eventStreams: true });
    expect((await flagsOf(b.id)).flags.webhooks).toMatchObject({ source: "plan" });
    const bodyOfB = JSON.stringify(await (await call("/v1/me", { headers: bearer(b.apiKey) })).json());
    expect(bodyOfB).not.toContain(a.id);
    expect((await call("/v1/webhooks", jsonBody(webhookBody, b.apiKey))).status).toBe(201);
    await expectFeatureDisabled(await call("/v1/webhooks", jsonBody(webhookBody, a.apiKey)), "webhooks");
  });
});

describe("feature gates", () => {
  it("webhooks: off refuses creating, changing, testing and redelivering; listing and deleting still work", async () => {
    const tenant = await createTenant();
    const created = await call("/v1/webhooks", jsonBody(webhookBody, tenant.apiKey));
    expect(created.status).toBe(201);
    const webhook = (await created.json()) as { id: string };
    await setFlags(tenant, { webhooks: false });
    await expectFeatureDisabled(await call("/v1/webhooks", jsonBody(webhookBody, tenant.apiKey)), "webhooks");
    await expectFeatureDisabled(
      await call(`/v1/webhooks/${webhook.id}`, jsonBody({ enabled: false }, tenant.apiKey, "PATCH")),
      "webhooks",
    );
    for (const action of ["test", "rotate-secret"]) {
      const res = await call(`/v1/webhooks/${webhook.id}/${action}`, {
        method: "POST",
        headers: bearer(tenant.apiKey),
      });
      await expectFeatureDisabled(res, "webhooks");
    }
    await expectFeatureDisabled(
      await call(`/v1/webhooks/${webhook.id}/deliveries/dlv_x/redeliver`, {
        method: "POST",
        headers: bearer(tenant.apiKey),
      }),
      "webhooks",
    );
    expect((await call("/v1/webhooks", { headers: bearer(tenant.apiKey) })).status).toBe(200);
    expect(
      (await call(`/v1/webhooks/${webhook.id}`, { method: "DELETE", headers: bearer(tenant.apiKey) })).status,
    ).toBe(204);
    await setFlags(tenant, { webhooks: true });
    expect((await call("/v1/webhooks", jsonBody(webhookBody, tenant.apiKey))).status).toBe(201);
  });

  it("triggers: off refuses creating one and running a signed delivery; on again, the delivery is verified and runs", async () => {
    const tenant = await createTenant();
    const res = await call(
      "/v1/triggers",
      jsonBody({ name: "pushes", verify: "github", action: { generator: "gen", graph: "g" } }, tenant.apiKey),
    );
    expect(res.status, await res.clone().text()).toBe(201);
    const trigger = (await res.json()) as { id: string; secret: string };
    await setFlags(tenant, { triggers: false });
    await expectFeatureDisabled(
      await call(
        "/v1/triggers",
        jsonBody({ name: "more", verify: "github", action: { generator: "gen", graph: "g" } }, tenant.apiKey),
      ),
      "triggers",
    );
    await expectFeatureDisabled(await deliverGithub(trigger, trigger.secret), "triggers");
    // An unsigned delivery learns nothing: the same answer as for an unknown trigger.
    await expectProblem(await deliverGithub(trigger, "not-the-secret"), 401, "invalid-signature");
    await setFlags(tenant, { triggers: true });
    const delivered = await deliverGithub(trigger, trigger.secret);
    expect(delivered.status, await delivered.clone().text()).not.toBe(403);
    expect(delivered.status).toBeLessThan(500);
  });

  it("eventStreams: off refuses tickets, SSE and WebSocket, also for a ticket issued before", async () => {
    const tenant = await createTenant();
    const ticket = (
      (await (await call("/v1/events/tickets", { method: "POST", headers: bearer(tenant.apiKey) })).json()) as {
        ticket: string;
      }
    ).ticket;
    await setFlags(tenant, { eventStreams: false });
    await expectFeatureDisabled(
      await call("/v1/events/tickets", { method: "POST", headers: bearer(tenant.apiKey) }),
      "eventStreams",
    );
    await expectFeatureDisabled(
      await call("/v1/events/stream?after=0", { headers: bearer(tenant.apiKey) }),
      "eventStreams",
    );
    await expectFeatureDisabled(
      await call("/v1/events/ws", { headers: { ...bearer(tenant.apiKey), upgrade: "websocket" } }),
      "eventStreams",
    );
    await expectFeatureDisabled(await call(`/v1/events/stream?ticket=${encodeURIComponent(ticket)}`), "eventStreams");
    // The event log itself is not a stream: still readable.
    expect((await call("/v1/events", { headers: bearer(tenant.apiKey) })).status).toBe(200);
    await setFlags(tenant, { eventStreams: true });
    const open = await call("/v1/events/stream?after=0", { headers: bearer(tenant.apiKey) });
    expect(open.status).toBe(200);
    await open.body?.cancel();
  });

  it("maxTokenTtlSeconds caps the lifetime of exchanged tokens", async () => {
    const tenant = await createTenant();
    const exchange = async () => {
      const res = await call("/v1/auth/token", jsonBody({ ttlSeconds: 900 }, tenant.apiKey));
      expect(res.status).toBe(200);
      return ((await res.json()) as { expiresIn: number }).expiresIn;
    };
    expect(await exchange()).toBe(900);
    await setFlags(tenant, { maxTokenTtlSeconds: 120 });
    expect(await exchange()).toBe(120);
  });
});

describe("flags at the edge", () => {
  it("reach platform tokens in their claims, and a change through this location applies at once", async () => {
    const tenant = await createTenant();
    await setFlags(tenant, { webhooks: false });
    const token = (
      (await (await call("/v1/auth/token", { method: "POST", headers: bearer(tenant.apiKey) })).json()) as {
        accessToken: string;
      }
    ).accessToken;
    const claims = JSON.parse(atob(token.split(".")[1]?.replaceAll("-", "+").replaceAll("_", "/") ?? "")) as {
      flg?: unknown;
    };
    expect(claims.flg).toEqual({ webhooks: false });
    await expectFeatureDisabled(await call("/v1/webhooks", jsonBody(webhookBody, token)), "webhooks");
    await setFlags(tenant, { webhooks: true });
    expect((await call("/v1/webhooks", jsonBody(webhookBody, token))).status).toBe(201);
  });

  it("are enforced with no central call: from the location's cache or the token's claims", async () => {
    const tenant = await createTenant();
    const viewer = await createKey(tenant, "viewer");
    await setFlags(tenant, { eventStreams: false });
    const token = (
      (await (await call("/v1/auth/token", { method: "POST", headers: bearer(viewer.secret) })).json()) as {
        accessToken: string;
      }
    ).accessToken;
    for (const credential of [viewer.secret, token]) {
      const refused = await countedCall("/v1/events/tickets", { method: "POST", headers: bearer(credential) });
      expect(refused.response.status).toBe(403);
      expect(JSON.parse(new TextDecoder().decode(refused.body))).toMatchObject({ flag: "eventStreams" });
      expect(tally(refused.onPath)).toEqual({});
    }
    // Allowed, the gate adds nothing: the ticket is the route's one call to the tenant's object.
    await setFlags(tenant, { eventStreams: true });
    await call("/v1/me", { headers: bearer(viewer.secret) });
    const allowed = await countedCall("/v1/events/tickets", { method: "POST", headers: bearer(viewer.secret) });
    expect(allowed.response.status).toBe(201);
    expect(allowed.onPath.some((entry) => entry.store === "d1")).toBe(false);
  });
});

describe("staleness bound", () => {
  it("another location applies a flag change at most CREDENTIAL_CACHE_TTL_MS later, API key or platform token", async () => {
    const tenant = await createTenant();
    const token = (
      (await (await call("/v1/auth/token", { method: "POST", headers: bearer(tenant.apiKey) })).json()) as {
        accessToken: string;
      }
    ).accessToken;
    const location = new EdgeCredentials();
    const identify = (credential: string, nowMs: number) =>
      location.identify(credential, env, () => tokenConfig(env), nowMs);
    const webhooksAt = async (credential: string, nowMs: number) =>
      resolveFlag("webhooks", (await identify(credential, nowMs)).tenant).value;
    const t0 = Date.now();
    expect(await webhooksAt(tenant.apiKey, t0)).toBe(true);
    await setFlags(tenant, { webhooks: false });
    expect(await webhooksAt(tenant.apiKey, t0 + CREDENTIAL_CACHE_TTL_MS - 1)).toBe(true);
    expect(await webhooksAt(tenant.apiKey, t0 + CREDENTIAL_CACHE_TTL_MS)).toBe(false);
    // The token's claims were confirmed before the change: trusted for less than the bound, then read again.
    expect(await webhooksAt(token, t0 + CREDENTIAL_CACHE_TTL_MS + 1)).toBe(false);
  });
});

async function deliverGithub(trigger: { id: string }, secret: string): Promise<Response> {
  const body = utf8(JSON.stringify({ ref: "refs/heads/main", repository: { name: "shop" } }));
  const key = await crypto.subtle.importKey("raw", utf8(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const signature = bytesToHex(new Uint8Array(await crypto.subtle.sign("HMAC", key, body as Uint8Array<ArrayBuffer>)));
  return call(`/v1/hooks/${trigger.id}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-github-event": "push",
      "x-github-delivery": crypto.randomUUID(),
      "x-hub-signature-256": `sha256=${signature}`,
    },
    body,
  });
}
