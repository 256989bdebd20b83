import { describe, expect, it } from "vitest";
import { bearer, call, createKey, createTenant, expectProblem, jsonBody } from "./helpers";

describe("API keys", () => {
  it("creates a key shown once, lists it by prefix only, and deletes it", async () => {
    const tenant = await createTenant();
    const created = await createKey(tenant, "editor");
    expect(created.secret).toMatch(/^kgen_/);
    // The same shape POST /v1/tenants answers its owner key in (with the tenant beside it).
    expect(Object.keys(created).sort()).toEqual(["apiKey", "secret"]);
    const list = await call("/v1/api-keys", { headers: bearer(tenant.apiKey) });
    expect(list.status).toBe(200);
    const page = (await list.json()) as { items: Record<string, unknown>[] };
    const listed = page.items.find((k) => k.id === created.apiKey.id);
    expect(listed).toMatchObject({ role: "editor", prefix: created.secret.slice(0, 12) });
    expect(JSON.stringify(page)).not.toContain(created.secret);

    const me = await call("/v1/me", { headers: bearer(created.secret) });
    expect(await me.json()).toMatchObject({ role: "editor", apiKeyId: created.apiKey.id });

    const del = await call(`/v1/api-keys/${created.apiKey.id}`, { method: "DELETE", headers: bearer(tenant.apiKey) });
    expect(del.status).toBe(204);
    await expectProblem(
      await call(`/v1/api-keys/${created.apiKey.id}`, { method: "DELETE", headers: bearer(tenant.apiKey) }),
      404,
      "not-found",
    );
  });

  it("a deleted key stops working on the next request, and so do tokens minted from it", async () => {
    const tenant = await createTenant();
    const key = await createKey(tenant, "admin");
    const tokenRes = await call("/v1/auth/token", { method: "POST", headers: bearer(key.secret) });
    const { accessToken } = (await tokenRes.json()) as { accessToken: string };
    expect((await call("/v1/me", { headers: bearer(accessToken) })).status).toBe(200);
    await call(`/v1/api-keys/${key.apiKey.id}`, { method: "DELETE", headers: bearer(tenant.apiKey) });
    await expectProblem(await call("/v1/me", { headers: bearer(key.secret) }), 401, "unauthorized");
    await expectProblem(await call("/v1/me", { headers: bearer(accessToken) }), 401, "unauthorized");
  });

  it("honours expiry and refuses expiries in the past", async () => {
    const tenant = await createTenant();
    await expectProblem(
      await call("/v1/api-keys", jsonBody({ name: "old", expiresAt: "2001-01-01T00:00:00Z" }, tenant.apiKey)),
      400,
      "validation-error",
    );
    const soon = new Date(Date.now() + 1500).toISOString();
    const key = await createKey(tenant, "viewer", { expiresAt: soon });
    expect((await call("/v1/me", { headers: bearer(key.secret) })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1600));
    const expired = await expectProblem(await call("/v1/me", { headers: bearer(key.secret) }), 401, "unauthorized");
    expect(expired.detail).toContain("expired");
  });

  it("needs admin: editors and viewers get 403, and nobody grants a role above their own", async () => {
    const tenant = await createTenant();
    const editor = await createKey(tenant, "editor");
    const admin = await createKey(tenant, "admin");
    await expectProblem(await call("/v1/api-keys", { headers: bearer(editor.secret) }), 403, "insufficient-role");
    await expectProblem(await call("/v1/api-keys", jsonBody({ name: "x" }, editor.secret)), 403, "insufficient-role");
    await expectProblem(
      await call("/v1/api-keys", jsonBody({ name: "x", role: "owner" }, admin.secret)),
      403,
      "insufficient-role",
    );
    const ok = await call("/v1/api-keys", jsonBody({ name: "x", role: "admin" }, admin.secret));
    expect(ok.status).toBe(201);
  });

  it("the tenant's last owner key cannot be deleted, even by itself; with a second owner key it can", async () => {
    const tenant = await createTenant();
    const keys = (await (await call("/v1/api-keys", { headers: bearer(tenant.apiKey) })).json()) as {
      items: { id: string; role: string }[];
    };
    const ownerKeyId = keys.items.find((k) => k.role === "owner")?.id;
    await expectProblem(
      await call(`/v1/api-keys/${ownerKeyId}`, { method: "DELETE", headers: bearer(tenant.apiKey) }),
      409,
      "last-owner",
    );
    const second = await createKey(tenant, "owner");
    expect(
      (await call(`/v1/api-keys/${ownerKeyId}`, { method: "DELETE", headers: bearer(second.secret) })).status,
    ).toBe(204);
    expect((await call("/v1/me", { headers: bearer(second.secret) })).status).toBe(200);
  });

  it("validates the body", async () => {
    const tenant = await createTenant();
    const problem = await expectProblem(
      await call("/v1/api-keys", jsonBody({ name: "", role: "root" }, tenant.apiKey)),
      400,
      "validation-error",
    );
    expect((problem.errors as { field: string }[]).map((e) => e.field).sort()).toEqual(["name", "role"]);
  });
});
