import { describe, expect, it } from "vitest";
import { JSON_BODY_MAX_BYTES } from "../../workers/middleware/body-limit";
import { ADMIN_TOKEN, bearer, call, createTenant, expectProblem, jsonBody, uniqueSlug } from "./helpers";

/** A JSON object of about `bytes` bytes whose fields would otherwise be valid, or at least parse. */
const bigJson = (fields: Record<string, unknown>, bytes: number) =>
  JSON.stringify({ ...fields, padding: "x".repeat(bytes) });

/** The same body sent as a stream: no Content-Length, so only counting the bytes can refuse it. */
function streamed(body: string, credential: string): RequestInit {
  const bytes = new TextEncoder().encode(body);
  const chunk = 64 * 1024;
  return {
    method: "POST",
    headers: { ...bearer(credential), "content-type": "application/json" },
    body: new ReadableStream({
      start(controller) {
        for (let offset = 0; offset < bytes.length; offset += chunk) {
          controller.enqueue(bytes.subarray(offset, offset + chunk));
        }
        controller.close();
      },
    }),
    duplex: "half",
  } as RequestInit;
}

const declared = (body: string, credential: string): RequestInit => ({
  method: "POST",
  headers: { ...bearer(credential), "content-type": "application/json" },
  body,
});

describe("JSON body limit", () => {
  it("refuses a JSON body over 1 MiB to POST /v1/tenants with 413 before parsing it, declared or streamed", async () => {
    const slug = uniqueSlug("huge");
    const body = bigJson({ slug, name: "Huge" }, 2 * JSON_BODY_MAX_BYTES);
    const problem = await expectProblem(
      await call("/v1/tenants", declared(body, ADMIN_TOKEN)),
      413,
      "payload-too-large",
    );
    expect(problem.detail).toContain(String(JSON_BODY_MAX_BYTES));
    await expectProblem(await call("/v1/tenants", streamed(body, ADMIN_TOKEN)), 413, "payload-too-large");
    // Broken JSON over the limit is refused for its size, not for its syntax: it is never parsed.
    await expectProblem(
      await call("/v1/tenants", streamed(`{"slug": "${"y".repeat(JSON_BODY_MAX_BYTES)}`, ADMIN_TOKEN)),
      413,
      "payload-too-large",
    );
    const page = (await (await call("/v1/tenants?limit=200", { headers: bearer(ADMIN_TOKEN) })).json()) as {
      items: { slug: string }[];
    };
    expect(page.items.map((tenant) => tenant.slug)).not.toContain(slug);
  });

  it("lets a JSON body just under the limit through to validation", async () => {
    const body = bigJson({ slug: uniqueSlug("near"), name: "Near" }, JSON_BODY_MAX_BYTES - 200);
    expect(new TextEncoder().encode(body).length).toBeLessThanOrEqual(JSON_BODY_MAX_BYTES);
    const problem = await expectProblem(
      await call("/v1/tenants", streamed(body, ADMIN_TOKEN)),
      400,
      "validation-error",
    );
    // Parsed and validated: the unknown field is named, so the body was read in full.
    expect(JSON.stringify(problem.errors)).toContain("padding");
  });

  it("applies to tenant JSON routes whatever the plan allows, the optional token body included", async () => {
    const tenant = await createTenant({ plan: "enterprise" });
    const body = bigJson({ name: "big", role: "viewer" }, 2 * JSON_BODY_MAX_BYTES);
    await expectProblem(await call("/v1/api-keys", declared(body, tenant.apiKey)), 413, "payload-too-large");
    await expectProblem(await call("/v1/api-keys", streamed(body, tenant.apiKey)), 413, "payload-too-large");
    await expectProblem(await call("/v1/auth/token", streamed(body, tenant.apiKey)), 413, "payload-too-large");
    const keys = (await (await call("/v1/api-keys", { headers: bearer(tenant.apiKey) })).json()) as {
      items: { name: string }[];
    };
    expect(keys.items.map((key) => key.name)).toEqual(["owner"]);
    expect((await call("/v1/api-keys", jsonBody({ name: "small" }, tenant.apiKey))).status).toBe(201);
  });

  it("leaves raw uploads their own, larger limit", async () => {
    const tenant = await createTenant({ plan: "standard" });
    const turtle = `# ${"c".repeat(2 * JSON_BODY_MAX_BYTES)}\n<urn:a> <urn:b> <urn:c> .\n`;
    const res = await call("/v1/graphs/big-comment", {
      method: "PUT",
      headers: { ...bearer(tenant.apiKey), "content-type": "text/turtle" },
      body: turtle,
    });
    expect(res.status, await res.clone().text()).toBeLessThan(300);
  });
});
