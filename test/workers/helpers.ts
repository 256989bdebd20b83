import { env, exports } from "cloudflare:workers";
import { expect, vi } from "vitest";

export const ADMIN_TOKEN = env.ADMIN_TOKEN;
export const BASE = "http://kgen.test";

export function call(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(new Request(`${BASE}${path}`, init));
}

export function bearer(credential: string, extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${credential}`, ...extra };
}

export function jsonBody(body: unknown, credential?: string, method = "POST"): RequestInit {
  return {
    method,
    headers: { "content-type": "application/json", ...(credential ? bearer(credential) : {}) },
    body: JSON.stringify(body),
  };
}

let counter = 0;
export function uniqueSlug(prefix = "t"): string {
  counter += 1;
  return `${prefix}-${counter}-${crypto.randomUUID().slice(0, 8)}`;
}

export interface TestTenant {
  id: string;
  slug: string;
  apiKey: string;
}

export async function createTenant(overrides: Record<string, unknown> = {}): Promise<TestTenant> {
  const slug = uniqueSlug();
  const res = await call("/v1/tenants", jsonBody({ slug, name: `Tenant ${slug}`, ...overrides }, ADMIN_TOKEN));
  expect(res.status).toBe(201);
  const body = (await res.json()) as { tenant: { id: string; slug: string }; secret: string };
  return { id: body.tenant.id, slug: body.tenant.slug, apiKey: body.secret };
}

export async function createKey(tenant: TestTenant, role: string, extra: Record<string, unknown> = {}) {
  const res = await call("/v1/api-keys", jsonBody({ name: `${role} key`, role, ...extra }, tenant.apiKey));
  expect(res.status).toBe(201);
  return (await res.json()) as { apiKey: { id: string }; secret: string };
}

/** Asserts an RFC 9457 problem with the given status and type slug; returns the document. */
export async function expectProblem(res: Response, status: number, type: string) {
  expect(res.headers.get("content-type")).toContain("application/problem+json");
  const body = (await res.json()) as Record<string, unknown>;
  expect({ status: res.status, type: body.type }).toEqual({ status, type: `https://kgen.dev/problems/${type}` });
  expect(body.status).toBe(status);
  expect(typeof body.title).toBe("string");
  expect(typeof body.detail).toBe("string");
  expect(body.requestId).toBe(res.headers.get("x-request-id"));
  return body;
}

/** Deletes a tenant (operator: 202) and waits until the queue has completed its erasure. */
export async function deleteTenantAndWait(tenantId: string, timeout = 30_000): Promise<void> {
  const res = await call(`/v1/tenants/${tenantId}`, { method: "DELETE", headers: bearer(ADMIN_TOKEN) });
  expect(res.status, await res.clone().text()).toBe(202);
  const location = res.headers.get("location") as string;
  await vi.waitFor(
    async () => {
      const erasure = (await (await call(location, { headers: bearer(ADMIN_TOKEN) })).json()) as { status: string };
      expect(erasure.status).toBe("completed");
    },
    { timeout, interval: 50 },
  );
}
