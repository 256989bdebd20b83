import {
  createExecutionContext,
  createMessageBatch,
  evictDurableObject,
  getQueueResult,
  runInDurableObject,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../../shared/core/sha256";
import worker from "../../../workers/index";
import { artifactId } from "../../../workers/jobs/artifact-writer";
import { consumeGenerateBatch, consumeGenerateDeadLetters } from "../../../workers/jobs/generate-consumer";
import { type GenerateMessage, isPlanMessage } from "../../../workers/jobs/run-job";
import { artifactBytes } from "../../../workers/storage/artifact-content";
import { ContentStore } from "../../../workers/storage/content-store";
import { tenantObject } from "../../../workers/tenant-object-stub";
import { CentralCallLog, tally } from "../central-calls";
import { BASE, bearer, call, createTenant, jsonBody, type TestTenant } from "../helpers";
import { rejection } from "../tenant-do/rejection";
import { tenantSql } from "../tenant-sql";
import { CapturedQueue, type Fault, FaultInjector, injectIntoObject } from "./fault-injection";

const PREFIXES = "PREFIX ex: <http://example.org/> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>";
/** Three unit batches on the free plan: 50, 50 and 20 units. */
const UNITS = 120;
const BATCHES = 3;
/** The queue's max_retries (wrangler.toml) plus the first delivery. */
const MAX_DELIVERIES = 6;
const modelOf = (units: number) =>
  `@prefix ex: <http://example.org/> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n${Array.from(
    { length: units },
    (_, i) => `ex:E${i} a ex:Entity ; rdfs:label "entity ${i}" .`,
  ).join("\n")}`;
const TEMPLATE = `---\nto: "out/{{ e.name | kebabCase }}.txt"\nsparql: "${PREFIXES} SELECT ?name WHERE { ?x a ex:Entity ; rdfs:label ?name } ORDER BY ?name"\nforeach: e\n---\n{{ e.name }}`;

/** A tenant with the model graph and the one-file-per-entity generator. */
async function tenantWithModel(units = UNITS): Promise<TestTenant> {
  const tenant = await createTenant();
  const graph = await call("/v1/graphs/model", {
    method: "PUT",
    headers: { ...bearer(tenant.apiKey), "content-type": "text/turtle" },
    body: modelOf(units),
  });
  expect(graph.status).toBe(201);
  const template = await call("/v1/templates/gen/e.njk", {
    method: "PUT",
    headers: { ...bearer(tenant.apiKey), "content-type": "text/plain" },
    body: TEMPLATE,
  });
  expect(template.status).toBeLessThan(300);
  return tenant;
}

const stubOf = (tenant: TestTenant) => tenantObject(env, { id: tenant.id, jurisdiction: null });

/**
 * A job whose queue messages the test delivers itself: started through the API with a captured
 * `generate` queue, so no consumer runs it behind the test's back.
 */
class DrivenJob {
  readonly queue = new CapturedQueue<GenerateMessage>();
  readonly env: Env = { ...env, GENERATE_QUEUE: this.queue as unknown as Queue };
  private deliveries = 0;

  private constructor(
    readonly tenant: TestTenant,
    readonly jobId: string,
  ) {}

  static async start(tenant: TestTenant): Promise<DrivenJob> {
    const queue = new CapturedQueue<GenerateMessage>();
    // The tenant's object sends the plan message: captured here, as the Worker's batches are below.
    await runInDurableObject(stubOf(tenant), (instance: object) => {
      const object = instance as { env: Env };
      object.env = { ...object.env, GENERATE_QUEUE: queue as unknown as Queue };
    });
    const ctx = createExecutionContext();
    const res = await worker.fetch(
      new Request(`${BASE}/v1/jobs`, jsonBody({ graph: "model", generator: "gen" }, tenant.apiKey)),
      { ...env, GENERATE_QUEUE: queue as unknown as Queue },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    const job = (await res.json()) as { id: string; status: string };
    expect(res.status, JSON.stringify(job)).toBe(202);
    const driven = new DrivenJob(tenant, job.id);
    driven.queue.sent.push(...queue.take());
    return driven;
  }

  /** Delivers one message as the queue would, on its `attempts`-th delivery; whether it was acked or retried. */
  async deliver(body: GenerateMessage, attempts: number, through: Env = this.env): Promise<"acked" | "retried"> {
    this.deliveries += 1;
    const batch = createMessageBatch<GenerateMessage>("kgen-generate", [
      { id: `m${this.deliveries}`, timestamp: new Date(), attempts, body },
    ]);
    const ctx = createExecutionContext();
    await consumeGenerateBatch(batch, through);
    const result = await getQueueResult(batch, ctx);
    if (result.retryMessages.length === 1 && result.explicitAcks.length === 0) return "retried";
    expect(result.explicitAcks).toEqual([`m${this.deliveries}`]);
    return "acked";
  }

  /**
   * Delivers a message until it is acked: the first attempt through `first` (a faulty env), retries through
   * the real one, at most MAX_DELIVERIES times. The attempts it took.
   */
  async deliverUntilAcked(body: GenerateMessage, first: Env = this.env, retries: Env = this.env): Promise<number> {
    for (let attempts = 1; attempts <= MAX_DELIVERIES; attempts++) {
      if ((await this.deliver(body, attempts, attempts === 1 ? first : retries)) === "acked") return attempts;
    }
    throw new Error(`message not acked after ${MAX_DELIVERIES} deliveries`);
  }

  /** Plans the job: its unit batches, in plan order. */
  async plan(): Promise<GenerateMessage[]> {
    const [plan] = this.queue.take();
    expect(plan && isPlanMessage(plan)).toBe(true);
    expect(await this.deliverUntilAcked(plan as GenerateMessage)).toBe(1);
    const batches = this.queue.take();
    expect(batches).toHaveLength(BATCHES);
    return batches;
  }
}

interface JobOutcome {
  status: string;
  error: string | null;
  counts: { total: number; done: number; skipped: number; bytes: number };
  artifacts: { path: string; sha256: string; size: number }[];
  quotas: { artifactBytes: number; generations: number };
  events: Record<string, number>;
  /** The tenant's blobs in R2, by content hash (packs and the template source). */
  blobs: string[];
}

/** What a job left behind, checked for duplicates and unreadable bytes on the way. */
async function outcomeOf(job: DrivenJob): Promise<JobOutcome> {
  const { tenant, jobId } = job;
  const row = (await env.DB.prepare("SELECT status, error, total, done, skipped, bytes FROM jobs WHERE id = ?")
    .bind(jobId)
    .first()) as { status: string; error: string | null; total: number; done: number; skipped: number; bytes: number };
  const rows = await tenantSql<{
    id: string;
    path: string;
    sha256: string;
    size: number;
    pack_sha256: string;
    pack_offset: number;
  }>(
    tenant.id,
    "SELECT id, path, sha256, size, pack_sha256, pack_offset FROM artifact WHERE job_id = ? ORDER BY path",
    jobId,
  );
  expect(new Set(rows.map((r) => r.id)).size, "duplicate artifact ids").toBe(rows.length);
  expect(new Set(rows.map((r) => r.path)).size, "duplicate artifact paths").toBe(rows.length);
  const content = new ContentStore(env.ARTIFACTS, tenant.id);
  for (const r of rows) {
    expect(r.id).toBe(await artifactId(jobId, r.path));
    const bytes = await artifactBytes(content, {
      sha256: r.sha256,
      size: r.size,
      packSha256: r.pack_sha256,
      packOffset: r.pack_offset,
    });
    expect(bytes, `bytes of ${r.path}`).not.toBeNull();
    expect(await sha256Hex(bytes as Uint8Array)).toBe(r.sha256);
  }
  const { quotas } = await stubOf(tenant).getUsage();
  const used = (counter: string) =>
    quotas.filter((quota) => quota.counter === counter).reduce((sum, quota) => sum + quota.used, 0);
  const { events } = await stubOf(tenant).readEvents({ limit: 1000 });
  const eventCounts: Record<string, number> = {};
  for (const event of events) {
    if (event.type.startsWith("job.") && (event.data as { jobId?: string }).jobId === jobId)
      eventCounts[event.type] = (eventCounts[event.type] ?? 0) + 1;
  }
  const prefix = `t/${tenant.id}/sha256/`;
  const listed = await env.ARTIFACTS.list({ prefix });
  return {
    status: row.status,
    error: row.error,
    counts: { total: row.total, done: row.done, skipped: row.skipped, bytes: row.bytes },
    artifacts: rows.map(({ path, sha256, size }) => ({ path, sha256, size })),
    quotas: { artifactBytes: used("artifactBytes"), generations: used("generations") },
    events: eventCounts,
    blobs: listed.objects.map((object) => object.key.slice(prefix.length)).sort(),
  };
}

let cleanOutcome: Promise<JobOutcome> | undefined;
/** The same job run without faults in a tenant of its own: what every faulty run must end with. */
function cleanRun(): Promise<JobOutcome> {
  cleanOutcome ??= (async () => {
    const job = await DrivenJob.start(await tenantWithModel());
    for (const batch of await job.plan()) expect(await job.deliverUntilAcked(batch)).toBe(1);
    return outcomeOf(job);
  })();
  return cleanOutcome;
}

/**
 * Runs a job with `faults` on the first attempt of batch `faultyBatch`: every batch's attempts, and the
 * central calls the faulty batch's retries made (what the failure costs besides the delay).
 */
async function runWithFaults(faults: Fault[], faultyBatch = 1) {
  const job = await DrivenJob.start(await tenantWithModel());
  const injector = new FaultInjector(faults);
  const retryLog = new CentralCallLog();
  const attempts: number[] = [];
  for (const [index, batch] of (await job.plan()).entries()) {
    attempts.push(
      index === faultyBatch
        ? await job.deliverUntilAcked(batch, injector.wrap(job.env), retryLog.wrap(job.env))
        : await job.deliverUntilAcked(batch),
    );
  }
  return { job, injector, attempts, retryCalls: tally(retryLog.calls), outcome: await outcomeOf(job) };
}

describe("generation under faults", () => {
  it("the clean run: three batches, each artifact once, one generation, events once", async () => {
    const clean = await cleanRun();
    expect(clean.status).toBe("completed");
    expect(clean.counts).toEqual({
      total: UNITS,
      done: UNITS,
      skipped: 0,
      bytes: clean.artifacts.reduce((sum, a) => sum + a.size, 0),
    });
    expect(clean.artifacts).toHaveLength(UNITS);
    expect(clean.quotas).toEqual({ artifactBytes: clean.counts.bytes, generations: 1 });
    expect(clean.events).toEqual({ "job.started": 1, "job.progress": BATCHES, "job.completed": 1 });
  }, 60_000);

  it("an R2 pack write that fails on batch 2 is retried once; the job ends exactly as a clean run", async () => {
    const { injector, attempts, retryCalls, outcome } = await runWithFaults([{ store: "r2", method: "put", nth: 1 }]);
    expect(injector.injected).toEqual([{ store: "r2", method: "put", call: 1, effect: "fail" }]);
    expect(attempts).toEqual([1, 2, 1]);
    // The retry does the batch's work again: its reservation replays, its pack is written.
    expect(retryCalls).toMatchObject({
      "r2:put": 1,
      "tenant-object:artifactPrepareBatch": 1,
      "tenant-object:artifactRecord": 1,
    });
    expect(outcome).toEqual(await cleanRun());
  }, 60_000);

  it("an R2 pack write that succeeded but answered with an error is retried; the same pack is written again, not a second one", async () => {
    const { injector, attempts, retryCalls, outcome } = await runWithFaults([
      { store: "r2", method: "put", nth: 1, effect: "fail-after" },
    ]);
    expect(injector.injected).toHaveLength(1);
    expect(attempts).toEqual([1, 2, 1]);
    expect(retryCalls["r2:put"]).toBe(1);
    expect(outcome).toEqual(await cleanRun());
  }, 60_000);

  it("a D1 job-counter update that fails after the index recorded the batch is retried; counts stay exact", async () => {
    const counterUpdate = /update "jobs" set\s+done = max/;
    for (const effect of ["fail", "fail-after"] as const) {
      const { injector, attempts, retryCalls, outcome } = await runWithFaults([
        { store: "d1", method: "all", sql: counterUpdate, nth: 1, effect },
      ]);
      expect(injector.injected).toEqual([{ store: "d1", method: "all", call: 1, effect }]);
      expect(attempts).toEqual([1, 2, 1]);
      // The index has the batch's contents: the retry writes no pack, and records no row twice.
      expect(retryCalls["r2:put"]).toBeUndefined();
      expect(outcome).toEqual(await cleanRun());
    }
  }, 90_000);

  it("the tenant object's artifactRecord failing, answering with an error after it recorded, or the object aborted under it: retried, exact", async () => {
    for (const effect of ["fail", "fail-after", "abort"] as const) {
      const { injector, attempts, retryCalls, outcome } = await runWithFaults([
        { store: "tenant-object", method: "artifactRecord", nth: 1, effect },
      ]);
      expect(injector.injected).toEqual([{ store: "tenant-object", method: "artifactRecord", call: 1, effect }]);
      expect(attempts).toEqual([1, 2, 1]);
      // Rows not recorded: the retry writes the same pack again (same key); recorded: no pack at all.
      expect(retryCalls["r2:put"]).toBe(effect === "fail-after" ? undefined : 1);
      expect(outcome).toEqual(await cleanRun());
    }
  }, 120_000);

  it("the tenant object evicted between batches and in the middle of one: the job completes once, events once, one generation", async () => {
    const job = await DrivenJob.start(await tenantWithModel());
    const batches = await job.plan();
    // Evicted before the batch reserves its bytes and looks up its contents, and again after that, before
    // its rows and progress event are recorded.
    const injector = new FaultInjector([
      { store: "tenant-object", method: "artifactPrepareBatch", nth: 1, effect: "evict" },
      { store: "tenant-object", method: "artifactRecord", nth: 1, effect: "evict" },
    ]);
    const attempts: number[] = [];
    for (const [index, batch] of batches.entries()) {
      await evictDurableObject(stubOf(job.tenant));
      attempts.push(await job.deliverUntilAcked(batch, index === 1 ? injector.wrap(job.env) : job.env));
    }
    expect(injector.injected.map((fault) => fault.method)).toEqual(["artifactPrepareBatch", "artifactRecord"]);
    // Eviction loses no call: nothing was retried.
    expect(attempts).toEqual([1, 1, 1]);
    const outcome = await outcomeOf(job);
    expect(outcome).toEqual(await cleanRun());
    expect(outcome.events).toEqual({ "job.started": 1, "job.progress": BATCHES, "job.completed": 1 });
    expect(outcome.quotas.generations).toBe(1);
  }, 60_000);

  it("the tenant object evicted while the last batch's calls are in flight: the job completes once", async () => {
    const job = await DrivenJob.start(await tenantWithModel());
    const batches = await job.plan();
    const injector = new FaultInjector(
      ["artifactPrepareBatch", "artifactRecord", "recordJobChange"].map((method) => ({
        store: "tenant-object" as const,
        method,
        nth: 1,
        effect: "evict-during" as const,
      })),
    );
    const attempts: number[] = [];
    for (const [index, batch] of batches.entries()) {
      attempts.push(await job.deliverUntilAcked(batch, index === BATCHES - 1 ? injector.wrap(job.env) : job.env));
    }
    expect(injector.injected.map((fault) => fault.method)).toEqual([
      "artifactPrepareBatch",
      "artifactRecord",
      "recordJobChange",
    ]);
    expect(attempts).toEqual([1, 1, 1]);
    expect(await outcomeOf(job)).toEqual(await cleanRun());
  }, 60_000);

  it("a job's completion applied in D1 whose answer the tenant object lost still records job.completed, once", async () => {
    const job = await DrivenJob.start(await tenantWithModel());
    const batches = await job.plan();
    for (const batch of batches.slice(0, -1)) await job.deliverUntilAcked(batch);
    const injector = new FaultInjector([
      { store: "d1", method: "run", sql: /update "jobs" set "status"/, nth: 1, effect: "fail-after" },
    ]);
    const restore = await injectIntoObject(stubOf(job.tenant), injector);
    try {
      expect(await job.deliverUntilAcked(batches[BATCHES - 1] as GenerateMessage)).toBe(1);
    } finally {
      await restore();
    }
    expect(injector.injected).toEqual([{ store: "d1", method: "run", call: 1, effect: "fail-after" }]);
    expect(await outcomeOf(job)).toEqual(await cleanRun());
  }, 60_000);

  it("a job's completion that failed in D1 (not applied) is retried and completes once", async () => {
    const job = await DrivenJob.start(await tenantWithModel());
    const batches = await job.plan();
    for (const batch of batches.slice(0, -1)) await job.deliverUntilAcked(batch);
    const injector = new FaultInjector([
      { store: "d1", method: "run", sql: /update "jobs" set "status"/, nth: 1, effect: "fail" },
    ]);
    const restore = await injectIntoObject(stubOf(job.tenant), injector);
    try {
      expect(await job.deliverUntilAcked(batches[BATCHES - 1] as GenerateMessage)).toBe(2);
    } finally {
      await restore();
    }
    expect(injector.injected).toHaveLength(1);
    expect(await outcomeOf(job)).toEqual(await cleanRun());
  }, 60_000);

  it("a job small enough to be written by its plan: a failed write retries the plan, and it ends as a clean run", async () => {
    const cleanJob = await DrivenJob.start(await tenantWithModel(30));
    expect(await cleanJob.deliverUntilAcked(cleanJob.queue.take()[0] as GenerateMessage)).toBe(1);
    const clean = await outcomeOf(cleanJob);
    expect(clean).toMatchObject({ status: "completed", counts: { total: 30, done: 30 } });
    expect(clean.events).toEqual({ "job.started": 1, "job.progress": 1, "job.completed": 1 });
    const faults: Fault[] = [
      { store: "r2", method: "put", nth: 1 },
      { store: "tenant-object", method: "artifactRecord", nth: 1, effect: "fail-after" },
      { store: "d1", method: "all", sql: /update "jobs" set\s+done = max/, nth: 1 },
    ];
    for (const fault of faults) {
      const job = await DrivenJob.start(await tenantWithModel(30));
      const injector = new FaultInjector([fault]);
      expect(await job.deliverUntilAcked(job.queue.take()[0] as GenerateMessage, injector.wrap(job.env))).toBe(2);
      expect(injector.injected).toHaveLength(1);
      expect(job.queue.sent).toEqual([]);
      expect(await outcomeOf(job)).toEqual(clean);
    }
  }, 90_000);

  it("a redelivered batch of a completed job changes nothing", async () => {
    const job = await DrivenJob.start(await tenantWithModel());
    const batches = await job.plan();
    for (const batch of batches) await job.deliverUntilAcked(batch);
    const before = await outcomeOf(job);
    expect(before.status).toBe("completed");
    for (const batch of batches) expect(await job.deliver(batch, 2)).toBe("acked");
    expect(await job.deliver({ kind: "plan", tenantId: job.tenant.id, jobId: job.jobId }, 2)).toBe("acked");
    expect(await outcomeOf(job)).toEqual(before);
  }, 60_000);

  it("a batch failing on every delivery is dead-lettered: the job fails with its reason, once; the generation stays counted", async () => {
    const job = await DrivenJob.start(await tenantWithModel());
    const batches = await job.plan();
    await job.deliverUntilAcked(batches[0] as GenerateMessage);
    const injector = new FaultInjector([{ store: "r2", method: "put", nth: 1, times: Number.POSITIVE_INFINITY }]);
    const faulty = injector.wrap(job.env);
    for (let attempts = 1; attempts <= MAX_DELIVERIES; attempts++) {
      expect(await job.deliver(batches[1] as GenerateMessage, attempts, faulty)).toBe("retried");
    }
    expect(injector.injected).toHaveLength(MAX_DELIVERIES);
    const dlq = createMessageBatch<GenerateMessage>("kgen-generate-dlq", [
      { id: "d1", timestamp: new Date(), attempts: MAX_DELIVERIES, body: batches[1] as GenerateMessage },
    ]);
    await consumeGenerateDeadLetters(dlq, job.env);
    await consumeGenerateDeadLetters(dlq, job.env);
    // The third batch, delivered after the job failed, writes nothing.
    expect(await job.deliver(batches[2] as GenerateMessage, 1)).toBe("acked");
    const outcome = await outcomeOf(job);
    const clean = await cleanRun();
    expect(outcome.status).toBe("failed");
    expect(outcome.error).toBe(
      "dead-lettered after retries: An internal error stopped the batch; it is retried, and the log has the details.",
    );
    expect(outcome.events).toEqual({ "job.started": 1, "job.progress": 1, "job.failed": 1 });
    expect(outcome.artifacts).toEqual(clean.artifacts.slice(0, 50));
    expect(outcome.counts).toEqual({
      total: UNITS,
      done: 50,
      skipped: 0,
      bytes: outcome.artifacts.reduce((s, a) => s + a.size, 0),
    });
    // Its first batch was delivered: the generation stays counted. Only written bytes count.
    expect(outcome.quotas).toEqual({ artifactBytes: outcome.counts.bytes, generations: 1 });
  }, 60_000);

  it("a batch dead-lettered after its rows were recorded keeps its bytes counted: they are the job's", async () => {
    const job = await DrivenJob.start(await tenantWithModel());
    const batches = await job.plan();
    await job.deliverUntilAcked(batches[0] as GenerateMessage);
    // Its counters' update is applied but never answered: the rows, counters and progress event are
    // written on every attempt, once.
    const injector = new FaultInjector([
      {
        store: "d1",
        method: "all",
        sql: /update "jobs" set\s+done = max/,
        nth: 1,
        times: Number.POSITIVE_INFINITY,
        effect: "fail-after",
      },
    ]);
    const faulty = injector.wrap(job.env);
    for (let attempts = 1; attempts <= MAX_DELIVERIES; attempts++) {
      expect(await job.deliver(batches[1] as GenerateMessage, attempts, faulty)).toBe("retried");
    }
    const dlq = createMessageBatch<GenerateMessage>("kgen-generate-dlq", [
      { id: "d1", timestamp: new Date(), attempts: MAX_DELIVERIES, body: batches[1] as GenerateMessage },
    ]);
    await consumeGenerateDeadLetters(dlq, job.env);
    const outcome = await outcomeOf(job);
    expect(outcome.status).toBe("failed");
    expect(outcome.artifacts).toEqual((await cleanRun()).artifacts.slice(0, 100));
    expect(outcome.counts.done).toBe(100);
    expect(outcome.events).toEqual({ "job.started": 1, "job.progress": 2, "job.failed": 1 });
    expect(outcome.quotas).toEqual({ artifactBytes: outcome.counts.bytes, generations: 1 });
  }, 60_000);

  it("gives a dead-lettered batch's reservation back once, only when its rows are not recorded, and checks its input", async () => {
    const tenant = await createTenant();
    const stub = stubOf(tenant);
    const artifactBytesUsed = async () =>
      (await stub.getUsage()).quotas.find((quota) => quota.counter === "artifactBytes")?.used ?? 0;
    await stub.reserveQuota({ counter: "artifactBytes", amount: 700, limit: 10_000, idempotencyKey: "job_x:e.njk:0" });
    await stub.reserveQuota({ counter: "artifactBytes", amount: 300, limit: 10_000, idempotencyKey: "job_x:e.njk:50" });
    await stub.artifactRecord("job_x", [], { key: "job_x:e.njk:50", skipped: 0 });
    expect(await stub.artifactReleaseUnwrittenBatch("job_x", "job_x:e.njk:0")).toBe(700);
    expect(await stub.artifactReleaseUnwrittenBatch("job_x", "job_x:e.njk:0")).toBe(0);
    expect(await stub.artifactReleaseUnwrittenBatch("job_x", "job_x:e.njk:50")).toBe(0);
    expect(await stub.artifactReleaseUnwrittenBatch("job_x", "job_x:e.njk:100")).toBe(0);
    expect(await artifactBytesUsed()).toBe(300);
    expect(await rejection(() => stub.artifactReleaseUnwrittenBatch("", "k"))).toBeInstanceOf(TypeError);
    expect(await rejection(() => stub.artifactReleaseUnwrittenBatch("job_x", 7 as unknown as string))).toBeInstanceOf(
      TypeError,
    );
  });

  it("a plan message the tenant's object cannot send: 500, the job failed at once, its generation given back", async () => {
    const tenant = await tenantWithModel();
    await runInDurableObject(stubOf(tenant), (instance: object) => {
      const object = instance as { env: Env };
      const refusing = {
        send: () => Promise.reject(new Error("queue unavailable")),
        sendBatch: () => Promise.reject(),
      };
      object.env = { ...object.env, GENERATE_QUEUE: refusing as unknown as Queue };
    });
    const res = await call("/v1/jobs", jsonBody({ graph: "model", generator: "gen" }, tenant.apiKey));
    expect(res.status).toBe(500);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    const { items } = (await (await call("/v1/jobs", { headers: bearer(tenant.apiKey) })).json()) as {
      items: { id: string; status: string; error: string | null }[];
    };
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ status: "failed", error: "The job could not be queued." });
    const { events } = await stubOf(tenant).readEvents({ limit: 100 });
    expect(events.filter((event) => event.type.startsWith("job.")).map((event) => event.type)).toEqual([
      "job.started",
      "job.failed",
    ]);
    const { quotas } = await stubOf(tenant).getUsage();
    expect(quotas.find((quota) => quota.counter === "generations")?.used ?? 0).toBe(0);
  });

  it("a plan failing on every delivery is dead-lettered: the job fails and its generation is given back", async () => {
    const job = await DrivenJob.start(await tenantWithModel());
    const [plan] = job.queue.take();
    // The platform database unreachable for this job's plan: its tenant cannot even be read.
    const injector = new FaultInjector([
      { store: "d1", method: "first", sql: /from "tenants"/, nth: 1, times: Number.POSITIVE_INFINITY },
      { store: "d1", method: "all", sql: /from "tenants"/, nth: 1, times: Number.POSITIVE_INFINITY },
      { store: "d1", method: "raw", sql: /from "tenants"/, nth: 1, times: Number.POSITIVE_INFINITY },
      { store: "d1", method: "batch", sql: /from "tenants"/, nth: 1, times: Number.POSITIVE_INFINITY },
    ]);
    const faulty = injector.wrap(job.env);
    for (let attempts = 1; attempts <= MAX_DELIVERIES; attempts++) {
      expect(await job.deliver(plan as GenerateMessage, attempts, faulty)).toBe("retried");
    }
    expect(injector.injected).toHaveLength(MAX_DELIVERIES);
    expect(job.queue.sent).toEqual([]);
    const dlq = createMessageBatch<GenerateMessage>("kgen-generate-dlq", [
      { id: "d1", timestamp: new Date(), attempts: MAX_DELIVERIES, body: plan as GenerateMessage },
    ]);
    await consumeGenerateDeadLetters(dlq, job.env);
    await consumeGenerateDeadLetters(dlq, job.env);
    const outcome = await outcomeOf(job);
    expect(outcome.status).toBe("failed");
    expect(outcome.error).toMatch(/^dead-lettered after retries: /);
    expect(outcome.events).toEqual({ "job.started": 1, "job.failed": 1 });
    expect(outcome.artifacts).toEqual([]);
    expect(outcome.quotas).toEqual({ artifactBytes: 0, generations: 0 });
  }, 60_000);
});
