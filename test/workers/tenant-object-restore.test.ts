import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, bearer, call, createTenant, expectProblem, jsonBody } from "./helpers";

const restore = (tenantId: string, body: unknown, credential = ADMIN_TOKEN) =>
  call(`/v1/tenants/${tenantId}/object-restore`, jsonBody(body, credential));

describe("tenant object point-in-time restore (operator)", () => {
  it("is the operator's only", async () => {
    const tenant = await createTenant();
    await expectProblem(await restore(tenant.id, { at: new Date().toISOString() }, tenant.apiKey), 401, "unauthorized");
    await expectProblem(
      await call(`/v1/tenants/${tenant.id}/object-restore`, jsonBody({ at: new Date().toISOString() })),
      401,
      "unauthorized",
    );
  });

  it("checks the tenant and the restore point", async () => {
    const tenant = await createTenant();
    await expectProblem(await restore("tn_missing", { at: new Date().toISOString() }), 404, "not-found");
    await expectProblem(await restore(tenant.id, { at: "yesterday" }), 400, "validation-error");
    await expectProblem(
      await restore(tenant.id, { at: new Date().toISOString(), bookmark: "b" }),
      400,
      "validation-error",
    );
    await expectProblem(await restore(tenant.id, {}), 400, "validation-error");
    await expectProblem(
      await restore(tenant.id, { at: new Date(Date.now() + 60_000).toISOString() }),
      422,
      "invalid-restore-point",
    );
    await expectProblem(
      await restore(tenant.id, { at: new Date(Date.now() - 31 * 24 * 60 * 60 * 1000).toISOString() }),
      422,
      "invalid-restore-point",
    );
  });

  it("answers 501 where the storage has no point-in-time recovery (the local runtime), changing nothing", async () => {
    const tenant = await createTenant();
    const put = await call("/v1/graphs/g", {
      method: "PUT",
      headers: { ...bearer(tenant.apiKey), "content-type": "application/n-triples" },
      body: "<http://e/s> <http://e/p> <http://e/o> .",
    });
    expect(put.status).toBe(201);
    const problem = await expectProblem(
      await restore(tenant.id, { at: new Date(Date.now() - 60_000).toISOString() }),
      501,
      "point-in-time-recovery-unavailable",
    );
    expect(problem.detail).toContain("point-in-time recovery");
    expect((await call("/v1/graphs/g", { headers: bearer(tenant.apiKey) })).status).toBe(200);
  });
});
