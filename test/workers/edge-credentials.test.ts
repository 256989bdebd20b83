import { env } from "cloudflare:workers";
import { createLocalJWKSet, decodeJwt, exportJWK, generateKeyPair, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { tokenConfig } from "../../workers/auth/config";
import { CREDENTIAL_CACHE_TTL_MS, EdgeCredentials } from "../../workers/auth/edge-credentials";
import type { TokenConfig } from "../../workers/auth/tokens";
import { HttpError } from "../../workers/problems/http-error";
import { CentralCallLog } from "./central-calls";
import { ADMIN_TOKEN, bearer, call, createKey, createTenant, jsonBody } from "./helpers";

const config = () => tokenConfig(env);

/** Another location: its own caches, its own clock. Changes made through `call()` happen elsewhere. */
function otherLocation() {
  const location = new EdgeCredentials();
  const log = new CentralCallLog();
  const counted = log.wrap(env);
  return {
    log,
    identify: (credential: string, nowMs: number, tokens: () => TokenConfig = config) =>
      location.identify(credential, counted, tokens, nowMs),
  };
}

async function refusal(attempt: Promise<unknown>): Promise<{ status: number; type: string }> {
  const error = await attempt.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(HttpError);
  const { status, type } = error as HttpError;
  return { status, type };
}

async function exchange(secret: string): Promise<string> {
  const res = await call("/v1/auth/token", { method: "POST", headers: bearer(secret) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { accessToken: string }).accessToken;
}

describe("revocation bound", () => {
  it("states a bound of 60 seconds", () => {
    expect(CREDENTIAL_CACHE_TTL_MS).toBe(60_000);
  });

  it("a deleted API key keeps working at a location that saw it for less than the bound, then stops", async () => {
    const tenant = await createTenant();
    const key = await createKey(tenant, "editor");
    const here = otherLocation();
    const t0 = Date.now();
    expect((await here.identify(key.secret, t0)).principal.apiKeyId).toBe(key.apiKey.id);
    expect(here.log.count("d1")).toBe(1);
    expect(
      (await call(`/v1/api-keys/${key.apiKey.id}`, { method: "DELETE", headers: bearer(tenant.apiKey) })).status,
    ).toBe(204);
    expect((await here.identify(key.secret, t0 + CREDENTIAL_CACHE_TTL_MS - 1)).tenant.id).toBe(tenant.id);
    expect(here.log.count("d1")).toBe(1);
    expect(await refusal(here.identify(key.secret, t0 + CREDENTIAL_CACHE_TTL_MS))).toMatchObject({ status: 401 });
    expect(here.log.count("d1")).toBe(2);
  });

  it("the location that deletes a key refuses it at once", async () => {
    const tenant = await createTenant();
    const key = await createKey(tenant, "editor");
    expect((await call("/v1/me", { headers: bearer(key.secret) })).status).toBe(200);
    await call(`/v1/api-keys/${key.apiKey.id}`, { method: "DELETE", headers: bearer(tenant.apiKey) });
    expect((await call("/v1/me", { headers: bearer(key.secret) })).status).toBe(401);
  });

  it("a platform token answers from its claims for the bound, then confirms its key: refused once the key is gone", async () => {
    const tenant = await createTenant();
    const key = await createKey(tenant, "editor");
    const token = await exchange(key.secret);
    const confirmedAtMs = (decodeJwt(token).chk as number) * 1000;
    const here = otherLocation();
    const fresh = await here.identify(token, confirmedAtMs + CREDENTIAL_CACHE_TTL_MS - 1);
    expect(fresh).toMatchObject({
      principal: { credential: "platform-token", apiKeyId: key.apiKey.id, role: "editor" },
      tenant: { id: tenant.id, slug: tenant.slug, plan: "free", status: "active", jurisdiction: null },
    });
    expect(here.log.count()).toBe(0);
    // Past the bound the key is read once, then known here for the bound again.
    await here.identify(token, confirmedAtMs + CREDENTIAL_CACHE_TTL_MS);
    await here.identify(token, confirmedAtMs + CREDENTIAL_CACHE_TTL_MS + 30_000);
    expect(here.log.count("d1")).toBe(1);

    await call(`/v1/api-keys/${key.apiKey.id}`, { method: "DELETE", headers: bearer(tenant.apiKey) });
    const elsewhere = otherLocation();
    expect((await elsewhere.identify(token, confirmedAtMs + 1_000)).principal.apiKeyId).toBe(key.apiKey.id);
    expect(await refusal(elsewhere.identify(token, confirmedAtMs + CREDENTIAL_CACHE_TTL_MS))).toMatchObject({
      status: 401,
      type: "unauthorized",
    });
  });

  it("a token minted from a key deleted through the same location is refused there at once", async () => {
    const tenant = await createTenant();
    const key = await createKey(tenant, "editor");
    const token = await exchange(key.secret);
    expect((await call("/v1/me", { headers: bearer(token) })).status).toBe(200);
    await call(`/v1/api-keys/${key.apiKey.id}`, { method: "DELETE", headers: bearer(tenant.apiKey) });
    expect((await call("/v1/me", { headers: bearer(token) })).status).toBe(401);
  });

  it("a suspended tenant is seen as suspended everywhere within the bound, by keys and tokens", async () => {
    const tenant = await createTenant();
    const token = await exchange(tenant.apiKey);
    const confirmedAtMs = (decodeJwt(token).chk as number) * 1000;
    const here = otherLocation();
    const t0 = Date.now();
    await here.identify(tenant.apiKey, t0);
    const suspend = await call(`/v1/tenants/${tenant.id}`, jsonBody({ status: "suspended" }, ADMIN_TOKEN, "PATCH"));
    expect(suspend.status).toBe(200);
    expect((await here.identify(tenant.apiKey, t0 + CREDENTIAL_CACHE_TTL_MS - 1)).tenant.status).toBe("active");
    expect((await here.identify(tenant.apiKey, t0 + CREDENTIAL_CACHE_TTL_MS)).tenant.status).toBe("suspended");
    const elsewhere = otherLocation();
    expect((await elsewhere.identify(token, confirmedAtMs + CREDENTIAL_CACHE_TTL_MS)).tenant.status).toBe("suspended");
    // Where the change was made, it holds at once: 403 for keys and tokens alike.
    expect((await call("/v1/api-keys", { headers: bearer(tenant.apiKey) })).status).toBe(403);
    expect((await call("/v1/api-keys", { headers: bearer(token) })).status).toBe(403);
  });

  it("a deleted member's external token stops working within the bound", async () => {
    const idp = await generateKeyPair("ES256");
    const jwk = { ...(await exportJWK(idp.publicKey)), kid: "idp-1", alg: "ES256" };
    const issuer = "https://idp.example";
    const external = () => ({
      ...config(),
      external: {
        issuer,
        audience: "kgen",
        algorithms: ["ES256"],
        tenantClaim: "tenant",
        roleClaim: "role",
        keys: createLocalJWKSet({ keys: [jwk] }),
      },
    });
    const tenant = await createTenant();
    const subject = "user-7";
    const put = await call(`/v1/members/${subject}`, jsonBody({ role: "editor" }, tenant.apiKey, "PUT"));
    expect(put.status).toBe(200);
    const t0 = Date.now();
    const token = await new SignJWT({ tenant: tenant.id })
      .setProtectedHeader({ alg: "ES256", kid: "idp-1" })
      .setIssuer(issuer)
      .setAudience("kgen")
      .setSubject(subject)
      .setIssuedAt(Math.floor(t0 / 1000))
      .setExpirationTime(Math.floor(t0 / 1000) + 3600)
      .sign(idp.privateKey);
    const here = otherLocation();
    expect((await here.identify(token, t0, external)).principal).toMatchObject({
      role: "editor",
      credential: "external-token",
    });
    const removed = await call(`/v1/members/${subject}`, { method: "DELETE", headers: bearer(tenant.apiKey) });
    expect(removed.status).toBe(204);
    expect((await here.identify(token, t0 + CREDENTIAL_CACHE_TTL_MS - 1, external)).principal.role).toBe("editor");
    expect(await refusal(here.identify(token, t0 + CREDENTIAL_CACHE_TTL_MS, external))).toMatchObject({ status: 401 });
    expect(here.log.count("d1")).toBe(2);
  });
});
