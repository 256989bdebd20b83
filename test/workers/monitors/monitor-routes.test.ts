import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { monitorRunId, scheduleTrigger } from "../../../workers/monitors/monitor-run-message";
import { handleQueue } from "../../../workers/queue";
import { runScheduledMaintenance } from "../../../workers/scheduled";
import { bearer, call, createKey, createTenant, expectProblem, jsonBody, type TestTenant } from "../helpers";
import { runJob } from "../job-helpers";
import { installReceivers } from "../webhooks/receiver";

const receivers = installReceivers();

const MODEL = `<http://e/a> <http://www.w3.org/2000/01/rdf-schema#label> "a" .`;
const TEMPLATE = `---
to: "out/labels.txt"
sparql: "SELECT ?l WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?l } ORDER BY ?l"
---
{% for r in rows %}{{ r.l }}
{% endfor %}`;

interface Monitor {
  id: string;
  name: string;
  source: { kind: string; url?: string; headerNames?: string[] };
  schedule: string | null;
  enabled: boolean;
  nextRunAt: string | null;
}
interface Run {
  id: string;
  status: string;
  trigger: string;
  error: string | null;
  jobId: string | null;
}

async function tenantWithJob(plan = "standard"): Promise<{ tenant: TestTenant; jobId: string }> {
  const tenant = await createTenant({ plan });
  const graph = await call("/v1/graphs/model", {
    method: "PUT",
    headers: { ...bearer(tenant.apiKey), "content-type": "application/n-triples" },
    body: MODEL,
  });
  expect(graph.status).toBe(201);
  const template = await call("/v1/templates/site/labels.njk", {
    method: "PUT",
    headers: { ...bearer(tenant.apiKey), "content-type": "text/plain" },
    body: TEMPLATE,
  });
  expect(template.status).toBeLessThan(300);
  const job = await runJob(tenant.apiKey, { generator: "site", graph: "model" });
  expect(job.status).toBe("completed");
  return { tenant, jobId: job.id };
}

async function createMonitor(tenant: TestTenant, body: Record<string, unknown>): Promise<Monitor> {
  const res = await call("/v1/monitors", jsonBody(body, tenant.apiKey));
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as Monitor;
}

const get = async <T>(tenant: TestTenant, path: string): Promise<T> => {
  const res = await call(path, { headers: bearer(tenant.apiKey) });
  expect(res.status, `${path}: ${await res.clone().text()}`).toBe(200);
  return (await res.json()) as T;
};

const events = async (tenant: TestTenant, types: string) =>
  (await get<{ events: { type: string; data: Record<string, unknown> }[] }>(tenant, `/v1/events?types=${types}`))
    .events;

describe("monitors API", () => {
  it("creates, reads, lists, changes and deletes a monitor, with its events", async () => {
    const { tenant, jobId } = await tenantWithJob();
    const monitor = await createMonitor(tenant, { name: "labels", target: { job: jobId }, source: { kind: "graph" } });
    expect(monitor).toMatchObject({
      name: "labels",
      source: { kind: "graph" },
      schedule: null,
      enabled: true,
      nextRunAt: null,
    });
    expect(await get<Monitor>(tenant, `/v1/monitors/${monitor.id}`)).toEqual(monitor);
    const list = await get<{ items: Monitor[] }>(tenant, "/v1/monitors");
    expect(list.items.map((item) => item.id)).toEqual([monitor.id]);

    const patched = await call(
      `/v1/monitors/${monitor.id}`,
      jsonBody({ name: "renamed", enabled: false }, tenant.apiKey, "PATCH"),
    );
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ name: "renamed", enabled: false });

    const deleted = await call(`/v1/monitors/${monitor.id}`, { method: "DELETE", headers: bearer(tenant.apiKey) });
    expect(deleted.status).toBe(204);
    await expectProblem(await call(`/v1/monitors/${monitor.id}`, { headers: bearer(tenant.apiKey) }), 404, "not-found");
    const types = (await events(tenant, "monitor.*")).map((event) => event.type);
    expect(types).toEqual(["dev.kgen.monitor.created", "dev.kgen.monitor.deleted"]);
  });

  it("schedules manifest monitors and never shows their header values", async () => {
    const { tenant, jobId } = await tenantWithJob();
    const receiver = receivers.add(() => Response.json({ files: [] }));
    const before = Date.now();
    const monitor = await createMonitor(tenant, {
      name: "ci manifest",
      target: { job: jobId },
      source: { kind: "manifest", url: receiver.url, headers: { Authorization: "Bearer s3cret-token" } },
      schedule: "0 * * * *",
    });
    expect(monitor.source).toEqual({ kind: "manifest", url: receiver.url, headerNames: ["Authorization"] });
    expect(monitor.schedule).toBe("0 * * * *");
    const next = Date.parse(monitor.nextRunAt as string);
    expect(next).toBeGreaterThan(before);
    expect(next - before).toBeLessThanOrEqual(3_600_000);
    expect(new Date(next).getUTCMinutes()).toBe(0);
    const shown = JSON.stringify([
      monitor,
      await get(tenant, `/v1/monitors/${monitor.id}`),
      await get(tenant, "/v1/monitors"),
    ]);
    expect(shown).not.toContain("s3cret-token");

    const paused = await call(`/v1/monitors/${monitor.id}`, jsonBody({ enabled: false }, tenant.apiKey, "PATCH"));
    expect(((await paused.json()) as Monitor).nextRunAt).toBeNull();
    const resumed = await call(
      `/v1/monitors/${monitor.id}`,
      jsonBody({ enabled: true, schedule: "30 */2 * * *" }, tenant.apiKey, "PATCH"),
    );
    const again = (await resumed.json()) as Monitor;
    expect(again.schedule).toBe("30 */2 * * *");
    expect(new Date(again.nextRunAt as string).getUTCMinutes()).toBe(30);
  });

  it("refuses what cannot work, storing nothing", async () => {
    const { tenant, jobId } = await tenantWithJob("free");
    const target = { job: jobId };
    const manifest = { kind: "manifest", url: "https://ci.example.com/manifest.json" };
    const cases: [Record<string, unknown>, number, string][] = [
      [{ name: "m", target, source: manifest }, 422, "invalid-monitor"],
      [{ name: "m", target, source: { kind: "graph" }, schedule: "0 * * * *" }, 422, "invalid-monitor"],
      [{ name: "m", target, source: manifest, schedule: "0 * * * *", onDrift: "regenerate" }, 422, "invalid-monitor"],
      [{ name: "m", target, source: manifest, schedule: "not a cron" }, 422, "invalid-schedule"],
      [{ name: "m", target, source: manifest, schedule: "*/5 * * * * *" }, 422, "invalid-schedule"],
      // The free plan runs a monitor at most hourly.
      [{ name: "m", target, source: manifest, schedule: "*/15 * * * *" }, 422, "invalid-schedule"],
      [{ name: "m", target, source: manifest, schedule: "0,1 * * * *" }, 422, "invalid-schedule"],
      [
        { name: "m", target, source: { ...manifest, url: "https://10.0.0.7/m.json" }, schedule: "0 * * * *" },
        422,
        "unsafe-destination",
      ],
      [
        { name: "m", target, source: { ...manifest, url: "ftp://ci.example.com/m" }, schedule: "0 * * * *" },
        422,
        "unsafe-destination",
      ],
      [{ name: "m", target: { job: "job_doesnotexist" }, source: { kind: "graph" } }, 404, "not-found"],
      [{ name: "m", target, source: { kind: "graph" }, onDrift: "sometimes" }, 400, "validation-error"],
      [
        { name: "m", target, source: { ...manifest, headers: { Host: "x" } }, schedule: "0 * * * *" },
        400,
        "validation-error",
      ],
    ];
    for (const [body, status, type] of cases) {
      await expectProblem(await call("/v1/monitors", jsonBody(body, tenant.apiKey)), status, type);
    }
    expect((await get<{ items: unknown[] }>(tenant, "/v1/monitors")).items).toEqual([]);
  });

  it("enforces unique names and the plan's monitor count", async () => {
    const { tenant, jobId } = await tenantWithJob("free");
    for (const name of ["one", "two", "three"]) {
      await createMonitor(tenant, { name, target: { job: jobId }, source: { kind: "graph" } });
    }
    const body = (name: string) => jsonBody({ name, target: { job: jobId }, source: { kind: "graph" } }, tenant.apiKey);
    await expectProblem(await call("/v1/monitors", body("one")), 409, "conflict");
    const over = await call("/v1/monitors", body("four"));
    await expectProblem(over.clone(), 403, "quota-exceeded");
    expect(await over.json()).toMatchObject({ counter: "monitors", limit: 3, used: 3 });
  });

  it("lets viewers read and only editors change monitors", async () => {
    const { tenant, jobId } = await tenantWithJob();
    const viewer = (await createKey(tenant, "viewer")).secret;
    const monitor = await createMonitor(tenant, { name: "m", target: { job: jobId }, source: { kind: "graph" } });
    expect((await call(`/v1/monitors/${monitor.id}`, { headers: bearer(viewer) })).status).toBe(200);
    await expectProblem(
      await call("/v1/monitors", jsonBody({ name: "n", target: { job: jobId }, source: { kind: "graph" } }, viewer)),
      403,
      "insufficient-role",
    );
    await expectProblem(
      await call(`/v1/monitors/${monitor.id}`, { method: "DELETE", headers: bearer(viewer) }),
      403,
      "insufficient-role",
    );
  });

  it("answers 404 for another tenant's monitors and jobs", async () => {
    const { tenant, jobId } = await tenantWithJob();
    const other = await createTenant({ plan: "standard" });
    const monitor = await createMonitor(tenant, { name: "m", target: { job: jobId }, source: { kind: "graph" } });
    for (const [path, init] of [
      [`/v1/monitors/${monitor.id}`, { headers: bearer(other.apiKey) }],
      [`/v1/monitors/${monitor.id}/runs`, { headers: bearer(other.apiKey) }],
      [`/v1/monitors/${monitor.id}/trend`, { headers: bearer(other.apiKey) }],
      [`/v1/monitors/${monitor.id}`, jsonBody({ enabled: false }, other.apiKey, "PATCH")],
      [`/v1/monitors/${monitor.id}`, { method: "DELETE", headers: bearer(other.apiKey) }],
      ["/v1/monitors", jsonBody({ name: "m", target: { job: jobId }, source: { kind: "graph" } }, other.apiKey)],
    ] as const) {
      await expectProblem(await call(path, init), 404, "not-found");
    }
    expect(await get<Monitor>(tenant, `/v1/monitors/${monitor.id}`)).toMatchObject({ enabled: true });
  });
});

describe("scheduled monitor runs", () => {
  async function scheduledManifestMonitor(url: string) {
    const { tenant, jobId } = await tenantWithJob();
    const monitor = await createMonitor(tenant, {
      name: "manifest",
      target: { job: jobId },
      source: { kind: "manifest", url },
      schedule: "*/15 * * * *",
    });
    return { tenant, jobId, monitor };
  }

  it("the cron queues due monitors once and moves their next run past its time", { timeout: 30_000 }, async () => {
    const refusing = receivers.add(() => new Response("nope", { status: 503 }));
    const { tenant, monitor } = await scheduledManifestMonitor(refusing.url);
    const due = Date.parse(monitor.nextRunAt as string);
    const first = await runScheduledMaintenance(env, due + 60_000);
    expect(first.monitorRuns.enqueued).toBeGreaterThanOrEqual(1);
    const moved = await get<Monitor>(tenant, `/v1/monitors/${monitor.id}`);
    expect(Date.parse(moved.nextRunAt as string)).toBe(due + 15 * 60_000);
    const runId = await monitorRunId(monitor.id, scheduleTrigger(new Date(due)));
    await expect
      .poll(
        async () =>
          (await get<{ items: Run[] }>(tenant, `/v1/monitors/${monitor.id}/runs`)).items.find((r) => r.id === runId),
        { timeout: 20_000, interval: 100 },
      )
      .toMatchObject({ status: "failed", trigger: `schedule:${new Date(due).toISOString()}` });
    const [runOnce] = (await get<{ items: Run[] }>(tenant, `/v1/monitors/${monitor.id}/runs`)).items;
    expect(runOnce?.error).toContain("answered 503");
    const failed = await events(tenant, "monitor.failed");
    expect(failed.map((event) => event.data.runId)).toEqual([runId]);
    // The same minute again finds nothing due for this monitor.
    await runScheduledMaintenance(env, due + 60_000);
    expect((await get<{ items: Run[] }>(tenant, `/v1/monitors/${monitor.id}/runs`)).items).toHaveLength(1);
  });

  it("a redelivered run message runs once, and the dead-letter queue ends a run failed", async () => {
    const broken = receivers.add(() => new Response("{", { headers: { "content-type": "application/json" } }));
    const { tenant, monitor } = await scheduledManifestMonitor(broken.url);
    const scheduledFor = Math.floor(Date.now() / 3_600_000) * 3_600_000;
    const trigger = scheduleTrigger(new Date(scheduledFor));
    const body = {
      kind: "monitor-run",
      tenantId: tenant.id,
      monitorId: monitor.id,
      runId: await monitorRunId(monitor.id, trigger),
      trigger,
      scheduledFor,
    };
    for (let attempt = 0; attempt < 2; attempt++) {
      const ctx = createExecutionContext();
      const batch = createMessageBatch("kgen-drift", [{ id: `m${attempt}`, timestamp: new Date(), attempts: 1, body }]);
      await handleQueue(batch, env);
      const result = await getQueueResult(batch, ctx);
      expect(result.explicitAcks).toEqual([`m${attempt}`]);
    }
    const runs = (await get<{ items: Run[] }>(tenant, `/v1/monitors/${monitor.id}/runs`)).items;
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ id: body.runId, status: "failed" });
    expect(runs[0]?.error).toContain("not UTF-8 JSON");

    const lostTrigger = scheduleTrigger(new Date(scheduledFor - 3_600_000));
    const lost = { ...body, trigger: lostTrigger, runId: await monitorRunId(monitor.id, lostTrigger) };
    const ctx = createExecutionContext();
    const dlq = createMessageBatch("kgen-drift-dlq", [{ id: "d", timestamp: new Date(), attempts: 6, body: lost }]);
    await handleQueue(dlq, env);
    expect((await getQueueResult(dlq, ctx)).explicitAcks).toEqual(["d"]);
    const after = (await get<{ items: Run[] }>(tenant, `/v1/monitors/${monitor.id}/runs`)).items;
    expect(after.find((run) => run.id === lost.runId)).toMatchObject({
      status: "failed",
      error: "dead-lettered after 6 attempts",
    });
  });

  it("pages runs newest first and counts them per day in the trend", async () => {
    const broken = receivers.add(() => new Response("[]"));
    const { tenant, monitor } = await scheduledManifestMonitor(broken.url);
    const day = Date.parse(new Date().toISOString().slice(0, 10));
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const trigger = scheduleTrigger(new Date(day + i * 900_000));
      const runId = await monitorRunId(monitor.id, trigger);
      ids.push(runId);
      const batch = createMessageBatch("kgen-drift", [
        {
          id: runId,
          timestamp: new Date(),
          attempts: 1,
          body: {
            kind: "monitor-run",
            tenantId: tenant.id,
            monitorId: monitor.id,
            runId,
            trigger,
            scheduledFor: day + i * 900_000,
          },
        },
      ]);
      await handleQueue(batch, env);
      expect((await getQueueResult(batch, createExecutionContext())).explicitAcks).toEqual([runId]);
    }
    const first = await get<{ items: Run[]; nextCursor: string }>(tenant, `/v1/monitors/${monitor.id}/runs?limit=2`);
    expect(first.items.map((run) => run.id)).toEqual([ids[2], ids[1]]);
    const second = await get<{ items: Run[]; nextCursor: string | null }>(
      tenant,
      `/v1/monitors/${monitor.id}/runs?limit=2&cursor=${first.nextCursor}`,
    );
    expect(second.items.map((run) => run.id)).toEqual([ids[0]]);
    expect(second.nextCursor).toBeNull();
    await expectProblem(
      await call(`/v1/monitors/${monitor.id}/runs?cursor=bad`, { headers: bearer(tenant.apiKey) }),
      400,
      "validation-error",
    );

    const trend = await get<{ days: number; items: { day: string; clean: number; drift: number; failed: number }[] }>(
      tenant,
      `/v1/monitors/${monitor.id}/trend?days=7`,
    );
    expect(trend.items).toHaveLength(7);
    expect(trend.items.at(-1)).toEqual({
      day: new Date(day).toISOString().slice(0, 10),
      clean: 0,
      drift: 0,
      failed: 3,
    });
    expect(trend.items.slice(0, 6).every((entry) => entry.failed === 0)).toBe(true);
    await expectProblem(
      await call(`/v1/monitors/${monitor.id}/trend?days=400`, { headers: bearer(tenant.apiKey) }),
      400,
      "validation-error",
    );
  });
});
