import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../shared/core/sha256";
import { tenantObject } from "../../workers/tenant-object-stub";
import { bearer, call, createTenant, expectProblem } from "./helpers";

const templateEvents = async (tenantId: string) =>
  (await tenantObject(env, { id: tenantId, jurisdiction: null }).readEvents({ types: ["template.*"] })).events.map(
    (event) => ({ type: event.type, data: event.data }),
  );

describe("template events", () => {
  it("appends template.updated on each put and template.deleted once per delete", async () => {
    const tenant = await createTenant();
    const put = (source: string) =>
      call("/v1/templates/gen/a.njk", {
        method: "PUT",
        headers: { ...bearer(tenant.apiKey), "content-type": "text/plain" },
        body: source,
      });
    expect((await put("one")).status).toBe(201);
    expect((await put("two")).status).toBe(200);
    expect((await call("/v1/templates/gen/a.njk", { method: "DELETE", headers: bearer(tenant.apiKey) })).status).toBe(
      204,
    );
    await expectProblem(
      await call("/v1/templates/gen/a.njk", { method: "DELETE", headers: bearer(tenant.apiKey) }),
      404,
      "not-found",
    );
    expect(await templateEvents(tenant.id)).toEqual([
      { type: "template.updated", data: { path: "a.njk", generator: "gen", sha256: await sha256Hex("one") } },
      { type: "template.updated", data: { path: "a.njk", generator: "gen", sha256: await sha256Hex("two") } },
      { type: "template.deleted", data: { path: "a.njk", generator: "gen" } },
    ]);
    const page = (await (
      await call("/v1/events?types=template.deleted", { headers: bearer(tenant.apiKey) })
    ).json()) as {
      events: { type: string; subject: string }[];
    };
    expect(page.events).toMatchObject([{ type: "dev.kgen.template.deleted", subject: "templates/a.njk" }]);
  });

  it("records nothing for a refused put or a delete that lost its race", async () => {
    const tenant = await createTenant();
    const refused = await call("/v1/templates/gen/bad.njk", {
      method: "PUT",
      headers: { ...bearer(tenant.apiKey), "content-type": "application/json" },
      body: "{}",
    });
    await expectProblem(refused, 415, "unsupported-media-type");
    const stub = tenantObject(env, { id: tenant.id, jurisdiction: null });
    const now = new Date();
    const outcome = await stub.recordTemplateChange(
      tenant.id,
      { kind: "delete", generator: "gen", path: "gone.njk", actor: "test", requestId: "r1", now: now.toISOString() },
      { type: "template.deleted", data: { path: "gone.njk", generator: "gen" }, createdAt: now.getTime() },
    );
    expect(outcome).toEqual({ changed: false, event: null });
    expect(await templateEvents(tenant.id)).toEqual([]);
  });
});
