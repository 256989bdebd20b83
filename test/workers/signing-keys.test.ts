import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, bearer, call, createKey, createTenant, expectProblem } from "./helpers";

type Jwks = { keys: { kid: string; kty: string; crv: string; x: string; d?: string }[] };

describe("tenant signing keys", () => {
  it("are made with the tenant and published without their private part", async () => {
    const tenant = await createTenant();
    const res = await call(`/v1/tenants/${tenant.id}/jwks.json`);
    expect(res.status).toBe(200);
    const jwks = (await res.json()) as Jwks;
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: "OKP", crv: "Ed25519" });
    expect(jwks.keys[0]?.d).toBeUndefined();
    const other = (await (await call(`/v1/tenants/${(await createTenant()).id}/jwks.json`)).json()) as Jwks;
    expect(other.keys[0]?.kid).not.toBe(jwks.keys[0]?.kid);
  });

  it("rotate: the new key is active, the old one retired and still published", async () => {
    const tenant = await createTenant();
    const before = (await (await call(`/v1/tenants/${tenant.id}/jwks.json`)).json()) as Jwks;
    const rotated = await call("/v1/signing-keys/rotate", { method: "POST", headers: bearer(tenant.apiKey) });
    expect(rotated.status).toBe(201);
    const active = (await rotated.json()) as { kid: string; status: string };
    expect(active.status).toBe("active");
    const after = (await (await call(`/v1/tenants/${tenant.id}/jwks.json`)).json()) as Jwks;
    expect(after.keys.map((k) => k.kid)).toEqual([active.kid, before.keys[0]?.kid]);
    const list = (await (await call("/v1/signing-keys", { headers: bearer(tenant.apiKey) })).json()) as {
      items: { kid: string; status: string }[];
    };
    expect(list.items.map((k) => k.status).sort()).toEqual(["active", "retired"]);
    expect(JSON.stringify(list)).not.toContain('"d"');
  });

  it("rotation needs owner; listing needs admin; unknown tenants answer 404", async () => {
    const tenant = await createTenant();
    const admin = await createKey(tenant, "admin");
    const editor = await createKey(tenant, "editor");
    await expectProblem(
      await call("/v1/signing-keys/rotate", { method: "POST", headers: bearer(admin.secret) }),
      403,
      "insufficient-role",
    );
    await expectProblem(await call("/v1/signing-keys", { headers: bearer(editor.secret) }), 403, "insufficient-role");
    expect((await call("/v1/signing-keys", { headers: bearer(admin.secret) })).status).toBe(200);
    await expectProblem(await call("/v1/tenants/tn_nobody/jwks.json"), 404, "not-found");
  });

  it("publishes the same JWKS by tenant slug as by id; unknown and deleted tenants answer 404", async () => {
    const tenant = await createTenant();
    const byId = await call(`/v1/tenants/${tenant.id}/jwks.json`);
    const bySlug = await call(`/v1/tenants/${tenant.slug}/jwks.json`);
    expect(bySlug.status).toBe(200);
    expect(bySlug.headers.get("cache-control")).toBe(byId.headers.get("cache-control"));
    const jwks = (await bySlug.json()) as Jwks;
    expect(jwks).toEqual(await byId.json());
    const other = (await (await call(`/v1/tenants/${(await createTenant()).slug}/jwks.json`)).json()) as Jwks;
    expect(other.keys.map((key) => key.kid)).not.toContain(jwks.keys[0]?.kid);
    await expectProblem(await call("/v1/tenants/no-such-tenant-slug/jwks.json"), 404, "not-found");
    expect((await call(`/v1/tenants/${tenant.id}`, { method: "DELETE", headers: bearer(ADMIN_TOKEN) })).status).toBe(
      202,
    );
    await expectProblem(await call(`/v1/tenants/${tenant.slug}/jwks.json`), 404, "not-found");
    await expectProblem(await call(`/v1/tenants/${tenant.id}/jwks.json`), 404, "not-found");
  });
});
