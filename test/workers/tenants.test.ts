import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { ADMIN_TOKEN, bearer, call, createTenant, expectProblem, jsonBody, uniqueSlug } from "./helpers";

describe("operator tenant routes", () => {
  it("creates a tenant with an owner key shown once", async () => {
    const slug = uniqueSlug("acme");
    const res = await call(
      "/v1/tenants",
      jsonBody({ slug, name: "Acme", plan: "standard", jurisdiction: "eu" }, ADMIN_TOKEN),
    );
    expect(res.status).toBe(201);
    const body = (await res.json()) as {
      tenant: Record<string, unknown>;
      apiKey: { id: string; prefix: string };
      secret: string;
    };
    expect(body.tenant).toMatchObject({ slug, name: "Acme", plan: "standard", jurisdiction: "eu", status: "active" });
    expect(body.tenant.id).toMatch(/^tn_[a-z2-7]{26}$/);
    expect(body.secret).toMatch(/^kgen_[A-Za-z0-9_-]{43}$/);
    // The owner key is described like any key POST /v1/api-keys creates: metadata in apiKey, the key in secret.
    expect(Object.keys(body).sort()).toEqual(["apiKey", "secret", "tenant"]);
    expect(body.apiKey).toMatchObject({ name: "owner", role: "owner", expiresAt: null });
    expect(body.secret.startsWith(body.apiKey.prefix)).toBe(true);

    const me = await call("/v1/me", { headers: bearer(body.secret) });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({
      role: "owner",
      credential: "api-key",
      apiKeyId: body.apiKey.id,
      tenant: { id: body.tenant.id },
    });
    const keys = (await (await call("/v1/api-keys", { headers: bearer(body.secret) })).json()) as {
      items: { id: string }[];
    };
    expect(keys.items).toEqual([body.apiKey]);
  });

  it("defaults the plan to free and the jurisdiction to none", async () => {
    const res = await call("/v1/tenants", jsonBody({ slug: uniqueSlug(), name: "Plain" }, ADMIN_TOKEN));
    expect(res.status).toBe(201);
    expect((await res.json()) as object).toMatchObject({ tenant: { plan: "free", jurisdiction: null } });
  });

  it("answers 409 for a duplicate slug and leaves the first tenant as it was", async () => {
    const tenant = await createTenant();
    const res = await call("/v1/tenants", jsonBody({ slug: tenant.slug, name: "Again" }, ADMIN_TOKEN));
    await expectProblem(res, 409, "conflict");
    const got = await call(`/v1/tenants/${tenant.id}`, { headers: bearer(ADMIN_TOKEN) });
    expect(((await got.json()) as { name: string }).name).toBe(`Tenant ${tenant.slug}`);
  });

  it("answers 400 naming every invalid field", async () => {
    const res = await call("/v1/tenants", jsonBody({ slug: "A!", name: "", plan: "gold", extra: 1 }, ADMIN_TOKEN));
    const problem = await expectProblem(res, 400, "validation-error");
    const fields = (problem.errors as { field: string }[]).map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(["slug", "name", "plan"]));
  });

  it("rejects a malformed JSON body with 400 and a non-JSON body with 415", async () => {
    const malformed = await call("/v1/tenants", {
      method: "POST",
      headers: { ...bearer(ADMIN_TOKEN), "content-type": "application/json" },
      body: "{not json",
    });
    await expectProblem(malformed, 400, "validation-error");
    const text = await call("/v1/tenants", {
      method: "POST",
      headers: { ...bearer(ADMIN_TOKEN), "content-type": "text/plain" },
      body: "slug=x",
    });
    await expectProblem(text, 415, "unsupported-media-type");
  });

  it("requires the operator token", async () => {
    await expectProblem(await call("/v1/tenants"), 401, "unauthorized");
    await expectProblem(await call("/v1/tenants", { headers: bearer("wrong") }), 401, "unauthorized");
    const tenant = await createTenant();
    await expectProblem(await call("/v1/tenants", { headers: bearer(tenant.apiKey) }), 401, "unauthorized");
  });

  it("pages through tenants with a cursor", async () => {
    for (let i = 0; i < 3; i++) await createTenant();
    const seen = new Set<string>();
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `?limit=2&cursor=${encodeURIComponent(cursor)}` : "?limit=2";
      const res = await call(`/v1/tenants${query}`, { headers: bearer(ADMIN_TOKEN) });
      expect(res.status).toBe(200);
      const page = (await res.json()) as { items: { id: string }[]; nextCursor: string | null };
      expect(page.items.length).toBeLessThanOrEqual(2);
      for (const item of page.items) {
        expect(seen.has(item.id)).toBe(false);
        seen.add(item.id);
      }
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 100);
    expect(seen.size).toBeGreaterThanOrEqual(3);
    await expectProblem(
      await call("/v1/tenants?cursor=garbage", { headers: bearer(ADMIN_TOKEN) }),
      400,
      "validation-error",
    );
    await expectProblem(await call("/v1/tenants?limit=0", { headers: bearer(ADMIN_TOKEN) }), 400, "validation-error");
  });

  it("updates plan and status, and 404s unknown ids", async () => {
    const tenant = await createTenant();
    const res = await call(
      `/v1/tenants/${tenant.id}`,
      jsonBody({ plan: "premium", status: "suspended" }, ADMIN_TOKEN, "PATCH"),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ plan: "premium", status: "suspended" });
    await expectProblem(
      await call(`/v1/tenants/${tenant.id}`, jsonBody({}, ADMIN_TOKEN, "PATCH")),
      400,
      "validation-error",
    );
    await expectProblem(
      await call("/v1/tenants/tn_missing", jsonBody({ plan: "free" }, ADMIN_TOKEN, "PATCH")),
      404,
      "not-found",
    );
    await expectProblem(await call("/v1/tenants/tn_missing", { headers: bearer(ADMIN_TOKEN) }), 404, "not-found");
  });

  it("deletes a tenant: its keys stop working, its blobs go, and the id answers 404", async () => {
    const tenant = await createTenant();
    const other = await createTenant();
    await env.ARTIFACTS.put(`t/${tenant.id}/sha256/abc`, "x");
    await env.ARTIFACTS.put(`t/${other.id}/sha256/abc`, "y");
    const res = await call(`/v1/tenants/${tenant.id}`, { method: "DELETE", headers: bearer(ADMIN_TOKEN) });
    expect(res.status).toBe(202);
    expect(res.headers.get("location")).toBe(`/v1/tenants/${tenant.id}/erasure`);
    await expectProblem(await call("/v1/me", { headers: bearer(tenant.apiKey) }), 401, "unauthorized");
    await expectProblem(await call(`/v1/tenants/${tenant.id}`, { headers: bearer(ADMIN_TOKEN) }), 404, "not-found");
    await vi.waitFor(async () => expect(await env.ARTIFACTS.head(`t/${tenant.id}/sha256/abc`)).toBeNull(), {
      timeout: 30_000,
    });
    expect(await env.ARTIFACTS.head(`t/${other.id}/sha256/abc`)).not.toBeNull();
    await vi.waitFor(
      async () => {
        const erasure = await call(`/v1/tenants/${tenant.id}/erasure`, { headers: bearer(ADMIN_TOKEN) });
        expect(((await erasure.json()) as { status: string }).status).toBe("completed");
      },
      { timeout: 30_000 },
    );
    // Once erased, the tenant is unknown to a second DELETE.
    await expectProblem(
      await call(`/v1/tenants/${tenant.id}`, { method: "DELETE", headers: bearer(ADMIN_TOKEN) }),
      404,
      "not-found",
    );
  });
});
