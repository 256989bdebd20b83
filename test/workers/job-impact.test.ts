import { describe, expect, it } from "vitest";
import { countedCall, tally } from "./central-calls";
import { bearer, call, createTenant, expectProblem, type TestTenant } from "./helpers";
import { runJob } from "./job-helpers";

const PREFIXES = "PREFIX ex: <http://example.org/> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>";

const model = (labels: string[]) =>
  `@prefix ex: <http://example.org/> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n${labels
    .map((label, i) => `ex:E${i} a ex:Entity ; rdfs:label "${label}" ; ex:size ${i} .`)
    .join("\n")}`;

const TEMPLATES: Record<string, string> = {
  "entity.njk": `---
to: "out/{{ e.name | kebabCase }}.ts"
sparql: "${PREFIXES} SELECT ?name ?size WHERE { ?iri a ex:Entity ; rdfs:label ?name ; ex:size ?size } ORDER BY ?name"
foreach: e
---
export const size = {{ e.size }};`,
  "index.njk": `---
to: out/index.ts
sparql: "${PREFIXES} SELECT ?name WHERE { ?iri a ex:Entity ; rdfs:label ?name } ORDER BY ?name"
---
{% for r in rows %}export * from "./{{ r.name | kebabCase }}";
{% endfor %}`,
};

async function putGraph(tenant: TestTenant, body: string, name = "g") {
  const res = await call(`/v1/graphs/${name}`, {
    method: "PUT",
    headers: { ...bearer(tenant.apiKey), "content-type": "text/turtle" },
    body,
  });
  expect(res.status, await res.clone().text()).toBeLessThan(300);
}

async function putTemplates(tenant: TestTenant, templates: Record<string, string>, generator = "gen") {
  for (const [path, source] of Object.entries(templates)) {
    const res = await call(`/v1/templates/${generator}/${path}`, {
      method: "PUT",
      headers: { ...bearer(tenant.apiKey), "content-type": "text/plain" },
      body: source,
    });
    expect(res.status, await res.clone().text()).toBeLessThan(300);
  }
}

interface ImpactView {
  jobId: string;
  baseline: { graph: { version: number } };
  target: { graph: { version: number } };
  artifacts: { path: string; status: string; risk?: string; reasons: { kind: string }[] }[];
  summary: Record<string, number>;
  work: { queries: number; rows: number; pathRenders: number };
}

async function impactOf(tenant: TestTenant, jobId: string, query = ""): Promise<ImpactView> {
  const res = await call(`/v1/jobs/${jobId}/impact${query}`, { headers: bearer(tenant.apiKey) });
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body as ImpactView;
}

const statuses = (impact: ImpactView) =>
  Object.fromEntries(impact.artifacts.filter((a) => a.status !== "unchanged").map((a) => [a.path, a.status]));

describe("GET /v1/jobs/{id}/impact", () => {
  it("names what the latest version changes, adds and removes, and nothing at the job's own version", async () => {
    const tenant = await createTenant();
    await putTemplates(tenant, TEMPLATES);
    await putGraph(tenant, model(["alpha", "beta", "gamma"]));
    const job = await runJob(tenant.apiKey, { graph: "g", generator: "gen" });
    expect(job.status).toBe("completed");

    const same = await impactOf(tenant, job.id);
    expect(same.target.graph.version).toBe(1);
    expect(same.summary).toMatchObject({ unchanged: 4, changed: 0, added: 0, removed: 0 });

    // beta renamed (its file moves), gamma resized, delta added.
    await putGraph(tenant, model(["alpha", "bravo", "gamma", "delta"]).replace("ex:size 2", "ex:size 20"));
    const impact = await impactOf(tenant, job.id);
    expect(impact.jobId).toBe(job.id);
    expect(impact.baseline.graph.version).toBe(1);
    expect(impact.target.graph.version).toBe(2);
    expect(statuses(impact)).toEqual({
      "out/beta.ts": "removed",
      "out/bravo.ts": "added",
      "out/delta.ts": "added",
      "out/gamma.ts": "changed",
      "out/index.ts": "changed",
    });
    expect(impact.artifacts.find((a) => a.path === "out/gamma.ts")).toMatchObject({
      risk: "breaking",
      reasons: [{ kind: "row" }],
    });
    expect(impact.summary).toMatchObject({ unchanged: 1, changed: 2, added: 2, removed: 1, breaking: 3, additive: 2 });

    // Central calls: the job (D1), the version (object), the templates (R2, cached in the isolate after the job ran),
    // the index (the tenant object), and the queries in batches of up to 8: the two frontmatter queries at each version.
    const counted = await countedCall(`/v1/jobs/${job.id}/impact`, { headers: bearer(tenant.apiKey) });
    expect(counted.response.status).toBe(200);
    expect(tally(counted.onPath)).toMatchObject({
      "d1:raw": 1,
      "tenant-object:artifactList": 1,
      "tenant-object:graphLatest": 1,
      "tenant-object:jobQueries": 2,
    });

    // The same answer when the version is named; the job's own version is unchanged throughout.
    expect(statuses(await impactOf(tenant, job.id, "?version=2"))).toEqual(statuses(impact));
    expect((await impactOf(tenant, job.id, "?version=1")).summary.unchanged).toBe(4);

    // What a job at version 2 writes is what the impact said.
    const regenerated = await runJob(tenant.apiKey, { graph: "g", generator: "gen" });
    const listed = (await (
      await call(`/v1/jobs/${regenerated.id}/artifacts`, { headers: bearer(tenant.apiKey) })
    ).json()) as {
      items: { path: string }[];
    };
    expect(listed.items.map((item) => item.path)).toEqual(
      impact.artifacts.filter((a) => a.status !== "removed").map((a) => a.path),
    );
  });

  it("answers 404 for an unknown job or version, 400 for a malformed version", async () => {
    const tenant = await createTenant();
    await putTemplates(tenant, TEMPLATES);
    await putGraph(tenant, model(["alpha"]));
    const job = await runJob(tenant.apiKey, { graph: "g", generator: "gen" });
    await expectProblem(await call("/v1/jobs/nope/impact", { headers: bearer(tenant.apiKey) }), 404, "not-found");
    await expectProblem(
      await call(`/v1/jobs/${job.id}/impact?version=7`, { headers: bearer(tenant.apiKey) }),
      404,
      "not-found",
    );
    for (const version of ["0", "abc", "1.5"]) {
      await expectProblem(
        await call(`/v1/jobs/${job.id}/impact?version=${version}`, { headers: bearer(tenant.apiKey) }),
        400,
        "validation-error",
      );
    }
  });

  it("answers 409 for a job that did not complete", async () => {
    const tenant = await createTenant();
    await putTemplates(tenant, { "broken.njk": '---\nto: out.txt\n---\n{% include "absent.njk" %}' });
    await putGraph(tenant, model(["alpha"]));
    const job = await runJob(tenant.apiKey, { graph: "g", generator: "gen" });
    expect(job.status).toBe("failed");
    await expectProblem(
      await call(`/v1/jobs/${job.id}/impact`, { headers: bearer(tenant.apiKey) }),
      409,
      "job-not-completed",
    );
  });

  it("another tenant's job is 404", async () => {
    const a = await createTenant();
    const b = await createTenant();
    await putTemplates(b, TEMPLATES);
    await putGraph(b, model(["alpha"]));
    const job = await runJob(b.apiKey, { graph: "g", generator: "gen" });
    await expectProblem(await call(`/v1/jobs/${job.id}/impact`, { headers: bearer(a.apiKey) }), 404, "not-found");
  });

  it("a version whose query explodes is refused by the query's own budget, quickly and without partial answers", async () => {
    const tenant = await createTenant();
    await putTemplates(tenant, {
      "pairs.njk": `---
to: "pairs/{{ p.a | kebabCase }}-{{ p.b | kebabCase }}.txt"
sparql: "${PREFIXES} SELECT ?a ?b WHERE { ?x rdfs:label ?a . ?y rdfs:label ?b }"
foreach: p
---
{{ p.a }} {{ p.b }}`,
    });
    await putGraph(tenant, model(["alpha"]));
    const job = await runJob(tenant.apiKey, { graph: "g", generator: "gen" });
    expect(job.status).toBe("completed");
    // 400 labels make 160,000 pairs: over the plan's rows per query.
    await putGraph(tenant, model(Array.from({ length: 400 }, (_, i) => `label ${i}`)));
    const started = Date.now();
    const res = await call(`/v1/jobs/${job.id}/impact`, { headers: bearer(tenant.apiKey) });
    await expectProblem(res, 422, "query-result-limit");
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
