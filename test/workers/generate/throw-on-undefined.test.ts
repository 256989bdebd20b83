import { describe, expect, it, vi } from "vitest";
import { planLimits } from "../../../shared/plans";
import { bearer, call, createTenant, expectProblem, jsonBody, type TestTenant } from "../helpers";
import { runJob } from "../job-helpers";

const TEMPLATE = "---\nto: out.txt\n---\nline one\n{{ title }} {{ foo.bar }}\n";

async function tenantWith(template: string): Promise<TestTenant> {
  const tenant = await createTenant();
  const graph = await call("/v1/graphs/g", {
    method: "PUT",
    headers: { ...bearer(tenant.apiKey), "content-type": "text/turtle" },
    body: "<http://example.org/a> <http://example.org/p> 1 .",
  });
  expect(graph.status).toBe(201);
  const res = await call("/v1/templates/gen/out.njk", {
    method: "PUT",
    headers: { ...bearer(tenant.apiKey), "content-type": "text/plain" },
    body: template,
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return tenant;
}

const generate = (tenant: TestTenant, body: unknown) => call("/v1/generations", jsonBody(body, tenant.apiKey));
/** A job started and run on the queue to its end. */
const generated = (tenant: TestTenant, body: unknown) => runJob(tenant.apiKey, body, "/v1/generations");

describe("throwOnUndefined", () => {
  it("is off by default: an undefined output renders empty and the lock records no options", async () => {
    const tenant = await tenantWith(TEMPLATE);
    const job = await generated(tenant, { graph: "g", generator: "gen", params: { title: "T" } });
    expect(job.status).toBe("completed");
    expect(job.lock).not.toHaveProperty("options");
  });

  it("makes an undefined output an error naming the template, line and expression", async () => {
    const tenant = await tenantWith(TEMPLATE);
    const request = { graph: "g", generator: "gen", params: { title: "T" }, options: { throwOnUndefined: true } };
    // A dry run plans in the request: the problem itself.
    const problem = await expectProblem(await generate(tenant, { ...request, dryRun: true }), 422, "template-error");
    expect(problem).toMatchObject({ line: 5, column: 13, templatePath: "out.njk", template: "out.njk" });
    expect(problem.detail).toBe("`foo.bar` is undefined in out.njk at line 5, column 13 (throwOnUndefined is on)");
    // A job plans on the queue: it fails with the problem's wording and writes nothing.
    const job = await generated(tenant, request);
    expect(job).toMatchObject({ status: "failed", error: problem.detail, counts: { artifacts: 0 } });
  });

  it("is recorded in the lock, so a replay renders with it", async () => {
    const tenant = await tenantWith("---\nto: out.txt\n---\n{{ title }}\n");
    const job = await generated(tenant, {
      graph: "g",
      generator: "gen",
      params: { title: "T" },
      options: { throwOnUndefined: true },
    });
    expect(job.status).toBe("completed");
    expect(job.lock.options).toEqual({ throwOnUndefined: true });
    const plain = await generated(tenant, { graph: "g", generator: "gen", params: { title: "T" } });
    expect(plain.lockHash).not.toBe(job.lockHash);

    const replay = await generated(tenant, { lock: job.lock, params: { title: "T" } });
    expect(replay.status).toBe("completed");
    expect(replay.lockHash).toBe(job.lockHash);
  });

  it("takes the option from the replayed lock", async () => {
    const tenant = await tenantWith(TEMPLATE);
    const { lock } = await generated(tenant, { graph: "g", generator: "gen", params: { title: "T" } });
    const strict = { ...lock, options: { throwOnUndefined: true } };
    const failed = await generated(tenant, { lock: strict, params: { title: "T" } });
    expect(failed.status).toBe("failed");
    expect(failed.error).toContain("`foo.bar` is undefined in out.njk at line 5");
    expect((await generated(tenant, { lock, params: { title: "T" } })).status).toBe("completed");
  });

  it("refuses options it does not know, and options next to a lock", async () => {
    const tenant0 = await tenantWith(TEMPLATE);
    const made = await generated(tenant0, { graph: "g", generator: "gen" });
    await expectProblem(
      await generate(tenant0, { lock: made.lock, options: { throwOnUndefined: true } }),
      400,
      "validation-error",
    );
    const tenant = await tenantWith(TEMPLATE);
    await expectProblem(
      await generate(tenant, { graph: "g", generator: "gen", options: { throwOnUndefined: "yes" } }),
      400,
      "validation-error",
    );
    await expectProblem(
      await generate(tenant, { graph: "g", generator: "gen", options: { strict: true } }),
      400,
      "validation-error",
    );
  });

  it("names the template, line and expression in the reason of a queued job's failed batch", async () => {
    const tenant = await createTenant();
    const n = planLimits("free").syncJobArtifacts + 5;
    const entities = Array.from(
      { length: n },
      (_, i) => `<http://example.org/e${i}> <http://example.org/name> "e${i}" .`,
    );
    const graph = await call("/v1/graphs/g", {
      method: "PUT",
      headers: { ...bearer(tenant.apiKey), "content-type": "text/turtle" },
      body: entities.join("\n"),
    });
    expect(graph.status).toBe(201);
    const template =
      '---\nto: "out/{{ e.name }}.txt"\nsparql: "SELECT ?name WHERE { ?s <http://example.org/name> ?name } ORDER BY ?name"\nforeach: e\n---\n{{ e.name }}\n{{ e.nickname }}\n';
    const put = await call("/v1/templates/gen/e.njk", {
      method: "PUT",
      headers: { ...bearer(tenant.apiKey), "content-type": "text/plain" },
      body: template,
    });
    expect(put.status).toBe(201);
    const res = await generate(tenant, { graph: "g", generator: "gen", options: { throwOnUndefined: true } });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    await vi.waitFor(
      async () => {
        const job = (await (await call(`/v1/jobs/${id}`, { headers: bearer(tenant.apiKey) })).json()) as {
          error: string | null;
          counts: { artifacts: number };
        };
        expect(job.error).toBe("`e.nickname` is undefined in e.njk at line 7, column 1 (throwOnUndefined is on)");
        expect(job.counts.artifacts).toBe(0);
      },
      { timeout: 20_000, interval: 200 },
    );
  }, 30_000);
});
