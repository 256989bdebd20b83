import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../workers/app";
import { ADMIN_TOKEN, BASE, bearer, call, createTenant, expectProblem, jsonBody } from "./helpers";

async function fetchWithEnv(path: string, init: RequestInit, overrides: Partial<Record<keyof Env, unknown>>) {
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(`${BASE}${path}`, init), { ...env, ...overrides } as Env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

describe("request id and trace context", () => {
  it("keeps a sane X-Request-Id and generates one otherwise", async () => {
    const kept = await call("/v1/health", { headers: { "x-request-id": "req-123.abc" } });
    expect(kept.headers.get("x-request-id")).toBe("req-123.abc");
    const replaced = await call("/v1/health", { headers: { "x-request-id": "bad id with spaces" } });
    expect(replaced.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const generated = await call("/v1/health");
    expect(generated.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("continues the caller's W3C trace with a new span", async () => {
    const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const res = await call("/v1/health", { headers: { traceparent: parent } });
    const traceparent = res.headers.get("traceparent") ?? "";
    expect(traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
    expect(traceparent).not.toBe(parent);
    const fresh = await call("/v1/health", { headers: { traceparent: "garbage" } });
    expect(fresh.headers.get("traceparent")).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });
});

describe("error model", () => {
  it("404 for unknown routes, 405 with Allow for known paths", async () => {
    await expectProblem(await call("/v1/nothing-here"), 404, "not-found");
    const res = await call("/v1/health", { method: "DELETE" });
    const problem = await expectProblem(res, 405, "method-not-allowed");
    expect(problem.detail).toContain("DELETE");
    expect(res.headers.get("allow")).toBe("GET, HEAD");
    const tenants = await call("/v1/tenants/tn_x", { method: "PUT", headers: bearer(ADMIN_TOKEN) });
    await expectProblem(tenants, 405, "method-not-allowed");
    expect(tenants.headers.get("allow")).toBe("DELETE, GET, HEAD, PATCH");
  });

  it("413 for a body over the configured size, with or without Content-Length", async () => {
    const big = JSON.stringify({ slug: "big-body", name: "x".repeat(5000) });
    const declared = await fetchWithEnv("/v1/tenants", jsonBody(JSON.parse(big), ADMIN_TOKEN), {
      MAX_BODY_BYTES: "1024",
    });
    await expectProblem(declared, 413, "payload-too-large");
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big));
        controller.close();
      },
    });
    const streamed = await fetchWithEnv(
      "/v1/tenants",
      {
        method: "POST",
        headers: { ...bearer(ADMIN_TOKEN), "content-type": "application/json" },
        body: stream,
        duplex: "half",
      } as RequestInit,
      { MAX_BODY_BYTES: "1024" },
    );
    await expectProblem(streamed, 413, "payload-too-large");
    const list = (await (await call("/v1/tenants?limit=200", { headers: bearer(ADMIN_TOKEN) })).json()) as {
      items: { slug: string }[];
    };
    expect(list.items.map((t) => t.slug)).not.toContain("big-body");
  });

  it("an unexpected failure is an opaque 500 carrying the request id", async () => {
    const tenant = await createTenant();
    const brokenDb = {
      prepare: () => {
        throw new Error("secret internal detail");
      },
      batch: () => {
        throw new Error("secret internal detail");
      },
    };
    const res = await fetchWithEnv("/v1/me", { headers: bearer(tenant.apiKey) }, { DB: brokenDb });
    const problem = await expectProblem(res, 500, "internal");
    expect(JSON.stringify(problem)).not.toContain("secret internal detail");
  });
});

describe("problem types and details", () => {
  it("every framework-generated problem has a problem URI type and our own wording", async () => {
    const tenant = await createTenant();
    const cases: [Promise<Response>, number, string][] = [
      [call("/v1/nothing-here"), 404, "not-found"],
      [call("/v1/health", { method: "DELETE" }), 405, "method-not-allowed"],
      [
        call("/v1/auth/token", {
          method: "POST",
          headers: { ...bearer(tenant.apiKey), "content-type": "application/x-www-form-urlencoded" },
          body: "ttlSeconds=60",
        }),
        415,
        "unsupported-media-type",
      ],
      [
        call("/v1/auth/token", {
          method: "POST",
          headers: { ...bearer(tenant.apiKey), "content-type": "multipart/form-data; boundary=x" },
          body: "--x--",
        }),
        415,
        "unsupported-media-type",
      ],
      [
        call("/v1/api-keys", {
          method: "POST",
          headers: { ...bearer(tenant.apiKey), "content-type": "application/json" },
          body: '{"name": "x", "role":',
        }),
        400,
        "validation-error",
      ],
      [
        call("/v1/tenants", {
          method: "POST",
          headers: { ...bearer(ADMIN_TOKEN), "content-type": "application/json" },
          body: "{'single': 'quotes'}",
        }),
        400,
        "validation-error",
      ],
      [call("/v1/auth/token", jsonBody({ ttlSeconds: "soon" }, tenant.apiKey)), 400, "validation-error"],
      [call("/v1/api-keys?limit=zero", { headers: bearer(tenant.apiKey) }), 400, "validation-error"],
    ];
    for (const [pending, status, type] of cases) {
      const res = await pending;
      const problem = await expectProblem(res, status, type);
      expect(String(problem.type)).toMatch(/^https:\/\/kgen\.dev\/problems\/[a-z-]+$/);
      // Parser and runtime wording never reaches the client.
      expect(JSON.stringify(problem)).not.toMatch(
        /JSON at position|Unexpected token|SyntaxError|Malformed JSON in request body/,
      );
    }
  });
});

describe("response headers", () => {
  it("every response says nosniff: success, problem, unknown route, public keys", async () => {
    const tenant = await createTenant();
    for (const res of [
      await call("/v1/health"),
      await call("/v1/me", { headers: bearer(tenant.apiKey) }),
      await call("/v1/me"),
      await call("/v1/nothing-here"),
      await call("/.well-known/jwks.json"),
      await call("/v1/openapi.json"),
    ]) {
      expect(res.headers.get("x-content-type-options"), res.url).toBe("nosniff");
      await res.arrayBuffer();
    }
  });

  it("responses carrying a secret or tenant data are never stored; public keys keep their own caching", async () => {
    const slug = `nostore-${crypto.randomUUID().slice(0, 8)}`;
    const created = await call("/v1/tenants", jsonBody({ slug, name: "No store" }, ADMIN_TOKEN));
    expect(created.status).toBe(201);
    expect(created.headers.get("cache-control")).toBe("private, no-store");
    const { secret: apiKey } = (await created.json()) as { secret: string };
    const key = await call("/v1/api-keys", jsonBody({ name: "ci", role: "viewer" }, apiKey));
    expect(key.status).toBe(201);
    expect(key.headers.get("cache-control")).toBe("private, no-store");
    const token = await call("/v1/auth/token", { method: "POST", headers: bearer(apiKey) });
    expect(token.status).toBe(200);
    expect(token.headers.get("cache-control")).toBe("private, no-store");
    for (const path of ["/v1/me", "/v1/api-keys", "/v1/members", "/v1/audit-log"]) {
      const res = await call(path, { headers: bearer(apiKey) });
      expect(res.headers.get("cache-control"), path).toBe("private, no-store");
    }
    const problem = await call("/v1/me", { headers: bearer("kgen_not-a-real-key") });
    expect(problem.headers.get("cache-control")).toBe("private, no-store");
    expect((await call("/.well-known/jwks.json")).headers.get("cache-control")).toBe("public, max-age=300");
  });
});

describe("production safety", () => {
  it("refuses operator routes with the development admin token or with none", async () => {
    const init = { headers: bearer("kgen-dev-admin") };
    const dev = await fetchWithEnv("/v1/tenants", init, { ENVIRONMENT: "production", ADMIN_TOKEN: "kgen-dev-admin" });
    await expectProblem(dev, 403, "operator-disabled");
    const none = await fetchWithEnv("/v1/tenants", init, { ENVIRONMENT: "production", ADMIN_TOKEN: "" });
    await expectProblem(none, 403, "operator-disabled");
    // The same token is accepted outside production, and a real token is accepted in production.
    expect((await fetchWithEnv("/v1/tenants", init, { ADMIN_TOKEN: "kgen-dev-admin" })).status).toBe(200);
    const real = await fetchWithEnv("/v1/tenants", { headers: bearer(ADMIN_TOKEN) }, { ENVIRONMENT: "production" });
    expect(real.status).toBe(200);
  });
});

describe("OpenAPI", () => {
  it("describes every route from the same zod schemas", async () => {
    const res = await call("/v1/openapi.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, unknown> };
    };
    expect(doc.openapi).toBe("3.1.0");
    for (const path of [
      "/v1/health",
      "/v1/tenants",
      "/v1/tenants/{id}",
      "/v1/auth/token",
      "/v1/me",
      "/v1/api-keys",
      "/v1/api-keys/{id}",
      "/.well-known/jwks.json",
      "/v1/graphs/{name}/sparql",
      "/v1/generations",
      "/v1/templates/{generator}/{path}",
      "/v1/artifacts/{id}/attestation",
      "/v1/render",
    ]) {
      expect(doc.paths[path], path).toBeDefined();
    }
    expect(Object.keys(doc.paths["/v1/tenants/{id}"] ?? {}).sort()).toEqual(["delete", "get", "patch"]);
    expect(doc.components.schemas).toHaveProperty("CreateTenant");
  });
});

describe("abuse guard", () => {
  it("answers 429 with Retry-After when the coarse per-client limiter says no", async () => {
    const denying = { limit: async () => ({ success: false }) };
    const res = await fetchWithEnv("/v1/health", {}, { ABUSE_LIMITER: denying });
    await expectProblem(res, 429, "rate-limited");
    expect(res.headers.get("retry-after")).toBe("60");
  });
});
