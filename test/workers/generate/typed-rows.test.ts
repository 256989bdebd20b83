import { describe, expect, it, vi } from "vitest";
import { sha256Hex } from "../../../shared/core/sha256";
import { ENGINE_VERSION } from "../../../shared/version";
import FIXTURE from "../../fixtures/locks/typed-rows-0.1.0.json";
import {
  TYPED_ROWS_GRAPH_CREATED_AT,
  TYPED_ROWS_MODEL,
  TYPED_ROWS_PARAMS,
  TYPED_ROWS_TEMPLATES,
} from "../../fixtures/locks/typed-rows-inputs";
import { bearer, call, createTenant, type TestTenant } from "../helpers";
import { runJob } from "../job-helpers";

type Job = { id: string; status: string; lock: { engineVersion: string }; lockHash: string; error: string | null };
type Produced = { path: string; sha256: string; content: string; dependencies: unknown[] };

/** A tenant holding the fixture's graph (created at the fixture's time, so the build time matches) and templates. */
async function fixtureTenant(): Promise<TestTenant> {
  const tenant = await createTenant();
  vi.useFakeTimers({ toFake: ["Date"], now: new Date(TYPED_ROWS_GRAPH_CREATED_AT) });
  try {
    const graph = await call("/v1/graphs/fruit", {
      method: "PUT",
      headers: { ...bearer(tenant.apiKey), "content-type": "text/turtle" },
      body: TYPED_ROWS_MODEL,
    });
    expect(graph.status).toBe(201);
  } finally {
    vi.useRealTimers();
  }
  for (const [path, source] of Object.entries(TYPED_ROWS_TEMPLATES)) {
    const res = await call(`/v1/templates/fruit/${path}`, {
      method: "PUT",
      headers: { ...bearer(tenant.apiKey), "content-type": "text/plain" },
      body: source,
    });
    expect(res.status, await res.clone().text()).toBe(201);
  }
  return tenant;
}

async function generate(tenant: TestTenant, body: unknown): Promise<Job> {
  const job = (await runJob(tenant.apiKey, body, "/v1/generations")) as unknown as Job;
  expect(job.status, JSON.stringify(job)).toBe("completed");
  return job;
}

async function produced(tenant: TestTenant, job: Job): Promise<Produced[]> {
  const list = (await (await call(`/v1/jobs/${job.id}/artifacts`, { headers: bearer(tenant.apiKey) })).json()) as {
    items: { id: string; path: string; sha256: string }[];
  };
  const out: Produced[] = [];
  for (const item of list.items) {
    const body = await call(`/v1/artifacts/${item.id}`, { headers: bearer(tenant.apiKey) });
    const content = new TextDecoder().decode(await body.arrayBuffer());
    const explain = (await (
      await call(`/v1/artifacts/${item.id}/explain`, { headers: bearer(tenant.apiKey) })
    ).json()) as { dependencies: unknown[] };
    out.push({ path: item.path, sha256: item.sha256, content, dependencies: explain.dependencies });
  }
  return out;
}

describe("typed query rows and old locks", () => {
  it("replays a lock of engine 0.1.0 with lexical rows, byte for byte, dependencies included", async () => {
    const tenant = await fixtureTenant();
    const job = await generate(tenant, { lock: FIXTURE.lock, params: FIXTURE.params });
    expect(job.lockHash).toBe(FIXTURE.lockHash);
    const artifacts = await produced(tenant, job);
    expect(artifacts).toEqual(FIXTURE.artifacts);
    for (const artifact of artifacts) expect(await sha256Hex(artifact.content)).toBe(artifact.sha256);
  });

  it("gives a new job over the same inputs typed rows: numbers add, false is false, big and infinite numbers stay text", async () => {
    const tenant = await fixtureTenant();
    const job = await generate(tenant, { graph: "fruit", generator: "fruit", params: TYPED_ROWS_PARAMS });
    expect(job.lock.engineVersion).toBe(ENGINE_VERSION);
    expect(job.lockHash).not.toBe(FIXTURE.lockHash);
    const byPath = Object.fromEntries((await produced(tenant, job)).map((a) => [a.path, a.content]));
    expect(byPath).toEqual({
      "SUMMARY.md": "# Typed rows\n- apple: 82 82\n- pear: 14 14\n",
      "items/apple.txt":
        "name=apple\nnext=42\ninactive\nprice+1=2.5\nweight=2.5\nn+1=43 flag=no big=12345678901234567890\n",
      "items/pear.txt":
        "name=pear\nnext=8\nactive\nprice+1=1.25\nweight=1e400\nn+1=43 flag=no big=12345678901234567890\n",
    });
  });

  it("keeps every RDF term reachable under $terms", async () => {
    const tenant = await fixtureTenant();
    const res = await call("/v1/templates/terms/terms.txt.njk", {
      method: "PUT",
      headers: { ...bearer(tenant.apiKey), "content-type": "text/plain" },
      body: `---
to: terms.txt
sparql: "PREFIX ex: <http://example.org/> SELECT ?s ?name ?count WHERE { ?s ex:name ?name ; ex:count ?count } ORDER BY ?s"
---
{% for r in rows %}{{ r.$terms.s.termType }} {{ r.s }} | {{ r.name }} {{ r.$terms.name.language or "-" }} {{ r.$terms.name.datatype }} | {{ r.$terms.count.value }} {{ r.$terms.count.datatype }}
{% endfor %}`,
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const job = await generate(tenant, { graph: "fruit", generator: "terms" });
    const [artifact] = await produced(tenant, job);
    expect(artifact?.content).toBe(
      "NamedNode http://example.org/apple | apple - http://www.w3.org/2001/XMLSchema#string | 41 http://www.w3.org/2001/XMLSchema#integer\n" +
        "NamedNode http://example.org/pear | pear en http://www.w3.org/1999/02/22-rdf-syntax-ns#langString | 7 http://www.w3.org/2001/XMLSchema#nonNegativeInteger\n",
    );
  });
});
