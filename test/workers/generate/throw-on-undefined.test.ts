import { describe, expect, it, vi } from "vitest";
import { planLimits } from "../../../shared/plans";
import { bearer, call, createTenant, expectProblem, jsonBody, type TestTenant } from "../helpers";

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

describe("throwOnUndefined", () => {
  it("is off by default: an undefined output renders empty and the lock records no options", async () => {
    const tenant = await tenantWith(TEMPLATE);
    const res = await generate(tenant, { graph: "g", generator: "gen", params: { title: "T" } });
    expect(res.status).toBe(201);
    const job = (await res.json()) as { lock: Record<string, unknown> };
    expect(job.lock).not.toHaveProperty("options");
  });

  it("makes an undefined output an error naming the template, line and expression", async () => {
    const tenant = await tenantWith(TEMPLATE);
    const res = await generate(tenant, {
      graph: "g",
      generator: "gen",
      params: { title: "T" },
      options: { throwOnUndefined: true },
    });
    const problem = await expectProblem(res, 422, "template-error");
    expect(problem).toMatchObject({ line: 5, column: 13, templatePath: "out.njk", template: "out.njk" });
    expect(problem.detail).toBe("`foo.bar` is undefined in out.njk at line 5, column 13 (throwOnUndefined is on)");
    const jobs = (await (await call("/v1/jobs", { headers: bearer(tenant.apiKey) })).json()) as { items: unknown[] };
    expect(jobs.items).toHaveLength(0);
  });

  it("is recorded in the lock, so a replay renders with it", async () => {
    const tenant = await tenantWith("---\nto: out.txt\n---\n{{ title }}\n");
    const res = await generate(tenant, {
      graph: "g",
      generator: "gen",
      params: { title: "T" },
      options: { throwOnUndefined: true },
    });
    expect(res.status).toBe(201);
    const job = (await res.json()) as { lock: Record<string, unknown>; lockHash: string };
    expect(job.lock.options).toEqual({ throwOnUndefined: true });
    const plain = (await (await generate(tenant, { graph: "g", generator: "gen", params: { title: "T" } })).json()) as {
      lockHash: string;
    };
    expect(plain.lockHash).not.toBe(job.lockHash);

    const replay = await generate(tenant, { lock: job.lock, params: { title: "T" } });
    expect(replay.status).toBe(201);
    expect(((await replay.json()) as { lockHash: string }).lockHash).toBe(job.lockHash);
  });

  it("takes the option from the replayed lock", async () => {
    const tenant = await tenantWith(TEMPLATE);
    const res = await generate(tenant, { graph: "g", generator: "gen", params: { title: "T" } });
    expect(res.status).toBe(201);
    const { lock } = (await res.json()) as { lock: Record<string, unknown> };
    const strict = { ...lock, options: { throwOnUndefined: true } };
    const problem = await expectProblem(
      await generate(tenant, { lock: strict, params: { title: "T" } }),
      422,
      "template-error",
    );
    expect(problem.detail).toContain("`foo.bar` is undefined in out.njk at line 5");
    expect((await generate(tenant, { lock, params: { title: "T" } })).status).toBe(201);
  });

  it("refuses options it does not know, and options next to a lock", async () => {
    const tenant0 = await tenantWith(TEMPLATE);
    const made = (await (await generate(tenant0, { graph: "g", generator: "gen" })).json()) as { lock: unknown };
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
