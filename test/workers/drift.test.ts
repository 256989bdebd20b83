import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { bytesToBase64 } from "../../shared/core/encoding";
import { sha256Hex } from "../../shared/core/sha256";
import { consumeDriftBatch, consumeDriftDeadLetters, type DriftMessage } from "../../workers/drift/drift-consumer";
import { driftRequestKey } from "../../workers/drift/drift-report-store";
import { tenantObject } from "../../workers/tenant-object-stub";
import { countedCall, tally } from "./central-calls";
import { bearer, call, createTenant, expectProblem, jsonBody, type TestTenant } from "./helpers";
import { type JobView, runJob } from "./job-helpers";

const MODEL = `@prefix ex: <http://example.org/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ex:Order a ex:Entity ; rdfs:label "order" .
ex:Customer a ex:Entity ; rdfs:label "customer" .
`;
const QUERY =
  "PREFIX ex: <http://example.org/> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> SELECT ?name WHERE { ?e a ex:Entity ; rdfs:label ?name } ORDER BY ?name";

const TEMPLATES: Record<string, string> = {
  "entity.njk": `---
to: "src/{{ e.name }}.ts"
sparql: "${QUERY}"
foreach: e
---
export interface {{ e.name | pascalCase }} {
  id: string;
}
`,
  "routes.njk": `---
to: src/routes.ts
inject: true
after: "// routes"
---
  "orders",
`,
};

interface ModifiedView {
  path: string;
  reason: string;
  expected: { sha256: string; size?: number };
  actual: { sha256: string; size?: number };
  diff?: string;
  diffTruncated?: true;
}

interface ReportView {
  id: string;
  job: string;
  state: "pending" | "done" | "failed";
  status?: "clean" | "drift";
  exitCode?: number;
  summary?: { expected: number; matched: number; modified: number; missing: number; unexpected: number };
  modified?: ModifiedView[];
  missing?: string[];
  unexpected?: string[];
  error?: string;
  createdAt: string;
}

const ORDER = "export interface Order {\n  id: string;\n}\n";
const CUSTOMER = "export interface Customer {\n  id: string;\n}\n";
/** The hand-written file the inject block lives in. */
const ROUTES = 'const routes = [\n  // routes\n  "orders",\n];\n';

async function generatedJob(plan?: string): Promise<{ tenant: TestTenant; job: JobView }> {
  const tenant = await createTenant(plan ? { plan } : {});
  const graph = await call("/v1/graphs/model", {
    method: "PUT",
    headers: { ...bearer(tenant.apiKey), "content-type": "text/turtle" },
    body: MODEL,
  });
  expect(graph.status).toBe(201);
  for (const [path, source] of Object.entries(TEMPLATES)) {
    const res = await call(`/v1/templates/app/${path}`, {
      method: "PUT",
      headers: { ...bearer(tenant.apiKey), "content-type": "text/plain" },
      body: source,
    });
    expect(res.status, await res.clone().text()).toBeLessThan(300);
  }
  const job = await runJob(tenant.apiKey, { graph: "model", generator: "app" });
  expect(job.status, job.error ?? "").toBe("completed");
  return { tenant, job };
}

const hashOf = async (path: string, text: string) => ({ path, sha256: await sha256Hex(text) });
const withContent = (path: string, content: string) => ({ path, content });

async function check(tenant: TestTenant, body: unknown): Promise<{ status: number; report: ReportView }> {
  const res = await call("/v1/drift", jsonBody(body, tenant.apiKey));
  return { status: res.status, report: (await res.json()) as ReportView };
}

async function reportsOf(tenant: TestTenant, query = ""): Promise<ReportView[]> {
  const res = await call(`/v1/drift${query}`, { headers: bearer(tenant.apiKey) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { items: ReportView[] }).items;
}

describe("POST /v1/drift", () => {
  it("reports a clean tree clean by hashes (content for the injected file), and stores the report", async () => {
    const { tenant, job } = await generatedJob();
    const { status, report } = await check(tenant, {
      job: job.id,
      files: [
        await hashOf("src/order.ts", ORDER),
        await hashOf("src/customer.ts", CUSTOMER),
        withContent("src/routes.ts", ROUTES),
      ],
    });
    expect(status).toBe(200);
    expect(report).toMatchObject({
      job: job.id,
      state: "done",
      status: "clean",
      exitCode: 0,
      summary: { expected: 3, matched: 3, modified: 0, missing: 0, unexpected: 0 },
      modified: [],
      missing: [],
      unexpected: [],
    });
    expect(report.id).toMatch(/^drift_/);
    const stored = await call(`/v1/drift/${report.id}`, { headers: bearer(tenant.apiKey) });
    expect(await stored.json()).toEqual(report);
    expect(await reportsOf(tenant, `?job=${job.id}`)).toEqual([
      {
        id: report.id,
        job: job.id,
        state: "done",
        status: "clean",
        exitCode: 0,
        summary: report.summary,
        createdAt: report.createdAt,
      },
    ]);
  });

  it("classifies the mutation corpus: flipped byte, truncation, CRLF, missing, extra, edits in and out of a block", async () => {
    const { tenant, job } = await generatedJob();
    const base = {
      job: job.id,
      files: [withContent("src/order.ts", ORDER.replace("Order", "Ordes")), withContent("src/customer.ts", CUSTOMER)],
    };
    const classify = async (files: unknown[]) => {
      const { status, report } = await check(tenant, { job: job.id, files });
      expect(status).toBe(200);
      return report;
    };
    const flipped = await classify([...base.files, withContent("src/routes.ts", ROUTES)]);
    expect(flipped.modified?.map(({ path, reason }) => [path, reason])).toEqual([["src/order.ts", "content"]]);
    expect(flipped.modified?.[0]?.diff).toContain("-export interface Order {");
    expect(flipped.modified?.[0]?.diff).toContain("+export interface Ordes {");
    expect(flipped).toMatchObject({ status: "drift", exitCode: 3 });

    const truncated = await classify([
      withContent("src/order.ts", ORDER.slice(0, 10)),
      withContent("src/routes.ts", ROUTES),
    ]);
    expect(truncated.modified?.map(({ path, reason }) => [path, reason])).toEqual([["src/order.ts", "content"]]);
    expect(truncated.missing).toEqual(["src/customer.ts"]);

    const endings = await classify([
      withContent("src/order.ts", ORDER.replace(/\n/g, "\r\n")),
      withContent("src/customer.ts", CUSTOMER.slice(0, -1)),
      withContent("src/routes.ts", ROUTES.replace('"orders",\n', '"orders",\r\n')),
    ]);
    expect(endings.modified?.map(({ path, reason }) => [path, reason])).toEqual([
      ["src/customer.ts", "line-endings"],
      ["src/order.ts", "line-endings"],
      ["src/routes.ts", "line-endings"],
    ]);

    const extra = await classify([
      withContent("src/order.ts", ORDER),
      withContent("src/customer.ts", CUSTOMER),
      withContent("src/routes.ts", ROUTES),
      withContent("src/extra.ts", "export {};\n"),
    ]);
    expect(extra).toMatchObject({ status: "drift", unexpected: ["src/extra.ts"], modified: [], missing: [] });

    const outside = await classify([
      withContent("src/order.ts", ORDER),
      withContent("src/customer.ts", CUSTOMER),
      withContent("src/routes.ts", `// edited by hand\n${ROUTES}export default routes;\n`),
    ]);
    expect(outside).toMatchObject({ status: "clean", modified: [] });

    const inside = await classify([
      withContent("src/order.ts", ORDER),
      withContent("src/customer.ts", CUSTOMER),
      withContent("src/routes.ts", ROUTES.replace('"orders"', '"order"')),
    ]);
    expect(inside.modified?.map(({ path, reason }) => [path, reason])).toEqual([["src/routes.ts", "content"]]);
  });

  it("calls a changed file sent as a hash content drift, and an injected file sent as a hash unverifiable", async () => {
    const { tenant, job } = await generatedJob();
    const { report } = await check(tenant, {
      job: job.id,
      files: [
        await hashOf("src/order.ts", `${ORDER}\n`),
        await hashOf("src/customer.ts", CUSTOMER),
        await hashOf("src/routes.ts", ROUTES),
      ],
    });
    expect(report.modified?.map(({ path, reason, diff }) => [path, reason, diff])).toEqual([
      ["src/order.ts", "content", undefined],
      ["src/routes.ts", "unverifiable-block", undefined],
    ]);
  });

  it("reports binary content by hashes and sizes only", async () => {
    const { tenant, job } = await generatedJob();
    const bytes = new Uint8Array([0xff, 0x00, 0xfe, 0x01]);
    const { report } = await check(tenant, {
      job: job.id,
      files: [{ path: "src/order.ts", content: bytesToBase64(bytes), encoding: "base64" }],
      paths: ["src/order.ts"],
    });
    expect(report.summary).toEqual({ expected: 1, matched: 0, modified: 1, missing: 0, unexpected: 0 });
    expect(report.modified?.[0]).toEqual({
      path: "src/order.ts",
      reason: "content",
      expected: { sha256: await sha256Hex(ORDER), size: ORDER.length },
      actual: { sha256: await sha256Hex(bytes), size: 4 },
    });
  });

  it("limits the check to the paths globs on both sides", async () => {
    const { tenant, job } = await generatedJob();
    const { report } = await check(tenant, {
      job: job.id,
      files: [await hashOf("src/order.ts", ORDER), await hashOf("docs/notes.md", "x")],
      paths: ["src/o*.ts"],
    });
    expect(report).toMatchObject({
      status: "clean",
      summary: { expected: 1, matched: 1, modified: 0, missing: 0, unexpected: 0 },
    });
  });

  it("resolves a lock to the completed job with its hash; an ungenerated lock answers 409 lock-not-generated", async () => {
    const { tenant, job } = await generatedJob();
    const { status, report } = await check(tenant, {
      lock: job.lock,
      files: [await hashOf("src/order.ts", ORDER)],
      paths: ["src/order.ts"],
    });
    expect(status).toBe(200);
    expect(report).toMatchObject({ job: job.id, status: "clean" });
    const other = { ...job.lock, buildTime: "2001-01-01T00:00:00Z" };
    const res = await call("/v1/drift", jsonBody({ lock: other, files: [] }, tenant.apiKey));
    const problem = await expectProblem(res, 409, "lock-not-generated");
    expect(problem.detail).toContain("Generate it first");
  });

  it("refuses bad input with a problem and stores nothing", async () => {
    const { tenant, job } = await generatedJob();
    const order = await hashOf("src/order.ts", ORDER);
    await expectProblem(
      await call("/v1/drift", jsonBody({ job: "job_unknown", files: [] }, tenant.apiKey)),
      404,
      "not-found",
    );
    await expectProblem(
      await call("/v1/drift", jsonBody({ lock: { not: "a lock" }, files: [] }, tenant.apiKey)),
      400,
      "validation-error",
    );
    const duplicate = await call(
      "/v1/drift",
      jsonBody({ job: job.id, files: [order, { ...order, path: "./src/order.ts" }] }, tenant.apiKey),
    );
    expect((await expectProblem(duplicate, 422, "duplicate-drift-path")).path).toBe("src/order.ts");
    for (const path of ["../etc/passwd", "/etc/passwd", "src/../../x"]) {
      const res = await call("/v1/drift", jsonBody({ job: job.id, files: [{ ...order, path }] }, tenant.apiKey));
      await expectProblem(res, 422, "invalid-drift-file");
    }
    const badBase64 = await call(
      "/v1/drift",
      jsonBody({ job: job.id, files: [{ path: "a", content: "%%%", encoding: "base64" }] }, tenant.apiKey),
    );
    await expectProblem(badBase64, 422, "invalid-drift-file");
    await expectProblem(
      await call("/v1/drift", jsonBody({ job: job.id, files: [{ path: "a", sha256: "A".repeat(64) }] }, tenant.apiKey)),
      400,
      "validation-error",
    );
    await expectProblem(
      await call(
        "/v1/drift",
        jsonBody({ job: job.id, files: [{ path: "a", sha256: order.sha256, content: "x" }] }, tenant.apiKey),
      ),
      400,
      "validation-error",
    );
    expect(await reportsOf(tenant)).toEqual([]);
    await expectProblem(await call("/v1/drift/drift_unknown", { headers: bearer(tenant.apiKey) }), 404, "not-found");
  });

  it("answers 413 for a body over the plan's limit and 400 over the file limit, storing nothing", async () => {
    const { tenant, job } = await generatedJob();
    const huge = await call(
      "/v1/drift",
      jsonBody({ job: job.id, files: [{ path: "big.txt", content: "x".repeat(1024 * 1024 + 1) }] }, tenant.apiKey),
    );
    await expectProblem(huge, 413, "payload-too-large");
    const standard = await createTenant({ plan: "standard" });
    const sha256 = "0".repeat(64);
    const tooMany = await call(
      "/v1/drift",
      jsonBody(
        { job: "job_x", files: Array.from({ length: 20_001 }, (_, i) => ({ path: `f/${i}`, sha256 })) },
        standard.apiKey,
      ),
    );
    await expectProblem(tooMany, 400, "validation-error");
    expect(await reportsOf(tenant)).toEqual([]);
    expect(await reportsOf(standard)).toEqual([]);
  });

  it("runs a large check on the queue: 202 pending, then done; lists with a cursor", async () => {
    const { tenant, job } = await generatedJob("standard");
    const files = [
      await hashOf("src/order.ts", ORDER),
      await hashOf("src/customer.ts", CUSTOMER),
      withContent("src/routes.ts", ROUTES),
      ...(await Promise.all(
        Array.from({ length: 1_000 }, (_, i) => hashOf(`extra/${String(i).padStart(4, "0")}.txt`, `${i}`)),
      )),
    ];
    const res = await call("/v1/drift", jsonBody({ job: job.id, files }, tenant.apiKey));
    expect(res.status).toBe(202);
    const pending = (await res.json()) as ReportView;
    expect(pending).toMatchObject({ job: job.id, state: "pending" });
    expect(res.headers.get("location")).toBe(`/v1/drift/${pending.id}`);
    const done = await vi.waitFor(
      async () => {
        const report = (await (
          await call(`/v1/drift/${pending.id}`, { headers: bearer(tenant.apiKey) })
        ).json()) as ReportView;
        expect(report.state).toBe("done");
        return report;
      },
      { timeout: 20_000, interval: 200 },
    );
    expect(done).toMatchObject({
      status: "drift",
      exitCode: 3,
      summary: { expected: 3, matched: 3, modified: 0, missing: 0, unexpected: 1_000 },
    });
    expect(done.unexpected?.[0]).toBe("extra/0000.txt");
    // The queued request is gone once its report exists.
    expect(await env.ARTIFACTS.head(driftRequestKey(tenant.id, pending.id))).toBeNull();

    const small = await check(tenant, { job: job.id, files: [], paths: ["none"] });
    const first = await call(`/v1/drift?job=${job.id}&limit=1`, { headers: bearer(tenant.apiKey) });
    const page = (await first.json()) as { items: ReportView[]; nextCursor: string | null };
    expect(page.items.map((item) => item.id)).toEqual([small.report.id]);
    expect(page.nextCursor).not.toBeNull();
    const second = (await (
      await call(`/v1/drift?job=${job.id}&limit=1&cursor=${page.nextCursor}`, { headers: bearer(tenant.apiKey) })
    ).json()) as { items: ReportView[]; nextCursor: string | null };
    expect(second).toMatchObject({ items: [{ id: pending.id, state: "done" }], nextCursor: null });
    expect(await reportsOf(tenant, "?job=job_other")).toEqual([]);
    await expectProblem(
      await call("/v1/drift?cursor=nonsense", { headers: bearer(tenant.apiKey) }),
      400,
      "validation-error",
    );
  }, 30_000);

  it("consumes idempotently and marks a dead-lettered report failed with its reason", async () => {
    const { tenant, job } = await generatedJob();
    const stub = tenantObject(env, { id: tenant.id, jurisdiction: null });
    const id = "drift_aaaaaaaaaaaaaaaaaaaaaaaaaa";
    const requestKey = driftRequestKey(tenant.id, id);
    await env.ARTIFACTS.put(requestKey, JSON.stringify({ job: job.id, files: [] }));
    await stub.driftReportCreate({ id, jobId: job.id, state: "pending", now: Date.now() });
    const message: DriftMessage = { tenantId: tenant.id, reportId: id, requestKey };
    const batch = () =>
      createMessageBatch<DriftMessage>("kgen-drift", [{ id: "m1", timestamp: new Date(), attempts: 1, body: message }]);
    const ctx = createExecutionContext();
    const first = batch();
    await consumeDriftBatch(first, env);
    expect((await getQueueResult(first, ctx)).explicitAcks).toEqual(["m1"]);
    const done = (await (await call(`/v1/drift/${id}`, { headers: bearer(tenant.apiKey) })).json()) as ReportView;
    expect(done).toMatchObject({ state: "done", summary: { missing: 3 } });
    // Redelivered: acked without running again; the dead-letter queue leaves a done report alone.
    const again = batch();
    await consumeDriftBatch(again, env);
    expect((await getQueueResult(again, ctx)).explicitAcks).toEqual(["m1"]);
    await consumeDriftDeadLetters(
      createMessageBatch("kgen-drift-dlq", [{ id: "m1", timestamp: new Date(), attempts: 5, body: message }]),
      env,
    );
    expect(
      ((await (await call(`/v1/drift/${id}`, { headers: bearer(tenant.apiKey) })).json()) as ReportView).state,
    ).toBe("done");

    const lost = "drift_bbbbbbbbbbbbbbbbbbbbbbbbbb";
    await stub.driftReportCreate({ id: lost, jobId: job.id, state: "pending", now: Date.now() });
    await stub.driftReportNoteError(lost, "an internal error stopped the check", Date.now());
    await consumeDriftDeadLetters(
      createMessageBatch("kgen-drift-dlq", [
        { id: "m2", timestamp: new Date(), attempts: 5, body: { ...message, reportId: lost } },
      ]),
      env,
    );
    const failed = (await (await call(`/v1/drift/${lost}`, { headers: bearer(tenant.apiKey) })).json()) as ReportView;
    expect(failed).toMatchObject({
      state: "failed",
      error: "dead-lettered after retries: an internal error stopped the check",
    });
    expect(failed.status).toBeUndefined();
  });

  it("checks by hashes in four central calls: the job, its artifact rows, the report, its index row", async () => {
    const { tenant, job } = await generatedJob();
    const body = {
      job: job.id,
      files: [await hashOf("src/order.ts", ORDER), await hashOf("src/customer.ts", CUSTOMER)],
    };
    // The key is seen once, so the counted call reads no credential.
    expect((await call("/v1/drift", jsonBody(body, tenant.apiKey))).status).toBe(200);
    const { response, onPath } = await countedCall("/v1/drift", jsonBody(body, tenant.apiKey));
    expect(response.status).toBe(200);
    expect(tally(onPath)).toEqual({
      "d1:raw": 1,
      "tenant-object:artifactList": 1,
      "r2:put": 1,
      "tenant-object:driftReportCreate": 1,
    });
  });

  it("answers 409 job-not-completed for a job that failed", async () => {
    const tenant = await createTenant();
    await call("/v1/templates/broken/x.njk", {
      method: "PUT",
      headers: { ...bearer(tenant.apiKey), "content-type": "text/plain" },
      body: "---\nto: x.txt\n---\n{{ nothing() }}\n",
    });
    await call("/v1/graphs/g", {
      method: "PUT",
      headers: { ...bearer(tenant.apiKey), "content-type": "application/n-triples" },
      body: "<http://e/s> <http://e/p> <http://e/o> .",
    });
    const job = await runJob(tenant.apiKey, { graph: "g", generator: "broken" });
    expect(job.status).toBe("failed");
    const res = await call("/v1/drift", jsonBody({ job: job.id, files: [] }, tenant.apiKey));
    expect((await expectProblem(res, 409, "job-not-completed")).jobStatus).toBe("failed");
    expect(await reportsOf(tenant)).toEqual([]);
  });

  it("retries a check whose artifact content cannot be read, and fails one whose stored request is gone", async () => {
    const { tenant, job } = await generatedJob();
    const stub = tenantObject(env, { id: tenant.id, jurisdiction: null });
    const id = "drift_cccccccccccccccccccccccccc";
    const requestKey = driftRequestKey(tenant.id, id);
    await env.ARTIFACTS.put(
      requestKey,
      JSON.stringify({ job: job.id, files: [{ path: "src/routes.ts", content: "x\n" }] }),
    );
    await stub.driftReportCreate({ id, jobId: job.id, state: "pending", now: Date.now() });
    const blobs = await env.ARTIFACTS.list({ prefix: `t/${tenant.id}/sha256/` });
    await env.ARTIFACTS.delete(blobs.objects.map((object) => object.key));
    const ctx = createExecutionContext();
    const batch = createMessageBatch<DriftMessage>("kgen-drift", [
      { id: "m1", timestamp: new Date(), attempts: 1, body: { tenantId: tenant.id, reportId: id, requestKey } },
    ]);
    await consumeDriftBatch(batch, env);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages.map((message) => message.msgId)).toEqual(["m1"]);
    expect(await stub.driftReportGet(id)).toMatchObject({
      state: "pending",
      error: expect.stringContaining("internal error"),
    });

    const gone = "drift_dddddddddddddddddddddddddd";
    await stub.driftReportCreate({ id: gone, jobId: job.id, state: "pending", now: Date.now() });
    await consumeDriftBatch(
      createMessageBatch<DriftMessage>("kgen-drift", [
        {
          id: "m2",
          timestamp: new Date(),
          attempts: 1,
          body: { tenantId: tenant.id, reportId: gone, requestKey: driftRequestKey(tenant.id, gone) },
        },
      ]),
      env,
    );
    const failed = (await (await call(`/v1/drift/${gone}`, { headers: bearer(tenant.apiKey) })).json()) as ReportView;
    expect(failed).toMatchObject({ state: "failed", error: "the stored request is missing" });
  });

  it("answers 404 for another tenant's job and report", async () => {
    const { tenant: owner, job } = await generatedJob();
    const other = await createTenant();
    const { report } = await check(owner, { job: job.id, files: [] });
    await expectProblem(await call("/v1/drift", jsonBody({ job: job.id, files: [] }, other.apiKey)), 404, "not-found");
    await expectProblem(
      await call("/v1/drift", jsonBody({ lock: job.lock, files: [] }, other.apiKey)),
      409,
      "lock-not-generated",
    );
    await expectProblem(await call(`/v1/drift/${report.id}`, { headers: bearer(other.apiKey) }), 404, "not-found");
    expect(await reportsOf(other, `?job=${job.id}`)).toEqual([]);
  });
});
