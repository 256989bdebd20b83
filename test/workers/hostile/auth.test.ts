import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { decodeJwt, exportJWK, generateKeyPair, SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { app } from "../../../workers/app";
import { BASE, bearer, call, createKey, createTenant, expectProblem, jsonBody, type TestTenant } from "../helpers";
import { expectRefusedPromptly } from "./bounded";

let bystander: TestTenant;
beforeAll(async () => {
  // Premium: the bystander answers one /v1/me per hostile case, more than the free plan's 60 a minute.
  bystander = await createTenant({ plan: "premium" });
});

/** An identity provider for the test: its tokens name a subject, the tenant and the role it asserts. */
async function identityProvider() {
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  const jwk = { ...(await exportJWK(publicKey)), kid: "idp-hostile", alg: "ES256" };
  const idpEnv = {
    ...env,
    AUTH_ISSUER: "https://idp.hostile",
    AUTH_AUDIENCE: "kgen",
    AUTH_JWKS: JSON.stringify({ keys: [jwk] }),
  };
  const token = (subject: string, tenantId: string, role?: string) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ tenant: tenantId, ...(role ? { role } : {}) })
      .setProtectedHeader({ alg: "ES256", kid: "idp-hostile" })
      .setIssuer("https://idp.hostile")
      .setAudience("kgen")
      .setSubject(subject)
      .setExpirationTime(now + 600)
      .sign(privateKey);
  };
  const fetchAs = async (credential: string, path: string, init: RequestInit = {}) => {
    const ctx = createExecutionContext();
    const headers = { ...bearer(credential), ...((init.headers as Record<string, string>) ?? {}) };
    const res = await app.fetch(new Request(`${BASE}${path}`, { ...init, headers }), idpEnv, ctx);
    await waitOnExecutionContext(ctx);
    return res;
  };
  return { token, fetchAs };
}

async function memberRole(tenant: TestTenant, subject: string): Promise<string | undefined> {
  const page = (await (await call("/v1/members", { headers: bearer(tenant.apiKey) })).json()) as {
    items: { subject: string; role: string }[];
  };
  return page.items.find((member) => member.subject === subject)?.role;
}

async function ownerKeyId(tenant: TestTenant): Promise<string> {
  const page = (await (await call("/v1/api-keys", { headers: bearer(tenant.apiKey) })).json()) as {
    items: { id: string; role: string; name: string }[];
  };
  const key = page.items.find((item) => item.role === "owner" && item.name === "owner");
  if (!key) throw new Error("tenant has no owner key");
  return key.id;
}

describe("owners are changed only by owners, and the last one stays", () => {
  it("an admin cannot demote an owner member, promote to owner, or remove an owner member", async () => {
    const tenant = await createTenant();
    const admin = await createKey(tenant, "admin");
    expect((await call("/v1/members/boss", jsonBody({ role: "owner" }, tenant.apiKey, "PUT"))).status).toBe(200);
    for (const role of ["viewer", "editor", "admin"]) {
      await expectRefusedPromptly(
        () => call("/v1/members/boss", jsonBody({ role }, admin.secret, "PUT")),
        { status: 403, type: "insufficient-role" },
        bystander,
      );
    }
    await expectRefusedPromptly(
      () => call("/v1/members/boss", { method: "DELETE", headers: bearer(admin.secret) }),
      { status: 403, type: "insufficient-role" },
      bystander,
    );
    await expectRefusedPromptly(
      () => call("/v1/members/newcomer", jsonBody({ role: "owner" }, admin.secret, "PUT")),
      { status: 403, type: "insufficient-role" },
      bystander,
    );
    expect(await memberRole(tenant, "boss")).toBe("owner");
    expect(await memberRole(tenant, "newcomer")).toBeUndefined();
    // Admins still manage everyone below owner.
    expect((await call("/v1/members/dev", jsonBody({ role: "admin" }, admin.secret, "PUT"))).status).toBe(200);
    expect((await call("/v1/members/dev", jsonBody({ role: "viewer" }, admin.secret, "PUT"))).status).toBe(200);
    expect((await call("/v1/members/dev", { method: "DELETE", headers: bearer(admin.secret) })).status).toBe(204);
  });

  it("a member row written by an admin cannot pin an identity-provider owner to viewer", async () => {
    const tenant = await createTenant();
    const admin = await createKey(tenant, "admin");
    const idp = await identityProvider();
    expect((await call("/v1/members/founder%40idp", jsonBody({ role: "viewer" }, admin.secret, "PUT"))).status).toBe(
      200,
    );
    const me = await idp.fetchAs(await idp.token("founder@idp", tenant.id, "owner"), "/v1/me");
    expect(await me.json()).toMatchObject({ role: "owner", credential: "external-token" });
    // The provider's owner can still do what only owners do.
    const ownerKey = await idp.fetchAs(await idp.token("founder@idp", tenant.id, "owner"), "/v1/api-keys", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "founder", role: "owner" }),
    });
    expect(ownerKey.status).toBe(201);
    // A member row still lowers a subject the provider asserts below owner.
    const editor = await idp.fetchAs(await idp.token("founder@idp", tenant.id, "admin"), "/v1/me");
    expect(await editor.json()).toMatchObject({ role: "viewer" });
  });

  it("the last owner can be neither removed nor demoted, whether API key or member", async () => {
    const tenant = await createTenant();
    const keyId = await ownerKeyId(tenant);
    await expectRefusedPromptly(
      () => call(`/v1/api-keys/${keyId}`, { method: "DELETE", headers: bearer(tenant.apiKey) }),
      { status: 409, type: "last-owner" },
      bystander,
    );
    expect((await call("/v1/me", { headers: bearer(tenant.apiKey) })).status).toBe(200);

    // With an owner member, the owner key may go; then the member is the last owner.
    const idp = await identityProvider();
    expect((await call("/v1/members/heir", jsonBody({ role: "owner" }, tenant.apiKey, "PUT"))).status).toBe(200);
    expect((await call(`/v1/api-keys/${keyId}`, { method: "DELETE", headers: bearer(tenant.apiKey) })).status).toBe(
      204,
    );
    const heir = await idp.token("heir", tenant.id);
    await expectRefusedPromptly(
      () => idp.fetchAs(heir, "/v1/members/heir", { method: "DELETE" }),
      { status: 409, type: "last-owner" },
      bystander,
    );
    await expectRefusedPromptly(
      () =>
        idp.fetchAs(heir, "/v1/members/heir", {
          method: "PUT",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ role: "admin" }),
        }),
      { status: 409, type: "last-owner" },
      bystander,
    );
    const me = await idp.fetchAs(heir, "/v1/me");
    expect(await me.json()).toMatchObject({ role: "owner" });
    // Nothing half-written: no audit entry for the refused changes.
    const audit = (await (await idp.fetchAs(heir, "/v1/audit-log")).json()) as {
      items: { action: string; target: string }[];
    };
    expect(audit.items.filter((entry) => entry.target === "heir").map((entry) => entry.action)).toEqual(["member.put"]);

    // A second owner makes either removable.
    const second = await idp.fetchAs(heir, "/v1/api-keys", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "second", role: "owner" }),
    });
    expect(second.status).toBe(201);
    expect((await idp.fetchAs(heir, "/v1/members/heir", { method: "DELETE" })).status).toBe(204);
  });

  it("an expiring owner key is a temporary owner: it does not count, and can always be deleted", async () => {
    const tenant = await createTenant();
    const keyId = await ownerKeyId(tenant);
    const temporary = await createKey(tenant, "owner", { expiresAt: new Date(Date.now() + 5 * 60_000).toISOString() });
    await expectRefusedPromptly(
      () => call(`/v1/api-keys/${keyId}`, { method: "DELETE", headers: bearer(temporary.secret) }),
      { status: 409, type: "last-owner" },
      bystander,
    );
    expect(
      (await call(`/v1/api-keys/${temporary.apiKey.id}`, { method: "DELETE", headers: bearer(tenant.apiKey) })).status,
    ).toBe(204);
    expect((await call("/v1/me", { headers: bearer(tenant.apiKey) })).status).toBe(200);
  });

  it("another tenant's owners answer 404, never 403 or 409", async () => {
    const a = await createTenant();
    const b = await createTenant();
    await call("/v1/members/b-owner", jsonBody({ role: "owner" }, b.apiKey, "PUT"));
    await expectProblem(
      await call("/v1/members/b-owner", { method: "DELETE", headers: bearer(a.apiKey) }),
      404,
      "not-found",
    );
    await expectProblem(
      await call(`/v1/api-keys/${await ownerKeyId(b)}`, { method: "DELETE", headers: bearer(a.apiKey) }),
      404,
      "not-found",
    );
    expect(await memberRole(b, "b-owner")).toBe("owner");
  });
});

describe("a token never outlives its API key", () => {
  it("caps exp at the key's expiry for a key expiring in 5 minutes", async () => {
    const tenant = await createTenant();
    const expiresAt = new Date(Date.now() + 5 * 60_000);
    const key = await createKey(tenant, "editor", { expiresAt: expiresAt.toISOString() });
    for (const body of [undefined, { ttlSeconds: 900 }, { ttlSeconds: 600 }]) {
      const res = await call(
        "/v1/auth/token",
        body === undefined ? { method: "POST", headers: bearer(key.secret) } : jsonBody(body, key.secret),
      );
      expect(res.status).toBe(200);
      const issued = (await res.json()) as { accessToken: string; expiresIn: number; expiresAt: string };
      const exp = decodeJwt(issued.accessToken).exp as number;
      expect(exp).toBeLessThanOrEqual(Math.floor(expiresAt.getTime() / 1000));
      expect(exp).toBeGreaterThan(Math.floor(expiresAt.getTime() / 1000) - 10);
      expect(issued.expiresIn).toBeLessThanOrEqual(300);
      expect(Date.parse(issued.expiresAt)).toBeLessThanOrEqual(expiresAt.getTime());
    }
    const shorter = (await (await call("/v1/auth/token", jsonBody({ ttlSeconds: 60 }, key.secret))).json()) as {
      expiresIn: number;
    };
    expect(shorter.expiresIn).toBe(60);
  });

  it("a token stops working once its key has expired", async () => {
    const tenant = await createTenant();
    const key = await createKey(tenant, "viewer", { expiresAt: new Date(Date.now() + 1500).toISOString() });
    const { accessToken } = (await (
      await call("/v1/auth/token", { method: "POST", headers: bearer(key.secret) })
    ).json()) as { accessToken: string };
    expect((await call("/v1/me", { headers: bearer(accessToken) })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1600));
    await expectRefusedPromptly(
      () => call("/v1/me", { headers: bearer(accessToken) }),
      { status: 401, type: "unauthorized" },
      bystander,
    );
  });
});

describe("credentials that carry hostile text", () => {
  it("a token header with an outlandish alg is refused without echoing it", async () => {
    const b64url = (value: unknown) =>
      btoa(JSON.stringify(value)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
    for (const alg of ["<script>".repeat(500), { nested: "object" }, "HS256\n\u0000"]) {
      const token = `${b64url({ alg, typ: "JWT" })}.${b64url({ sub: "x", tenant: "t" })}.c2ln`;
      const problem = await expectRefusedPromptly(
        () => call("/v1/me", { headers: bearer(token) }),
        { status: 401, type: "unauthorized" },
        bystander,
      );
      expect(String(problem.detail)).not.toContain("<script>");
      expect(String(problem.detail)).not.toContain("nested");
      expect(String(problem.detail).length).toBeLessThan(120);
    }
  });
});

/**
 * A request whose URL reaches the app exactly as written, as from a front door that does not resolve
 * dot segments (`new Request` and workerd resolve them first; see the next describe).
 */
async function arrivingAsWritten(path: string, init: RequestInit): Promise<Response> {
  const request = new Request(`${BASE}/v1/health`, init);
  const url = `${BASE}${path}`;
  const asWritten = new Proxy(request, {
    get(target, key) {
      if (key === "url") return url;
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const ctx = createExecutionContext();
  const res = await app.fetch(asWritten, env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

const TRAVERSALS = [
  "gen/../priv/secret.njk",
  "gen/%2e%2e/priv/secret.njk",
  "gen/%2E%2e/priv/secret.njk",
  "gen/.%2e/priv/secret.njk",
  "gen/%2e%2E/priv/secret.njk",
  "gen/./../priv/secret.njk",
  "gen/..\\priv\\secret.njk",
  "gen/..%5cpriv%5csecret.njk",
  "gen/..%5Cpriv/secret.njk",
  "gen/..%2fpriv%2fsecret.njk",
  "gen%2f..%2fpriv/secret.njk",
  "gen/secret.njk%00.txt",
  "gen/secret%00",
  "gen/a%0ab.njk",
  "gen/a%7fb.njk",
  "gen//priv/secret.njk",
  "gen/priv//secret.njk",
  "gen/priv/secret.njk/",
  "gen/a%2",
  "gen/x%2enjk",
];

describe("template addresses name their template directly", () => {
  const secret = "{{ private }}";
  async function tenantWithSecret() {
    const tenant = await createTenant({ plan: "premium" });
    const put = await call("/v1/templates/priv/secret.njk", {
      method: "PUT",
      headers: { ...bearer(tenant.apiKey), "content-type": "text/plain" },
      body: secret,
    });
    expect(put.status).toBe(201);
    return tenant;
  }

  it.each(["PUT", "GET", "DELETE"])(
    "%s refuses traversal, encoded dots, backslashes, empty segments, controls and NUL",
    async (method) => {
      const tenant = await tenantWithSecret();
      for (const address of TRAVERSALS) {
        const init: RequestInit =
          method === "PUT"
            ? {
                method,
                headers: { ...bearer(tenant.apiKey), "content-type": "text/plain", "content-length": "5" },
                body: "owned",
              }
            : { method, headers: bearer(tenant.apiKey) };
        const problem = await expectRefusedPromptly(
          () => arrivingAsWritten(`/v1/templates/${address}`, init),
          { status: 422, type: "invalid-template-path" },
          bystander,
        ).catch((error: unknown) => {
          throw new Error(`${method} ${address}: ${String(error)}`);
        });
        expect(problem.field).toBe("path");
        expect(typeof problem.reason).toBe("string");
        expect(String(problem.detail)).not.toMatch(/Error|at |\.ts/);
      }
      const kept = await call("/v1/templates/priv/secret.njk", {
        headers: { ...bearer(tenant.apiKey), accept: "text/plain" },
      });
      expect(await kept.text()).toBe(secret);
      const list = (await (await call("/v1/templates", { headers: bearer(tenant.apiKey) })).json()) as {
        items: unknown[];
      };
      expect(list.items).toHaveLength(1);
    },
    20_000,
  );

  it("refuses what survives URL parsing in the normal request path too", async () => {
    const tenant = await tenantWithSecret();
    const survivors = [
      "gen/..%5cpriv%5csecret.njk",
      "gen%2f..%2fpriv/secret.njk",
      "gen/a%2fb.njk",
      "gen/secret.njk%00",
      "gen//x.njk",
      "gen/x%2enjk",
    ];
    for (const address of survivors) {
      for (const method of ["PUT", "GET", "DELETE"]) {
        await expectRefusedPromptly(
          () =>
            call(`/v1/templates/${address}`, {
              method,
              headers: { ...bearer(tenant.apiKey), "content-type": "text/plain" },
              ...(method === "PUT" ? { body: "owned" } : {}),
            }),
          { status: 422, type: "invalid-template-path" },
          bystander,
        );
      }
    }
    await expectRefusedPromptly(
      () => call("/v1/generators/priv%2f..", { headers: bearer(tenant.apiKey) }),
      { status: 422, type: "invalid-template-path" },
      bystander,
    );
  });

  it("dot segments and backslashes are resolved before the Worker runs: the request names the resolved template, in the caller's tenant and role", async () => {
    const tenant = await tenantWithSecret();
    const other = await tenantWithSecret();
    const viewer = await createKey(tenant, "viewer");
    for (const address of [
      "gen/../priv/secret.njk",
      "gen/%2e%2e/priv/secret.njk",
      "gen/.%2E/priv/secret.njk",
      "gen\\..\\priv/secret.njk",
    ]) {
      const arrived = new URL(`${BASE}/v1/templates/${address}`).pathname;
      expect(arrived).toBe("/v1/templates/priv/secret.njk");
      await expectProblem(
        await call(`/v1/templates/${address}`, {
          method: "PUT",
          headers: { ...bearer(viewer.secret), "content-type": "text/plain" },
          body: "owned",
        }),
        403,
        "insufficient-role",
      );
    }
    const otherSource = await call("/v1/templates/priv/secret.njk", {
      headers: { ...bearer(other.apiKey), accept: "text/plain" },
    });
    expect(await otherSource.text()).toBe(secret);
  });

  it("another tenant's templates still answer 404 at plain addresses", async () => {
    const owner = await tenantWithSecret();
    const stranger = await createTenant();
    await expectProblem(
      await call("/v1/templates/priv/secret.njk", { headers: bearer(stranger.apiKey) }),
      404,
      "not-found",
    );
    await expectProblem(
      await arrivingAsWritten("/v1/templates/gen/../priv/secret.njk", {
        method: "DELETE",
        headers: bearer(stranger.apiKey),
      }),
      422,
      "invalid-template-path",
    );
    expect((await call("/v1/templates/priv/secret.njk", { headers: bearer(owner.apiKey) })).status).toBe(200);
  });

  it("fuzz: random addresses with one unsafe piece are refused, plain ones reach validation", async () => {
    const tenant = await createTenant({ plan: "premium" });
    const pieces = ["..", "%2e%2e", ".%2e", "%2e.", "\\", "%5c", "%2f", "%00", "%1f", "", "."];
    let seed = 7;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let i = 0; i < 40; i++) {
      const segments = Array.from({ length: 1 + next(4) }, (_, j) => `s${i}${j}`);
      const unsafe = pieces[next(pieces.length)] as string;
      segments.splice(1 + next(segments.length), 0, unsafe);
      const address = `gen/${segments.join("/")}`;
      const res = await arrivingAsWritten(`/v1/templates/${address}`, { headers: bearer(tenant.apiKey) });
      expect({ address, status: res.status }).toEqual({ address, status: 422 });
      const plain = await arrivingAsWritten(
        `/v1/templates/gen/${segments.filter((s) => s.startsWith("s")).join("/")}.njk`,
        {
          headers: bearer(tenant.apiKey),
        },
      );
      expect({ address, status: plain.status }).toEqual({ address, status: 404 });
    }
  });
});
