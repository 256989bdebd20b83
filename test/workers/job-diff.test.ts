import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { countedCall, tally } from "./central-calls";
import { bearer, call, createTenant, expectProblem, type TestTenant } from "./helpers";
import { runJob } from "./job-helpers";

const PREFIXES = "PREFIX ex: <http://example.org/> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>";
const MODEL_V1 = `@prefix ex: <http://example.org/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ex:Order a ex:Entity ; rdfs:label "order" ; ex:field ex:id, ex:total .
ex:Customer a ex:Entity ; rdfs:label "customer" ; ex:field ex:id .
ex:id rdfs:label "id" ; ex:type "string" .
ex:total rdfs:label "total" ; ex:type "number" .
`;
const MODEL_V2 = `@prefix ex: <http://example.org/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ex:Order a ex:Entity ; rdfs:label "order" ; ex:field ex:id, ex:total, ex:currency .
ex:Invoice a ex:Entity ; rdfs:label "invoice" ; ex:field ex:id .
ex:id rdfs:label "id" ; ex:type "string" .
ex:total rdfs:label "total" ; ex:type "number" .
ex:currency rdfs:label "currency" ; ex:type "string" .
`;

const ENTITY = `---
to: "src/{{ entity.name | pascalCase }}.ts"
sparql: "${PREFIXES} SELECT ?iri ?name WHERE { ?iri a ex:Entity ; rdfs:label ?name } ORDER BY ?name"
foreach: entity
---
export interface {{ entity.name | pascalCase }} {
{% for f in sparql("${PREFIXES} SELECT ?label ?type WHERE { <" + entity.iri + "> ex:field ?f . ?f rdfs:label ?label ; ex:type ?type } ORDER BY ?label") %}  {{ f.label }}: {{ f.type }};
{% endfor %}}
`;
const README = `---
to: README.md
sparql: "${PREFIXES} SELECT ?name WHERE { ?e a ex:Entity ; rdfs:label ?name } ORDER BY DESC(?name)"
---
# Entities
{% for r in rows %}
- {{ r.name }}{% endfor %}`;
const STATIC = "---\nto: static.txt\n---\nthe same in every job\n";
const script = (chmod: string) => `---\nto: run.sh\nchmod: "${chmod}"\n---\n#!/bin/sh\necho run\n`;

async function putTemplate(tenant: TestTenant, path: string, source: string) {
  const res = await call(`/v1/templates/ts/${path}`, {
    method: "PUT",
    headers: { ...bearer(tenant.apiKey), "content-type": "text/plain" },
    body: source,
  });
  expect(res.status, await res.clone().text()).toBeLessThan(300);
}

async function putGraph(tenant: TestTenant, turtle: string) {
  const res = await call("/v1/graphs/model", {
    method: "PUT",
    headers: { ...bearer(tenant.apiKey), "content-type": "text/turtle" },
    body: turtle,
  });
  expect(res.status).toBeLessThan(300);
}

/** Job a over graph version 1; job b over version 2, after run.sh became executable. */
async function twoJobs() {
  const tenant = await createTenant();
  await putGraph(tenant, MODEL_V1);
  for (const [path, source] of Object.entries({
    "entity.ts.njk": ENTITY,
    "readme.md.njk": README,
    "static.txt.njk": STATIC,
    "run.sh.njk": script("644"),
  }))
    await putTemplate(tenant, path, source);
  const a = await runJob(tenant.apiKey, { graph: "model", generator: "ts" });
  await putGraph(tenant, MODEL_V2);
  await putTemplate(tenant, "run.sh.njk", script("755"));
  const b = await runJob(tenant.apiKey, { graph: "model", generator: "ts" });
  expect([a.status, b.status]).toEqual(["completed", "completed"]);
  return { tenant, a: a.id, b: b.id };
}

interface FileDiff {
  path: string;
  status: string;
  a?: { sha256: string; size: number; chmod: string | null };
  b?: { sha256: string; size: number; chmod: string | null };
  binary?: boolean;
  diff?: string;
  truncated?: boolean;
}
interface JobDiff {
  a: string;
  b: string;
  summary: Record<string, number>;
  files: FileDiff[];
  nextCursor: string | null;
}

const diffOf = (tenant: TestTenant, a: string, b: string, query = "", headers: Record<string, string> = {}) =>
  call(`/v1/jobs/${a}/diff/${b}${query}`, { headers: bearer(tenant.apiKey, headers) });

describe("GET /v1/jobs/{a}/diff/{b}", () => {
  it("lists added, removed and changed files with their unified diffs, pages by path, and gives one patch", async () => {
    const { tenant, a, b } = await twoJobs();
    const res = await diffOf(tenant, a, b);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    const diff = (await res.json()) as JobDiff;
    expect({ a: diff.a, b: diff.b, nextCursor: diff.nextCursor }).toEqual({ a, b, nextCursor: null });
    expect(diff.summary).toEqual({ added: 1, removed: 1, changed: 3, unchanged: 1 });
    expect(diff.files.map((file) => [file.path, file.status])).toEqual([
      ["README.md", "changed"],
      ["run.sh", "changed"],
      ["src/Customer.ts", "removed"],
      ["src/Invoice.ts", "added"],
      ["src/Order.ts", "changed"],
    ]);
    const byPath = Object.fromEntries(diff.files.map((file) => [file.path, file]));
    const orderDiff = byPath["src/Order.ts"]?.diff ?? "";
    expect(orderDiff).toMatch(/^index [0-9a-f]{40}\.\.[0-9a-f]{40} 100644$/m);
    expect(orderDiff.replace(/^index .*\n/m, "")).toBe(
      [
        "diff --git a/src/Order.ts b/src/Order.ts",
        "--- a/src/Order.ts",
        "+++ b/src/Order.ts",
        "@@ -1,4 +1,5 @@",
        " export interface Order {",
        "+  currency: string;",
        "   id: string;",
        "   total: number;",
        " }",
        "",
      ].join("\n"),
    );
    // Outputs are normalized to end with a line break, so the last line changes as a whole line.
    expect(byPath["README.md"]?.diff).toContain("@@ -1,4 +1,4 @@\n # Entities\n \n - order\n-- customer\n+- invoice\n");
    expect(byPath["run.sh"]).toMatchObject({
      a: { chmod: "0644" },
      b: { chmod: "0755" },
      diff: "diff --git a/run.sh b/run.sh\nold mode 100644\nnew mode 100755\n",
    });
    expect(byPath["src/Customer.ts"]?.b).toBeUndefined();
    expect(byPath["src/Customer.ts"]?.diff).toContain("deleted file mode 100644\n");
    expect(byPath["src/Invoice.ts"]?.a).toBeUndefined();
    expect(byPath["src/Invoice.ts"]?.diff).toContain("--- /dev/null\n+++ b/src/Invoice.ts\n@@ -0,0 +1,3 @@\n");

    // Page by page with the cursor: the same files in the same order, the summary on every page.
    const paged: FileDiff[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      const page = (await (await diffOf(tenant, a, b, query)).json()) as JobDiff;
      expect(page.summary).toEqual(diff.summary);
      expect(page.files.length).toBeLessThanOrEqual(2);
      paged.push(...page.files);
      cursor = page.nextCursor;
    } while (cursor);
    expect(paged).toEqual(diff.files);

    const patch = await diffOf(tenant, a, b, "", { accept: "text/x-diff" });
    expect(patch.status).toBe(200);
    expect(patch.headers.get("content-type")).toBe("text/x-diff; charset=utf-8");
    expect(patch.headers.get("vary")).toContain("Accept");
    // The patch is the files' sections in path order, nothing else.
    expect(await patch.text()).toBe(diff.files.map((file) => file.diff).join(""));
  });

  it("reads only the contents whose sha256 differ: one R2 read per differing side", async () => {
    const { tenant, a, b } = await twoJobs();
    const { response, onPath } = await countedCall(`/v1/jobs/${a}/diff/${b}`, {
      headers: bearer(tenant.apiKey, { accept: "text/x-diff" }),
    });
    expect(response.status).toBe(200);
    // README.md and src/Order.ts on both sides, src/Customer.ts in a, src/Invoice.ts in b; neither
    // run.sh (its mode alone changed) nor static.txt is read.
    expect(tally(onPath)["r2:get"]).toBe(6);
    // Besides: the two job lookups and one listing query per job (each has fewer than 500 artifacts).
    expect(onPath.filter((central) => central.store !== "r2")).toHaveLength(4);
  });

  it("is empty from a job to itself; the reverse comparison swaps added and removed", async () => {
    const { tenant, a, b } = await twoJobs();
    const same = (await (await diffOf(tenant, a, a)).json()) as JobDiff;
    expect(same.summary).toEqual({ added: 0, removed: 0, changed: 0, unchanged: 5 });
    expect(same.files).toEqual([]);
    const samePatch = await diffOf(tenant, b, b, "", { accept: "text/x-diff" });
    expect(samePatch.status).toBe(200);
    expect(await samePatch.text()).toBe("");
    const reverse = (await (await diffOf(tenant, b, a)).json()) as JobDiff;
    expect(reverse.summary).toEqual({ added: 1, removed: 1, changed: 3, unchanged: 1 });
    expect(reverse.files.find((file) => file.path === "src/Customer.ts")?.status).toBe("added");
  });

  it("refuses a job that has not completed (409), an unknown job (404), and an Accept it cannot serve (406)", async () => {
    const { tenant, a, b } = await twoJobs();
    await env.DB.prepare("UPDATE jobs SET status = 'running' WHERE id = ?").bind(b).run();
    const running = await expectProblem(await diffOf(tenant, a, b), 409, "job-not-completed");
    expect(running.detail).toContain("running");
    await expectProblem(await diffOf(tenant, b, a, "", { accept: "text/x-diff" }), 409, "job-not-completed");
    // The bundle reads a job as a whole too, and refuses it the same way.
    await expectProblem(
      await call(`/v1/jobs/${b}/bundle`, { headers: bearer(tenant.apiKey) }),
      409,
      "job-not-completed",
    );
    await expectProblem(await diffOf(tenant, a, "job_missing"), 404, "not-found");
    await expectProblem(await diffOf(tenant, a, a, "", { accept: "image/png" }), 406, "not-acceptable");
    await expectProblem(await diffOf(tenant, a, a, "?limit=0"), 400, "validation-error");
    await expectProblem(await diffOf(tenant, a, a, "?limit=101"), 400, "validation-error");
    await expectProblem(await diffOf(tenant, a, a, `?cursor=${"x".repeat(1025)}`), 400, "validation-error");
  });

  it("refuses a patch with a file over the bound (422 diff-too-large) but still lists it in JSON, without its diff", async () => {
    const tenant = await createTenant();
    await putGraph(tenant, MODEL_V1);
    // 70 000 lines of 66 bytes: over the 4 MiB a side one file of a patch may have.
    const big = (word: string) =>
      `---\nto: big.txt\n---\n{% for i in range(0, 70000) %}{{ "${word}" }} {{ i | string | replace("0", "o") }} ${"x".repeat(50)}\n{% endfor %}`;
    await putTemplate(tenant, "big.txt.njk", big("alpha"));
    const a = await runJob(tenant.apiKey, { graph: "model", generator: "ts" });
    await putTemplate(tenant, "big.txt.njk", big("beta"));
    const b = await runJob(tenant.apiKey, { graph: "model", generator: "ts" });
    expect([a.status, b.status]).toEqual(["completed", "completed"]);
    const problem = await expectProblem(
      await diffOf(tenant, a.id, b.id, "", { accept: "text/x-diff" }),
      422,
      "diff-too-large",
    );
    expect(problem).toMatchObject({ subject: "file", limit: 4 * 1024 * 1024, path: "big.txt" });
    const page = (await (await diffOf(tenant, a.id, b.id)).json()) as JobDiff;
    expect(page.files).toEqual([
      {
        path: "big.txt",
        status: "changed",
        a: { sha256: expect.any(String), size: expect.any(Number), chmod: null },
        b: { sha256: expect.any(String), size: expect.any(Number), chmod: null },
        truncated: true,
      },
    ]);
    expect(page.files[0]?.a?.size).toBeGreaterThan(4 * 1024 * 1024);
  });

  it("answers 404 for another tenant's job on either side", async () => {
    const { tenant, a } = await twoJobs();
    const other = await createTenant();
    await putGraph(other, MODEL_V1);
    await putTemplate(other, "static.txt.njk", STATIC);
    const own = await runJob(other.apiKey, { graph: "model", generator: "ts" });
    await expectProblem(await diffOf(other, own.id, a), 404, "not-found");
    await expectProblem(await diffOf(other, a, own.id), 404, "not-found");
    await expectProblem(await diffOf(other, a, a, "", { accept: "text/x-diff" }), 404, "not-found");
    expect((await diffOf(tenant, a, a)).status).toBe(200);
  });
});
