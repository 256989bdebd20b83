import { describe, expect, it } from "vitest";
import { countedCall, tally } from "./central-calls";
import { bearer, call, createTenant, expectProblem, jsonBody } from "./helpers";

describe("D1 sessions", () => {
  it("returns the session's bookmark and reads at least as new as a bookmark sent back", async () => {
    const tenant = await createTenant();
    const created = await call("/v1/api-keys", jsonBody({ name: "ci", role: "viewer" }, tenant.apiKey));
    expect(created.status).toBe(201);
    const bookmark = created.headers.get("x-d1-bookmark");
    expect(bookmark).toMatch(/^[0-9A-Za-z-]{1,256}$/);
    const { apiKey } = (await created.json()) as { apiKey: { id: string } };
    const listed = await call("/v1/api-keys", { headers: bearer(tenant.apiKey, { "x-d1-bookmark": bookmark ?? "" }) });
    expect(listed.status).toBe(200);
    const { items } = (await listed.json()) as { items: { id: string }[] };
    expect(items.map((item) => item.id)).toContain(apiKey.id);
    // Bookmarks only move forward.
    expect((listed.headers.get("x-d1-bookmark") ?? "") >= (bookmark ?? "")).toBe(true);
  });

  it("sends no bookmark for a request answered without D1", async () => {
    const tenant = await createTenant();
    const token = (
      (await (await call("/v1/auth/token", { method: "POST", headers: bearer(tenant.apiKey) })).json()) as {
        accessToken: string;
      }
    ).accessToken;
    const render = await countedCall("/v1/render", jsonBody({ template: "x" }, token));
    expect(render.response.status).toBe(200);
    expect(tally(render.onPath)).toEqual({});
    expect(render.response.headers.get("x-d1-bookmark")).toBeNull();
  });

  it("refuses a bookmark that is not one with a 400 naming the header", async () => {
    const tenant = await createTenant();
    for (const bad of ["not a bookmark", "x".repeat(257), "../etc"]) {
      const res = await call("/v1/api-keys", { headers: bearer(tenant.apiKey, { "x-d1-bookmark": bad }) });
      const problem = await expectProblem(res, 400, "validation-error");
      expect(problem.errors).toEqual([{ field: "x-d1-bookmark", message: expect.any(String) }]);
    }
  });
});
