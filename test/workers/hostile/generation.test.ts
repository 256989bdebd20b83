import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { sha256Hex } from "../../../shared/core/sha256";
import { planLimits } from "../../../shared/plans";
import { ENGINE_VERSION } from "../../../shared/version";
import { app } from "../../../workers/app";
import { BASE, bearer, call, createTenant, jsonBody, type TestTenant } from "../helpers";
import { runJob } from "../job-helpers";
import { tenantSql } from "../tenant-sql";
import { expectPlanRefusedPromptly, expectRefusedPromptly, HOSTILE_BOUND_MS } from "./bounded";

const PREFIXES = "PREFIX ex: <http://example.org/> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>";
const MODEL = `@prefix ex: <http://example.org/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ex:Order a ex:Entity ; rdfs:label "Order" .
ex:Customer a ex:Entity ; rdfs:label "Customer" .
ex:order a ex:Entity ; rdfs:label "order" .
`;
const ENTITY_QUERY = `${PREFIXES} SELECT ?name WHERE { ?e a ex:Entity ; rdfs:label ?name } ORDER BY ?name`;

const ENTITY_TEMPLATE = `---
to: "src/{{ e.name | lower }}-model.ts"
sparql: "${ENTITY_QUERY}"
foreach: e
skipIf: "e.name==order"
---
// {{ e.name }} for {{ title }}
`;

type Job = { id: string; status: string; lock: Lock; lockHash: string };
type Lock = {
  graph: { name: string; version: number | string; hash: string };
  generator: { name: string; templates: Record<string, string> };
  paramsHash: string;
  engineVersion: string;
  buildTime: string;
};

async function putTemplate(tenant: TestTenant, generator: string, path: string, source: string) {
  const res = await call(`/v1/templates/${generator}/${path}`, {
    method: "PUT",
    headers: { ...bearer(tenant.apiKey), "content-type": "text/plain" },
    body: source,
  });
  expect(res.status, await res.clone().text()).toBeLessThan(300);
}

async function setup() {
  const tenant = await createTenant();
  const graph = await call("/v1/graphs/model", {
    method: "PUT",
    headers: { ...bearer(tenant.apiKey), "content-type": "text/turtle" },
    body: MODEL,
  });
  expect(graph.status).toBe(201);
  await putTemplate(tenant, "ts", "entity.njk", ENTITY_TEMPLATE);
  await putTemplate(tenant, "ts", "partial.njk", "partial of ts");
  await putTemplate(tenant, "other", "entity.njk", `${ENTITY_TEMPLATE}// the other generator\n`);
  return { tenant, bystander: await createTenant() };
}

const generate = (tenant: TestTenant, body: unknown) => call("/v1/generations", jsonBody(body, tenant.apiKey));

async function issuedLock(tenant: TestTenant): Promise<Job> {
  const job = await runJob(
    tenant.apiKey,
    { graph: "model", generator: "ts", params: { title: "T" } },
    "/v1/generations",
  );
  expect(job.status).toBe("completed");
  return job as unknown as Job;
}

const replay =
  (tenant: TestTenant, lock: Lock, extra: Record<string, unknown> = {}) =>
  () =>
    generate(tenant, { lock, params: { title: "T" }, ...extra });

async function hashOfTemplate(tenant: TestTenant, generator: string, path: string): Promise<string> {
  const res = await call(`/v1/templates/${generator}/${path}`, { headers: bearer(tenant.apiKey) });
  const text = await res.text();
  return sha256Hex(text);
}

describe("a replayed lock states only what the platform verified", () => {
  it("refuses an engine version the platform cannot run, replayed or dry-run", async () => {
    const { tenant, bystander } = await setup();
    const { lock } = await issuedLock(tenant);
    expect(lock.engineVersion).toBe(ENGINE_VERSION);
    for (const engineVersion of ["evil", "kgen-edge/0.1.0", "99.0.0", `${ENGINE_VERSION} `]) {
      const problem = await expectRefusedPromptly(
        replay(tenant, { ...lock, engineVersion }),
        { status: 422, type: "invalid-lock" },
        bystander,
      );
      expect(String(problem.detail)).toContain("engine version");
    }
    await expectRefusedPromptly(
      replay(tenant, { ...lock, engineVersion: "evil" }, { dryRun: true }),
      { status: 422, type: "invalid-lock" },
      bystander,
    );
    const jobs = (await (await call("/v1/jobs", { headers: bearer(tenant.apiKey) })).json()) as { items: Job[] };
    expect(jobs.items).toHaveLength(1);
  });

  it("refuses a generator name whose templates the lock's are not", async () => {
    const { tenant, bystander } = await setup();
    const { lock } = await issuedLock(tenant);
    for (const name of ["other", "nope", "evil"]) {
      await expectRefusedPromptly(
        replay(tenant, { ...lock, generator: { ...lock.generator, name } }),
        { status: 422, type: "invalid-lock" },
        bystander,
      );
    }
  });

  it("refuses tampered template hashes and paths", async () => {
    const { tenant, bystander } = await setup();
    const { lock } = await issuedLock(tenant);
    const otherHash = await hashOfTemplate(tenant, "other", "entity.njk");
    const partialHash = lock.generator.templates["partial.njk"] as string;
    const tampered: Record<string, string>[] = [
      { ...lock.generator.templates, "entity.njk": otherHash },
      { ...lock.generator.templates, "entity.njk": partialHash },
      { ...lock.generator.templates, "entity.njk": "0".repeat(64) },
      { "renamed.njk": lock.generator.templates["entity.njk"] as string, "partial.njk": partialHash },
      { ...lock.generator.templates, "extra.njk": partialHash },
      {},
    ];
    for (const templates of tampered) {
      await expectRefusedPromptly(
        replay(tenant, { ...lock, generator: { ...lock.generator, templates } }),
        { status: 422, type: "invalid-lock" },
        bystander,
      );
    }
  });

  it("refuses a tampered graph hash, version spelling, build time or params hash", async () => {
    const { tenant, bystander } = await setup();
    const { lock } = await issuedLock(tenant);
    const variants: Lock[] = [
      { ...lock, graph: { ...lock.graph, hash: "f".repeat(64) } },
      // The same digest spelled another way is still not the hash the platform recorded.
      {
        ...lock,
        graph: {
          ...lock.graph,
          hash: lock.graph.hash.startsWith("sha256:") ? lock.graph.hash.slice(7) : `sha256:${lock.graph.hash}`,
        },
      },
      { ...lock, graph: { ...lock.graph, version: String(lock.graph.version) } },
      { ...lock, buildTime: "2000-01-01T00:00:00Z" },
      { ...lock, paramsHash: "a".repeat(64) },
    ];
    for (const variant of variants) {
      await expectRefusedPromptly(replay(tenant, variant), { status: 422, type: "invalid-lock" }, bystander);
    }
    await expectRefusedPromptly(
      () => generate(tenant, { lock, params: { title: "other" } }),
      { status: 422, type: "invalid-lock" },
      bystander,
    );
  });

  it("still replays an issued lock after its templates changed, with the same bytes and a valid attestation", async () => {
    const { tenant } = await setup();
    const first = await issuedLock(tenant);
    await putTemplate(tenant, "ts", "entity.njk", `${ENTITY_TEMPLATE}// changed\n`);
    const replayed = (await runJob(
      tenant.apiKey,
      { lock: first.lock, params: { title: "T" } },
      "/v1/generations",
    )) as unknown as Job;
    expect(replayed.lockHash).toBe(first.lockHash);
    const listing = async (job: Job) =>
      (
        (await (await call(`/v1/jobs/${job.id}/artifacts`, { headers: bearer(tenant.apiKey) })).json()) as {
          items: { id: string; path: string; sha256: string }[];
        }
      ).items;
    const artifacts = await listing(replayed);
    expect(artifacts.map((a) => `${a.path}:${a.sha256}`)).toEqual(
      (await listing(first)).map((a) => `${a.path}:${a.sha256}`),
    );
    const explain = (await (
      await call(`/v1/artifacts/${artifacts[0]?.id}/explain`, { headers: bearer(tenant.apiKey) })
    ).json()) as { valid: boolean; engineVersion: string; generator: { name: string } | null };
    expect(explain.valid).toBe(true);
    expect(explain.engineVersion).toBe(ENGINE_VERSION);
  });
});

describe("output paths that collide on case-insensitive file systems", () => {
  it("refuses A.ts and a.ts from two templates, naming both paths and templates", async () => {
    const { tenant, bystander } = await setup();
    await putTemplate(tenant, "clash", "upper.njk", "---\nto: src/A.ts\n---\nupper");
    await putTemplate(tenant, "clash", "lower.njk", "---\nto: src/a.ts\n---\nlower");
    const problem = await expectPlanRefusedPromptly(
      tenant,
      "/v1/generations",
      { graph: "model", generator: "clash" },
      { status: 422, type: "path-collision" },
      bystander,
    );
    expect(problem.paths).toEqual(["src/A.ts", "src/a.ts"]);
    expect(problem.artifacts).toEqual([
      { path: "src/A.ts", template: "upper.njk", rowIndex: null },
      { path: "src/a.ts", template: "lower.njk", rowIndex: null },
    ]);
    // The failed job wrote nothing.
    const [artifacts] = await tenantSql<{ n: number }>(tenant.id, "SELECT COUNT(*) AS n FROM artifact");
    expect(artifacts?.n).toBe(0);
  });

  it("refuses rows of one template whose paths differ only in case, naming the rows", async () => {
    const { tenant, bystander } = await setup();
    await putTemplate(
      tenant,
      "rows",
      "entity.njk",
      `---\nto: "src/{{ e.name }}.ts"\nsparql: "${ENTITY_QUERY}"\nforeach: e\n---\n{{ e.name }}`,
    );
    const problem = await expectPlanRefusedPromptly(
      tenant,
      "/v1/generations",
      { graph: "model", generator: "rows" },
      { status: 422, type: "path-collision" },
      bystander,
    );
    expect(problem.artifacts).toEqual([
      { path: "src/Order.ts", template: "entity.njk", rowIndex: 1 },
      { path: "src/order.ts", template: "entity.njk", rowIndex: 2 },
    ]);
  });

  it("refuses Unicode case variants (Straße / STRASSE) and a file that folds to another path's folder", async () => {
    const { tenant, bystander } = await setup();
    await putTemplate(tenant, "de", "a.njk", "---\nto: docs/Straße.md\n---\na");
    await putTemplate(tenant, "de", "b.njk", "---\nto: docs/STRASSE.md\n---\nb");
    const problem = await expectPlanRefusedPromptly(
      tenant,
      "/v1/generations",
      { graph: "model", generator: "de" },
      { status: 422, type: "path-collision" },
      bystander,
    );
    expect(problem.paths).toEqual(["docs/STRASSE.md", "docs/Straße.md"]);
    await putTemplate(tenant, "dir", "file.njk", "---\nto: out/Models\n---\nfile");
    await putTemplate(tenant, "dir", "nested.njk", "---\nto: out/models/a.ts\n---\nnested");
    await expectPlanRefusedPromptly(
      tenant,
      "/v1/generations",
      { graph: "model", generator: "dir" },
      { status: 422, type: "path-collision" },
      bystander,
    );
  });

  it("fails a queued job whose batches together hold two paths that differ only in case", async () => {
    const tenant = await createTenant();
    const n = planLimits("free").syncJobArtifacts + 10;
    const entities = Array.from({ length: n }, (_, i) => `ex:E${i} a ex:Entity ; rdfs:label "entity ${i}" .`);
    const graph = await call("/v1/graphs/model", {
      method: "PUT",
      headers: { ...bearer(tenant.apiKey), "content-type": "text/turtle" },
      body: `@prefix ex: <http://example.org/> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n${entities.join("\n")}`,
    });
    expect(graph.status).toBe(201);
    // Names sort "entity 0", "entity 1", "entity 10", …, "entity 9": the two clashing rows are in different batches.
    await putTemplate(
      tenant,
      "gen",
      "e.njk",
      `---\nto: "out/{{ 'Clash' if e.name == 'entity 0' else ('clash' if e.name == 'entity 9' else e.name | kebabCase) }}.txt"\nsparql: "${ENTITY_QUERY}"\nforeach: e\n---\n{{ e.name }}`,
    );
    const res = await generate(tenant, { graph: "model", generator: "gen" });
    expect(res.status, await res.clone().text()).toBe(202);
    const job = (await res.json()) as Job;
    await vi.waitFor(
      async () => {
        const current = (await (await call(`/v1/jobs/${job.id}`, { headers: bearer(tenant.apiKey) })).json()) as Job & {
          error: string | null;
        };
        expect(current.status).toBe("failed");
        expect(current.error).toContain('"out/Clash.txt"');
        expect(current.error).toContain('"out/clash.txt"');
      },
      { timeout: 20_000, interval: 200 },
    );
  }, 30_000);

  it("keeps allowing several patches of one exact path, and case-distinct folders", async () => {
    const { tenant } = await setup();
    await putTemplate(tenant, "ok", "index.njk", "---\nto: Src/index.ts\n---\nexport {};");
    await putTemplate(tenant, "ok", "more.njk", "---\nto: Src/index.ts\nappend: true\n---\n// more");
    await putTemplate(tenant, "ok", "other.njk", "---\nto: src/other.ts\n---\n// other");
    const plan = await generate(tenant, { graph: "model", generator: "ok", dryRun: true });
    expect(plan.status, await plan.clone().text()).toBe(200);
    expect(((await plan.json()) as { artifacts: { path: string; mode: string }[] }).artifacts).toEqual([
      expect.objectContaining({ path: "Src/index.ts", mode: "write" }),
      expect.objectContaining({ path: "Src/index.ts", mode: "append" }),
      expect.objectContaining({ path: "src/other.ts", mode: "write" }),
    ]);
    await putTemplate(tenant, "folders", "a.njk", "---\nto: Src/a.ts\n---\na");
    await putTemplate(tenant, "folders", "b.njk", "---\nto: src/b.ts\n---\nb");
    const job = await runJob(tenant.apiKey, { graph: "model", generator: "folders" }, "/v1/generations");
    expect(job.status).toBe("completed");
  });
});

describe("includes resolve once per render", () => {
  /** The app with D1 statements and R2 reads counted. */
  async function counted(path: string, init: RequestInit) {
    let r2Gets = 0;
    let d1Statements = 0;
    const artifacts = new Proxy(env.ARTIFACTS, {
      get(target, property) {
        const value = Reflect.get(target, property);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          if (property === "get") r2Gets++;
          return value.apply(target, args);
        };
      },
    });
    const db = new Proxy(env.DB, {
      get(target, property) {
        const value = Reflect.get(target, property);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          if (property === "prepare") d1Statements++;
          return value.apply(target, args);
        };
      },
    });
    const ctx = createExecutionContext();
    const started = performance.now();
    const res = await app.fetch(
      new Request(`${BASE}${path}`, init),
      { ...env, ARTIFACTS: artifacts, DB: db } as Env,
      ctx,
    );
    const body = await res.text();
    const ms = performance.now() - started;
    await waitOnExecutionContext(ctx);
    return { res, body, ms, r2Gets, d1Statements };
  }

  it("renders a stored template that includes another 5,000 times in a loop with one read of each", async () => {
    const { tenant, bystander } = await setup();
    await putTemplate(tenant, "site", "item.njk", "[{{ i }}]");
    await putTemplate(tenant, "site", "loop.njk", "{% for i in range(5000) %}{% include 'item.njk' %}{% endfor %}");
    await putTemplate(
      tenant,
      "site",
      "each.njk",
      "{% asyncEach i in range(150) %}{% include 'item.njk' %}{% endeach %}",
    );
    const other = call("/v1/me", { headers: bearer(bystander.apiKey) });
    const loop = await counted("/v1/render", jsonBody({ templatePath: "site/loop.njk" }, tenant.apiKey));
    expect(loop.res.status, loop.body).toBe(200);
    expect((await other).status).toBe(200);
    expect(loop.r2Gets).toBe(2);
    expect(loop.d1Statements).toBeLessThan(10);
    expect(loop.ms).toBeLessThan(HOSTILE_BOUND_MS);

    const each = await counted("/v1/render", jsonBody({ templatePath: "site/each.njk" }, tenant.apiKey));
    expect(each.res.status, each.body).toBe(200);
    expect(JSON.parse(each.body).output).toBe(Array.from({ length: 150 }, (_, i) => `[${i}]`).join(""));
    expect(each.r2Gets).toBe(2);
  });

  it("refuses a render that asks for more distinct templates than the bound, without reading them", async () => {
    const { tenant, bystander } = await setup();
    await putTemplate(
      tenant,
      "site",
      "many.njk",
      "{% for i in range(5000) %}{% include 'part' ~ i ~ '.njk' ignore missing %}{% endfor %}",
    );
    const problem = await expectRefusedPromptly(
      () => call("/v1/render", jsonBody({ templatePath: "site/many.njk" }, tenant.apiKey)),
      { status: 422, type: "work-budget-exceeded" },
      bystander,
    );
    expect(problem).toMatchObject({ subject: "template loads", limit: 200 });
    const counts = await counted("/v1/render", jsonBody({ templatePath: "site/many.njk" }, tenant.apiKey));
    expect(counts.res.status).toBe(422);
    expect(counts.r2Gets).toBe(1);
  });

  it("refuses a template that includes itself, or two that include each other, promptly", async () => {
    const { tenant, bystander } = await setup();
    await putTemplate(tenant, "site", "self.njk", "x{% include 'self.njk' %}");
    await putTemplate(tenant, "site", "ping.njk", "{% include 'pong.njk' %}");
    await putTemplate(tenant, "site", "pong.njk", "{% include 'ping.njk' %}");
    for (const templatePath of ["site/self.njk", "site/ping.njk"]) {
      await expectRefusedPromptly(
        () => call("/v1/render", jsonBody({ templatePath }, tenant.apiKey)),
        { status: 422, type: "template-budget-exceeded" },
        bystander,
      );
    }
    await putTemplate(tenant, "loop", "page.njk", "---\nto: page.txt\n---\n{% include 'self.njk' %}");
    await putTemplate(tenant, "loop", "self.njk", "x{% include 'self.njk' %}");
    await expectPlanRefusedPromptly(
      tenant,
      "/v1/generations",
      { graph: "model", generator: "loop" },
      { status: 422, type: "template-budget-exceeded" },
      bystander,
    );
  });

  it("generates a template that includes another 5,000 times in a loop, quickly and completely", async () => {
    const { tenant, bystander } = await setup();
    await putTemplate(tenant, "inc", "item.njk", "[{{ i }}]");
    await putTemplate(
      tenant,
      "inc",
      "page.njk",
      "---\nto: page.txt\n---\n{% for i in range(5000) %}{% include 'item.njk' %}{% endfor %}",
    );
    const other = call("/v1/me", { headers: bearer(bystander.apiKey) });
    const started = performance.now();
    const job = await runJob(tenant.apiKey, { graph: "model", generator: "inc" }, "/v1/generations");
    const ms = performance.now() - started;
    expect(job.status).toBe("completed");
    expect((await other).status).toBe(200);
    expect(ms).toBeLessThan(HOSTILE_BOUND_MS);
    const [artifact] = (
      (await (await call(`/v1/jobs/${job.id}/artifacts`, { headers: bearer(tenant.apiKey) })).json()) as {
        items: { id: string }[];
      }
    ).items;
    const text = await (await call(`/v1/artifacts/${artifact?.id}`, { headers: bearer(tenant.apiKey) })).text();
    expect(text).toBe(`${Array.from({ length: 5000 }, (_, i) => `[${i}]`).join("")}\n`);
  });
});
