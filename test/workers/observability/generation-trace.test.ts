import { afterEach, describe, expect, it, vi } from "vitest";
import { ADMIN_TOKEN, bearer, call, createTenant, jsonBody, type TestTenant } from "../helpers";
import { settledJob } from "../job-helpers";
import { installReceivers } from "../webhooks/receiver";
import { parseExposition, sampleValue } from "./prometheus-format";

const receivers = installReceivers();

const PREFIXES = "PREFIX ex: <http://example.org/> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>";
/** More entities than the free plan renders in its plan message (50): the job is split into unit batches. */
const ENTITIES = 60;
const MODEL = Array.from(
  { length: ENTITIES },
  (_, i) =>
    `<http://example.org/e${i}> a <http://example.org/Entity> ; <http://www.w3.org/2000/01/rdf-schema#label> "entity ${i}" .`,
).join("\n");
const TEMPLATE = `---
to: "out/{{ entity.name | kebabCase }}.txt"
sparql: "${PREFIXES} SELECT ?name WHERE { ?e a ex:Entity ; rdfs:label ?name } ORDER BY ?name"
foreach: entity
---
{{ entity.name }}
`;

const TRACE_ID = "0af7651916cd43dd8448eb211c80319c";
const TRACEPARENT = `00-${TRACE_ID}-b7ad6b7169203331-01`;

type LogLine = Record<string, unknown>;

const logSpies: { mockRestore(): void }[] = [];

function captureLogs(): { lines: () => LogLine[] } {
  const spy = vi.spyOn(console, "log");
  logSpies.push(spy);
  return {
    lines: () =>
      spy.mock.calls.flatMap(([first]) => {
        try {
          return typeof first === "string" ? [JSON.parse(first) as LogLine] : [];
        } catch {
          return [];
        }
      }),
  };
}

async function setup(): Promise<TestTenant> {
  const tenant = await createTenant();
  const graph = await call("/v1/graphs/model", {
    method: "PUT",
    headers: { ...bearer(tenant.apiKey), "content-type": "text/turtle" },
    body: MODEL,
  });
  expect(graph.status).toBe(201);
  const template = await call("/v1/templates/txt/entity.txt.njk", {
    method: "PUT",
    headers: { ...bearer(tenant.apiKey), "content-type": "text/plain" },
    body: TEMPLATE,
  });
  expect(template.status, await template.clone().text()).toBeLessThan(300);
  return tenant;
}

async function scrape() {
  const res = await call("/v1/admin/metrics", { headers: bearer(ADMIN_TOKEN) });
  expect(res.status).toBe(200);
  return parseExposition(await res.text());
}

afterEach(() => {
  for (const spy of logSpies.splice(0)) spy.mockRestore();
});

describe("one generation, one trace", () => {
  it("carries the request's trace id through the plan and unit-batch messages to the job's completion", async () => {
    const tenant = await setup();
    const before = await scrape();
    const logs = captureLogs();
    const res = await call("/v1/jobs", {
      ...jsonBody({ graph: "model", generator: "txt", params: {} }, tenant.apiKey),
      headers: { ...bearer(tenant.apiKey), "content-type": "application/json", traceparent: TRACEPARENT },
    });
    expect(res.status).toBe(202);
    expect(res.headers.get("traceparent")).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
    const { id: jobId } = (await res.json()) as { id: string };
    const job = await settledJob(tenant.apiKey, jobId);
    expect(job.status).toBe("completed");
    expect(job.counts.artifacts).toBe(ENTITIES);

    const lines = logs.lines();
    const request = lines.find((line) => line.msg === "request" && line.route === "/v1/jobs" && line.method === "POST");
    expect(request?.traceId).toBe(TRACE_ID);
    const messages = await vi.waitFor(() => {
      const found = logs.lines().filter((line) => line.msg === "queue message" && line.jobId === jobId);
      // The plan message and two unit batches (50 + 10 units), each acked once.
      expect(found.map((line) => line.kind ?? "batch").sort()).toEqual(["batch", "batch", "plan"]);
      return found;
    });
    for (const message of messages) {
      expect(message.traceId).toBe(TRACE_ID);
      expect(message.outcome).toBe("acked");
      expect(message.queue).toBe("kgen-generate");
    }
    const completed = lines.filter((line) => line.msg === "job completed" && line.jobId === jobId);
    expect(completed).toHaveLength(1);
    expect(completed[0]?.traceId).toBe(TRACE_ID);
    expect(completed[0]?.artifacts).toBe(ENTITIES);

    // The same work in the operator metrics: one completed job, three messages sent and acked.
    const after = await vi.waitFor(async () => {
      const exposition = await scrape();
      expect(
        sampleValue(exposition, "kgen_jobs_total", { state: "completed" }) -
          sampleValue(before, "kgen_jobs_total", { state: "completed" }),
      ).toBe(1);
      return exposition;
    });
    const delta = (name: string, labels: Record<string, string>) =>
      sampleValue(after, name, labels) - sampleValue(before, name, labels);
    expect(delta("kgen_queue_messages_sent_total", { queue: "generate" })).toBe(3);
    expect(delta("kgen_queue_messages_total", { queue: "generate", outcome: "acked" })).toBe(3);
    expect(delta("kgen_job_duration_seconds_count", {})).toBe(1);
    expect(sampleValue(after, "kgen_queue_depth", { queue: "generate" })).toBeGreaterThanOrEqual(0);
  });

  it("sends the trace to a webhook receiver as a traceparent header", async () => {
    const tenant = await createTenant();
    const receiver = receivers.add();
    const created = await call(
      "/v1/webhooks",
      jsonBody({ url: receiver.url, events: ["dev.kgen.job.completed"] }, tenant.apiKey),
    );
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const before = await scrape();
    const logs = captureLogs();
    const res = await call(`/v1/webhooks/${id}/test`, {
      method: "POST",
      headers: { ...bearer(tenant.apiKey), traceparent: TRACEPARENT },
    });
    expect(res.status).toBe(202);
    const [received] = await vi.waitFor(
      () => {
        const requests = receivers.received(receiver.name);
        expect(requests).toHaveLength(1);
        return requests;
      },
      { timeout: 10_000, interval: 50 },
    );
    expect(received?.headers.traceparent).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
    expect(received?.headers.traceparent).not.toBe(TRACEPARENT);
    const attempt = await vi.waitFor(() => {
      const line = logs.lines().find((l) => l.msg === "webhook delivery attempt" && l.webhookId === id);
      expect(line).toBeDefined();
      return line as LogLine;
    });
    expect(attempt).toMatchObject({ traceId: TRACE_ID, outcome: "delivered", responseStatus: 200 });
    await vi.waitFor(async () => {
      const after = await scrape();
      const delivered = { outcome: "delivered" };
      expect(
        sampleValue(after, "kgen_webhook_deliveries_total", delivered) -
          sampleValue(before, "kgen_webhook_deliveries_total", delivered),
      ).toBe(1);
    });
  });
});
