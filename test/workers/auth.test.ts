import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { app } from "../../workers/app";
import { platformSigningKey } from "../../workers/auth/platform-keys";
import { BASE, bearer, call, createKey, createTenant, expectProblem, jsonBody, type TestTenant } from "./helpers";

async function exchange(apiKey: string, body?: unknown): Promise<Response> {
  return call(
    "/v1/auth/token",
    body === undefined ? { method: "POST", headers: bearer(apiKey) } : jsonBody(body, apiKey),
  );
}

async function tokenFor(tenant: TestTenant): Promise<string> {
  const res = await exchange(tenant.apiKey);
  expect(res.status).toBe(200);
  return ((await res.json()) as { accessToken: string }).accessToken;
}

function b64url(value: unknown): string {
  return btoa(JSON.stringify(value)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** A token signed with the real platform key, with claims the test chooses. */
async function platformSigned(claims: Record<string, unknown>, edit: (jwt: SignJWT) => SignJWT = (j) => j) {
  const key = await platformSigningKey(env.MASTER_SECRET, 1);
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ role: "owner", ...claims })
    .setProtectedHeader({ alg: "EdDSA", kid: key.kid })
    .setIssuer(env.JWT_ISSUER)
    .setAudience(env.JWT_AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + 600)
    .setJti(crypto.randomUUID());
  return edit(jwt).sign(key.privateKey);
}

describe("token exchange and platform JWKS", () => {
  it("exchanges an API key for an EdDSA JWT of at most 15 minutes that works as a credential", async () => {
    const tenant = await createTenant();
    const res = await exchange(tenant.apiKey);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { accessToken: string; expiresIn: number; tokenType: string; role: string };
    expect(body).toMatchObject({ tokenType: "Bearer", role: "owner" });
    expect(body.expiresIn).toBeLessThanOrEqual(900);
    const [header, payload] = body.accessToken
      .split(".")
      .slice(0, 2)
      .map((p) => JSON.parse(atob(p.replaceAll("-", "+").replaceAll("_", "/"))));
    expect(header.alg).toBe("EdDSA");
    // Tenant, plan, status and the key it was exchanged for, as of when the key was last read from D1 (chk).
    expect(Object.keys(payload).sort()).toEqual([
      "aud",
      "chk",
      "exp",
      "iat",
      "iss",
      "jti",
      "key",
      "plan",
      "role",
      "slug",
      "status",
      "sub",
      "tenant",
    ]);
    expect(payload).toMatchObject({ plan: "free", status: "active", slug: tenant.slug, sub: `key:${payload.key}` });
    expect(payload.tenant).toBe(tenant.id);
    expect(payload.exp - payload.iat).toBeLessThanOrEqual(900);

    const me = await call("/v1/me", { headers: bearer(body.accessToken) });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ credential: "platform-token", role: "owner", tenant: { id: tenant.id } });
  });

  it("can narrow the role and ttl but never widen them", async () => {
    const tenant = await createTenant();
    const narrowed = await exchange(tenant.apiKey, { role: "viewer", ttlSeconds: 120 });
    expect(narrowed.status).toBe(200);
    expect(await narrowed.json()).toMatchObject({ role: "viewer", expiresIn: 120 });
    const viewer = await createKey(tenant, "viewer");
    await expectProblem(await exchange(viewer.secret, { role: "admin" }), 403, "insufficient-role");
    await expectProblem(await exchange(tenant.apiKey, { ttlSeconds: 901 }), 400, "validation-error");
  });

  it("never issues a token that outlives its API key", async () => {
    const tenant = await createTenant();
    const keyExpiry = Math.floor(Date.now() / 1000) + 300;
    const key = await createKey(tenant, "editor", { expiresAt: new Date(keyExpiry * 1000).toISOString() });
    const res = await exchange(key.secret, { ttlSeconds: 900 });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { accessToken: string; expiresIn: number };
    const payload = JSON.parse(atob((body.accessToken.split(".")[1] ?? "").replaceAll("-", "+").replaceAll("_", "/")));
    expect(payload.exp).toBeLessThanOrEqual(keyExpiry);
    expect(payload.exp).toBeGreaterThan(keyExpiry - 10);
    expect(body.expiresIn).toBeLessThanOrEqual(300);
    // A key without expiry still gets the full 15 minutes.
    expect(((await (await exchange(tenant.apiKey)).json()) as { expiresIn: number }).expiresIn).toBe(900);
  });

  it("only exchanges API keys, not tokens", async () => {
    const tenant = await createTenant();
    await expectProblem(await exchange(await tokenFor(tenant)), 403, "api-key-required");
  });

  it("publishes the public signing key, which verifies issued tokens", async () => {
    const res = await call("/.well-known/jwks.json");
    expect(res.status).toBe(200);
    const jwks = (await res.json()) as { keys: { kty: string; crv: string; kid: string; d?: string }[] };
    expect(jwks.keys[0]).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA" });
    expect(jwks.keys.every((k) => k.d === undefined)).toBe(true);
    const { createLocalJWKSet, jwtVerify } = await import("jose");
    const token = await tokenFor(await createTenant());
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks as never), {
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
    });
    expect(payload.role).toBe("owner");
  });
});

describe("token attacks get 401", () => {
  it("rejects alg none", async () => {
    const tenant = await createTenant();
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: env.JWT_ISSUER,
      aud: env.JWT_AUDIENCE,
      sub: "key:x",
      tenant: tenant.id,
      role: "owner",
      iat: now,
      exp: now + 600,
      jti: "a",
    };
    const token = `${b64url({ alg: "none", typ: "JWT" })}.${b64url(claims)}.`;
    await expectProblem(await call("/v1/me", { headers: bearer(token) }), 401, "unauthorized");
  });

  it("rejects an HMAC token whose secret is the platform public key", async () => {
    const tenant = await createTenant();
    const jwks = (await (await call("/.well-known/jwks.json")).json()) as { keys: { x: string; kid: string }[] };
    const publicKey = jwks.keys[0];
    if (!publicKey) throw new Error("no key published");
    for (const secret of [publicKey.x, JSON.stringify(publicKey)]) {
      const now = Math.floor(Date.now() / 1000);
      const token = await new SignJWT({ tenant: tenant.id, role: "owner" })
        .setProtectedHeader({ alg: "HS256", kid: publicKey.kid })
        .setIssuer(env.JWT_ISSUER)
        .setAudience(env.JWT_AUDIENCE)
        .setSubject("key:x")
        .setIssuedAt(now)
        .setExpirationTime(now + 600)
        .setJti("h")
        .sign(new TextEncoder().encode(secret));
      await expectProblem(await call("/v1/me", { headers: bearer(token) }), 401, "unauthorized");
    }
  });

  it("rejects a bad signature", async () => {
    const token = await tokenFor(await createTenant());
    const [h, p, s] = token.split(".") as [string, string, string];
    const flipped = `${h}.${p}.${s[0] === "A" ? "B" : "A"}${s.slice(1)}`;
    await expectProblem(await call("/v1/me", { headers: bearer(flipped) }), 401, "unauthorized");
    // A payload swapped under a valid signature: claims of another tenant.
    const other = await createTenant();
    const forged = `${h}.${b64url({ ...JSON.parse(atob(p.replaceAll("-", "+").replaceAll("_", "/"))), tenant: other.id })}.${s}`;
    await expectProblem(await call("/v1/me", { headers: bearer(forged) }), 401, "unauthorized");
  });

  it("rejects expired and not-yet-valid tokens", async () => {
    const tenant = await createTenant();
    const now = Math.floor(Date.now() / 1000);
    const expired = await platformSigned({ tenant: tenant.id }, (j) =>
      j
        .setSubject("key:x")
        .setIssuedAt(now - 7200)
        .setExpirationTime(now - 3600),
    );
    const problem = await expectProblem(await call("/v1/me", { headers: bearer(expired) }), 401, "unauthorized");
    expect(problem.detail).toContain("expired");
    const early = await platformSigned({ tenant: tenant.id }, (j) => j.setSubject("key:x").setNotBefore(now + 3600));
    await expectProblem(await call("/v1/me", { headers: bearer(early) }), 401, "unauthorized");
  });

  it("rejects a wrong issuer or audience", async () => {
    const tenant = await createTenant();
    const wrongIssuer = await platformSigned({ tenant: tenant.id }, (j) =>
      j.setSubject("key:x").setIssuer("https://evil.example"),
    );
    await expectProblem(await call("/v1/me", { headers: bearer(wrongIssuer) }), 401, "unauthorized");
    const wrongAudience = await platformSigned({ tenant: tenant.id }, (j) =>
      j.setSubject("key:x").setAudience("someone-else"),
    );
    await expectProblem(await call("/v1/me", { headers: bearer(wrongAudience) }), 401, "unauthorized");
  });

  it("rejects an unknown kid and a key we never published", async () => {
    const tenant = await createTenant();
    const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
    const now = Math.floor(Date.now() / 1000);
    for (const kid of ["unknown-kid", (await platformSigningKey(env.MASTER_SECRET, 1)).kid]) {
      const token = await new SignJWT({ tenant: tenant.id, role: "owner" })
        .setProtectedHeader({ alg: "EdDSA", kid })
        .setIssuer(env.JWT_ISSUER)
        .setAudience(env.JWT_AUDIENCE)
        .setSubject("key:x")
        .setIssuedAt(now)
        .setExpirationTime(now + 600)
        .setJti("k")
        .sign(privateKey);
      await expectProblem(await call("/v1/me", { headers: bearer(token) }), 401, "unauthorized");
    }
  });

  it("rejects garbage, a missing header and other schemes", async () => {
    await expectProblem(await call("/v1/me"), 401, "unauthorized");
    await expectProblem(await call("/v1/me", { headers: bearer("not.a.jwt") }), 401, "unauthorized");
    await expectProblem(
      await call("/v1/me", { headers: { authorization: "Basic dXNlcjpwYXNz" } }),
      401,
      "unauthorized",
    );
    await expectProblem(await call("/v1/me", { headers: bearer("kgen_doesnotexist") }), 401, "unauthorized");
  });
});

describe("external identity provider", () => {
  const issuer = "https://idp.example";
  const audience = "kgen-edge-test";

  async function withIdp() {
    const { privateKey, publicKey } = await generateKeyPair("ES256");
    const jwk = { ...(await exportJWK(publicKey)), kid: "idp-1", alg: "ES256" };
    const idpEnv = {
      ...env,
      AUTH_ISSUER: issuer,
      AUTH_AUDIENCE: audience,
      AUTH_JWKS: JSON.stringify({ keys: [jwk] }),
      AUTH_TENANT_CLAIM: "org",
      AUTH_ROLE_CLAIM: "kgen_role",
    };
    const fetchWithIdp = async (path: string, token: string) => {
      const ctx = createExecutionContext();
      const res = await app.fetch(new Request(`${BASE}${path}`, { headers: bearer(token) }), idpEnv, ctx);
      await waitOnExecutionContext(ctx);
      return res;
    };
    const sign = (claims: Record<string, unknown>, kid = "idp-1") => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT(claims)
        .setProtectedHeader({ alg: "ES256", kid })
        .setIssuer(issuer)
        .setAudience(audience)
        .setSubject("alice@idp")
        .setIssuedAt(now)
        .setExpirationTime(now + 600)
        .sign(privateKey);
    };
    return { fetchWithIdp, sign };
  }

  it("accepts its tokens, taking tenant and role from the configured claims", async () => {
    const tenant = await createTenant();
    const { fetchWithIdp, sign } = await withIdp();
    const res = await fetchWithIdp("/v1/me", await sign({ org: tenant.id, kgen_role: "editor" }));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      credential: "external-token",
      role: "editor",
      subject: "alice@idp",
      tenant: { id: tenant.id },
    });
  });

  it("rejects missing claims, unknown roles, unknown tenants and unknown kids", async () => {
    const tenant = await createTenant();
    const { fetchWithIdp, sign } = await withIdp();
    await expectProblem(await fetchWithIdp("/v1/me", await sign({ kgen_role: "editor" })), 401, "unauthorized");
    await expectProblem(
      await fetchWithIdp("/v1/me", await sign({ org: tenant.id, kgen_role: "superuser" })),
      401,
      "unauthorized",
    );
    await expectProblem(
      await fetchWithIdp("/v1/me", await sign({ org: "tn_nobody", kgen_role: "viewer" })),
      401,
      "unauthorized",
    );
    await expectProblem(
      await fetchWithIdp("/v1/me", await sign({ org: tenant.id, kgen_role: "viewer" }, "idp-2")),
      401,
      "unauthorized",
    );
  });
});
