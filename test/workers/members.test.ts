import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { app } from "../../workers/app";
import { BASE, bearer, call, createKey, createTenant, expectProblem, jsonBody } from "./helpers";

describe("members", () => {
  it("puts, lists and removes members; a member's role overrides the identity provider's claim", async () => {
    const tenant = await createTenant();
    const put = await call("/v1/members/alice%40idp", jsonBody({ role: "admin" }, tenant.apiKey, "PUT"));
    expect(put.status).toBe(200);
    expect(await put.json()).toMatchObject({ subject: "alice@idp", role: "admin" });

    const { privateKey, publicKey } = await generateKeyPair("ES256");
    const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256" };
    const idpEnv = {
      ...env,
      AUTH_ISSUER: "https://idp",
      AUTH_AUDIENCE: "kgen",
      AUTH_JWKS: JSON.stringify({ keys: [jwk] }),
    };
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ tenant: tenant.id, role: "viewer" })
      .setProtectedHeader({ alg: "ES256", kid: "k1" })
      .setIssuer("https://idp")
      .setAudience("kgen")
      .setSubject("alice@idp")
      .setExpirationTime(now + 600)
      .sign(privateKey);
    const ctx = createExecutionContext();
    const me = await app.fetch(new Request(`${BASE}/v1/me`, { headers: bearer(token) }), idpEnv, ctx);
    await waitOnExecutionContext(ctx);
    expect(await me.json()).toMatchObject({ role: "admin", credential: "external-token" });

    const list = (await (await call("/v1/members", { headers: bearer(tenant.apiKey) })).json()) as {
      items: { subject: string }[];
    };
    expect(list.items.map((m) => m.subject)).toEqual(["alice@idp"]);
    expect((await call("/v1/members/alice%40idp", { method: "DELETE", headers: bearer(tenant.apiKey) })).status).toBe(
      204,
    );
    await expectProblem(
      await call("/v1/members/alice%40idp", { method: "DELETE", headers: bearer(tenant.apiKey) }),
      404,
      "not-found",
    );
  });

  it("needs admin, never grants above the caller's role, and validates the role", async () => {
    const tenant = await createTenant();
    const editor = await createKey(tenant, "editor");
    const admin = await createKey(tenant, "admin");
    await expectProblem(await call("/v1/members", { headers: bearer(editor.secret) }), 403, "insufficient-role");
    await expectProblem(
      await call("/v1/members/bob", jsonBody({ role: "owner" }, admin.secret, "PUT")),
      403,
      "insufficient-role",
    );
    await expectProblem(
      await call("/v1/members/bob", jsonBody({ role: "god" }, admin.secret, "PUT")),
      400,
      "validation-error",
    );
  });

  it("only an owner changes or removes an owner member, and never the last owner", async () => {
    const tenant = await createTenant();
    const admin = await createKey(tenant, "admin");
    expect((await call("/v1/members/boss", jsonBody({ role: "owner" }, tenant.apiKey, "PUT"))).status).toBe(200);
    await expectProblem(
      await call("/v1/members/boss", jsonBody({ role: "viewer" }, admin.secret, "PUT")),
      403,
      "insufficient-role",
    );
    await expectProblem(
      await call("/v1/members/boss", { method: "DELETE", headers: bearer(admin.secret) }),
      403,
      "insufficient-role",
    );
    // The owner key and the owner member: the owner may demote the member, who is not the last owner.
    const demoted = await call("/v1/members/boss", jsonBody({ role: "admin" }, tenant.apiKey, "PUT"));
    expect(await demoted.json()).toMatchObject({ subject: "boss", role: "admin" });
    expect((await call("/v1/members/boss", { method: "DELETE", headers: bearer(admin.secret) })).status).toBe(204);
  });

  it("keeps members per tenant: another tenant's subject answers 404", async () => {
    const a = await createTenant();
    const b = await createTenant();
    await call("/v1/members/carol", jsonBody({ role: "viewer" }, b.apiKey, "PUT"));
    await expectProblem(
      await call("/v1/members/carol", { method: "DELETE", headers: bearer(a.apiKey) }),
      404,
      "not-found",
    );
    const list = (await (await call("/v1/members", { headers: bearer(a.apiKey) })).json()) as { items: unknown[] };
    expect(list.items).toHaveLength(0);
  });
});

describe("audit log", () => {
  it("records changes newest first, per tenant, with the request id", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const key = await call("/v1/api-keys", {
      ...jsonBody({ name: "ci", role: "viewer" }, a.apiKey),
      headers: { ...bearer(a.apiKey), "content-type": "application/json", "x-request-id": "audit-req-1" },
    });
    const { apiKey } = (await key.json()) as { apiKey: { id: string } };
    await call(`/v1/api-keys/${apiKey.id}`, { method: "DELETE", headers: bearer(a.apiKey) });
    const res = await call("/v1/audit-log?limit=2", { headers: bearer(a.apiKey) });
    const page = (await res.json()) as {
      items: { action: string; target: string; requestId: string }[];
      nextCursor: number;
    };
    expect(page.items.map((e) => e.action)).toEqual(["api-key.delete", "api-key.create"]);
    expect(page.items[1]).toMatchObject({ target: apiKey.id, requestId: "audit-req-1" });
    const older = (await (
      await call(`/v1/audit-log?cursor=${page.nextCursor}`, { headers: bearer(a.apiKey) })
    ).json()) as { items: { action: string }[] };
    expect(older.items.map((e) => e.action)).toEqual(["tenant.create"]);
    const other = (await (await call("/v1/audit-log", { headers: bearer(b.apiKey) })).json()) as {
      items: { target: string }[];
    };
    expect(other.items.map((e) => e.target)).toEqual([b.id]);
  });
});

describe("key deletion respects rank", () => {
  it("an admin cannot delete the owner's key", async () => {
    const tenant = await createTenant();
    const admin = await createKey(tenant, "admin");
    const keys = (await (await call("/v1/api-keys", { headers: bearer(tenant.apiKey) })).json()) as {
      items: { id: string; role: string }[];
    };
    const ownerKey = keys.items.find((k) => k.role === "owner");
    await expectProblem(
      await call(`/v1/api-keys/${ownerKey?.id}`, { method: "DELETE", headers: bearer(admin.secret) }),
      403,
      "insufficient-role",
    );
    expect((await call("/v1/me", { headers: bearer(tenant.apiKey) })).status).toBe(200);
  });
});
