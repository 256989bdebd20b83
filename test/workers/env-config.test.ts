import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../workers/app";
import worker from "../../workers/index";
import { BASE, expectProblem } from "./helpers";

async function fetchWithEnv(path: string, overrides: Record<string, unknown>): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(`${BASE}${path}`), { ...env, ...overrides } as Env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

describe("environment validated at startup", () => {
  it("answers every route 500 misconfigured, naming the missing or malformed setting", async () => {
    const missing = await expectProblem(
      await fetchWithEnv("/v1/health", { MASTER_SECRET: undefined }),
      500,
      "misconfigured",
    );
    expect(missing.detail).toContain("MASTER_SECRET: missing");
    expect(missing.requestId).toBeTruthy();
    const malformed = await expectProblem(
      await fetchWithEnv("/v1/openapi.json", { ENVIRONMENT: "prod", MAX_BODY_BYTES: "lots" }),
      500,
      "misconfigured",
    );
    expect(malformed.detail).toContain("ENVIRONMENT");
    expect(malformed.detail).toContain("MAX_BODY_BYTES");
    const unbound = await expectProblem(await fetchWithEnv("/v1/me", { DB: undefined }), 500, "misconfigured");
    expect(unbound.detail).toContain("DB: the D1 binding is missing");
    expect((await fetchWithEnv("/v1/health", {})).status).toBe(200);
  });

  it("refuses a queue batch before touching a message", async () => {
    let touched = 0;
    const message = {
      id: "m1",
      timestamp: new Date(),
      body: {},
      attempts: 1,
      ack: () => touched++,
      retry: () => touched++,
    };
    const batch = { queue: "kgen-generate", messages: [message], ackAll: () => touched++, retryAll: () => touched++ };
    await expect(
      worker.queue(batch as unknown as MessageBatch<unknown>, { ...env, JWT_KEY_VERSION: "v1" } as unknown as Env),
    ).rejects.toThrow(/JWT_KEY_VERSION/);
    expect(touched).toBe(0);
  });
});
