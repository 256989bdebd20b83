import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { runScheduledMaintenance } from "../../../workers/scheduled";
import { bearer, call, createTenant, jsonBody, type TestTenant } from "../helpers";
import { type JobView, runJob, settledJob } from "../job-helpers";
import { installReceivers } from "../webhooks/receiver";

const receivers = installReceivers();

const LABEL = "http://www.w3.org/2000/01/rdf-schema#label";
const modelOf = (names: string[]) => names.map((name) => `<http://e/${name}> <${LABEL}> "${name}" .`).join("\n");
const TEMPLATE = `---
to: "out/{{ r.l }}.txt"
sparql: "SELECT ?l WHERE { ?s <${LABEL}> ?l } ORDER BY ?l"
foreach: r
---
entity {{ r.l }}
`;

interface Run {
  id: string;
  status: string;
  trigger: string;
  counts: Record<string, number> | null;
  reportId: string | null;
  jobId: string | null;
  regeneratedJobId: string | null;
  error: string | null;
}

async function putGraph(tenant: TestTenant, names: string[]) {
  const res = await call("/v1/graphs/model", {
    method: "PUT",
    headers: { ...bearer(tenant.apiKey), "content-type": "application/n-triples" },
    body: modelOf(names),
  });
  expect(res.status).toBeLessThan(300);
}

async function tenantWithJob(): Promise<{ tenant: TestTenant; job: JobView }> {
  const tenant = await createTenant({ plan: "standard" });
  await putGraph(tenant, ["a", "b"]);
  const template = await call("/v1/templates/site/entity.njk", {
    method: "PUT",
    headers: { ...bearer(tenant.apiKey), "content-type": "text/plain" },
    body: TEMPLATE,
  });
  expect(template.status).toBeLessThan(300);
  const job = await runJob(tenant.apiKey, { generator: "site", graph: "model" });
  expect(job.status).toBe("completed");
  return { tenant, job };
}

const get = async <T>(tenant: TestTenant, path: string): Promise<T> => {
  const res = await call(path, { headers: bearer(tenant.apiKey) });
  expect(res.status, path).toBe(200);
  return (await res.json()) as T;
};

const runsOf = async (tenant: TestTenant, monitorId: string) =>
  (await get<{ items: Run[] }>(tenant, `/v1/monitors/${monitorId}/runs`)).items;

const eventTypes = async (tenant: TestTenant) =>
  (await get<{ events: { type: string }[] }>(tenant, "/v1/events?types=drift.*,impact.*,monitor.failed")).events.map(
    (event) => event.type.replace("dev.kgen.", ""),
  );

async function createMonitor(
  tenant: TestTenant,
  body: Record<string, unknown>,
): Promise<{ id: string; nextRunAt: string }> {
  const res = await call("/v1/monitors", jsonBody(body, tenant.apiKey));
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as { id: string; nextRunAt: string };
}

describe("monitor runs", () => {
  it("a new graph version runs the impact on the queue and regenerates only what it affects", {
    timeout: 60_000,
  }, async () => {
    const { tenant, job } = await tenantWithJob();
    const monitor = await createMonitor(tenant, {
      name: "model",
      target: { job: job.id },
      source: { kind: "graph" },
      onDrift: "regenerate",
    });
    // Version 2 adds an entity: one file added, the others unchanged.
    await putGraph(tenant, ["a", "b", "c"]);
    await expect
      .poll(async () => (await runsOf(tenant, monitor.id))[0], { timeout: 30_000, interval: 200 })
      .toMatchObject({ status: "drift", trigger: "graph:model@2", jobId: job.id });
    const [finished] = await runsOf(tenant, monitor.id);
    expect(finished?.counts).toMatchObject({ added: 1, unchanged: 2, changed: 0, removed: 0 });
    const regenerated = (await settledJob(tenant.apiKey, finished?.regeneratedJobId as string, 30_000)) as JobView & {
      counts: { carried: number };
    };
    expect(regenerated.status).toBe("completed");
    expect(regenerated.counts).toMatchObject({ artifacts: 3, carried: 2 });
    expect(await eventTypes(tenant)).toEqual(["impact.computed", "drift.detected"]);
  });

  it("a scheduled manifest run stores a drift report, and the first clean run after a drift resolves it", {
    timeout: 60_000,
  }, async () => {
    const { tenant, job } = await tenantWithJob();
    const artifacts = (
      await get<{ items: { path: string; sha256: string }[] }>(tenant, `/v1/jobs/${job.id}/artifacts`)
    ).items.map(({ path, sha256 }) => ({ path, sha256 }));
    let files = [
      { ...(artifacts[0] as { path: string; sha256: string }), sha256: "0".repeat(64) },
      ...artifacts.slice(1),
    ];
    const manifest = receivers.add(() => Response.json({ files }));
    const monitor = await createMonitor(tenant, {
      name: "ci",
      target: { graph: "model", generator: "site" },
      source: { kind: "manifest", url: manifest.url },
      schedule: "*/15 * * * *",
    });
    // Due a minute ago: the run's day is today or, just after midnight, yesterday (the trend spans both).
    const runDue = async (agoMs: number) => {
      await env.DB.prepare("UPDATE monitors SET next_run_at = ? WHERE id = ?")
        .bind(new Date(Date.now() - agoMs).toISOString(), monitor.id)
        .run();
      await runScheduledMaintenance(env, Date.now());
    };
    await runDue(60_000);
    await expect
      .poll(async () => (await runsOf(tenant, monitor.id))[0]?.status, { timeout: 30_000, interval: 200 })
      .toBe("drift");
    const [drifted] = await runsOf(tenant, monitor.id);
    expect(drifted).toMatchObject({ jobId: job.id, counts: { expected: 2, matched: 1, modified: 1 } });
    const report = await get<{ status: string; modified: { path: string }[] }>(
      tenant,
      `/v1/drift/${drifted?.reportId}`,
    );
    expect(report.status).toBe("drift");
    expect(report.modified.map((file) => file.path)).toEqual([artifacts[0]?.path]);

    files = artifacts;
    await runDue(30_000);
    await expect
      .poll(async () => (await runsOf(tenant, monitor.id)).map((run) => run.status), { timeout: 30_000, interval: 200 })
      .toEqual(["clean", "drift"]);
    expect(await eventTypes(tenant)).toEqual(["drift.detected", "drift.resolved"]);
    const trend = await get<{ items: { clean: number; drift: number; failed: number }[] }>(
      tenant,
      `/v1/monitors/${monitor.id}/trend?days=2`,
    );
    const totals = trend.items.reduce(
      (sum, day) => ({ clean: sum.clean + day.clean, drift: sum.drift + day.drift, failed: sum.failed + day.failed }),
      { clean: 0, drift: 0, failed: 0 },
    );
    expect(totals).toEqual({ clean: 1, drift: 1, failed: 0 });
  });
});
