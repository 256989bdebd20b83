import { describe, expect, it } from "vitest";
import { bearer, call, createKey, createTenant, expectProblem, jsonBody } from "./helpers";

describe("tenant isolation", () => {
  it("answers 404 for every tenant-scoped id of another tenant, exactly as for a missing id", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const bKey = await createKey(b, "viewer");
    const attempts: [string, RequestInit][] = [[`/v1/api-keys/${bKey.apiKey.id}`, { method: "DELETE" }]];
    for (const [path, init] of attempts) {
      const foreign = await call(path, { ...init, headers: bearer(a.apiKey) });
      const missing = await call(path.replace(bKey.apiKey.id, "key_doesnotexist"), {
        ...init,
        headers: bearer(a.apiKey),
      });
      const foreignProblem = await expectProblem(foreign, 404, "not-found");
      const missingProblem = await expectProblem(missing, 404, "not-found");
      expect(foreignProblem.detail).toBe(missingProblem.detail);
    }
    // B's key survived A's attempt.
    expect((await call("/v1/me", { headers: bearer(bKey.secret) })).status).toBe(200);
  });

  it("lists only the caller's own keys", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const bKey = await createKey(b, "viewer");
    const page = (await (await call("/v1/api-keys?limit=200", { headers: bearer(a.apiKey) })).json()) as {
      items: { id: string }[];
    };
    expect(page.items.map((k) => k.id)).not.toContain(bKey.apiKey.id);
    expect(page.items).toHaveLength(1);
  });

  it("takes the tenant from the credential: an X-Tenant-ID naming another tenant is 403", async () => {
    const a = await createTenant();
    const b = await createTenant();
    await expectProblem(
      await call("/v1/me", { headers: bearer(a.apiKey, { "x-tenant-id": b.id }) }),
      403,
      "tenant-mismatch",
    );
    const own = await call("/v1/me", { headers: bearer(a.apiKey, { "x-tenant-id": a.id }) });
    expect(own.status).toBe(200);
    const bySlug = await call("/v1/me", { headers: bearer(a.apiKey, { "x-tenant-id": a.slug }) });
    expect(bySlug.status).toBe(200);
  });

  it("a tenant credential cannot reach operator routes", async () => {
    const a = await createTenant();
    const b = await createTenant();
    await expectProblem(await call(`/v1/tenants/${b.id}`, { headers: bearer(a.apiKey) }), 401, "unauthorized");
    await expectProblem(
      await call(`/v1/tenants/${a.id}`, jsonBody({ plan: "enterprise" }, a.apiKey, "PATCH")),
      401,
      "unauthorized",
    );
  });
});

describe("suspended tenants", () => {
  it("get 403 on everything but GET /v1/me, and work again when reactivated", async () => {
    const { ADMIN_TOKEN } = await import("./helpers");
    const tenant = await createTenant();
    await call(`/v1/tenants/${tenant.id}`, jsonBody({ status: "suspended" }, ADMIN_TOKEN, "PATCH"));
    const me = await call("/v1/me", { headers: bearer(tenant.apiKey) });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ tenant: { status: "suspended" } });
    await expectProblem(await call("/v1/api-keys", { headers: bearer(tenant.apiKey) }), 403, "tenant-suspended");
    await expectProblem(
      await call("/v1/auth/token", { method: "POST", headers: bearer(tenant.apiKey) }),
      403,
      "tenant-suspended",
    );
    await call(`/v1/tenants/${tenant.id}`, jsonBody({ status: "active" }, ADMIN_TOKEN, "PATCH"));
    expect((await call("/v1/api-keys", { headers: bearer(tenant.apiKey) })).status).toBe(200);
  });
});
