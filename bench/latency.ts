// `npm run bench -- latency [units] [--samples N]`: what a large job costs the rest of its tenant, through
// `wrangler dev` (local Queues, Durable Object, D1, R2). Measures, in one run:
// - generationPostMs: how long `POST /v1/jobs` takes to answer for a one-template `foreach` job of `units` units;
// - meIdleP99Ms / meDuringJobP99Ms: p99 of the same tenant's `GET /v1/me` with nothing running, and while
//   that job is planned and rendered;
// - healthIdleP99Ms / healthDuringJobP99Ms: the same for `GET /v1/health`, a bare Hono route (no credential,
//   no Durable Object): the peer that shows what the machine itself adds while the job runs.
// Ends with {"bench":"latency","generationPostMs":…,"meIdleP99Ms":…,"meDuringJobP99Ms":…,…}.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { ENTITY_FRONTMATTER, entityGraph, entityTenant } from "./entity-corpus";
import { callApi, startDevServer } from "./wrangler-dev";

const PORT = 8798;
const TEMPLATE = `${ENTITY_FRONTMATTER}// {{ e.iri }} ({{ label(e.iri) }})
export interface {{ e.name | pascalCase }} {
{% for i in range(e.size | int % 7 + 1) %}  field{{ i }}: {{ "string" if i is even else "number" }};
{% endfor %}}
`;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] as number;
}

const round = (value: number) => Number(value.toFixed(1));

async function timed(url: string, path: string, token?: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${url}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  await res.arrayBuffer();
  const ms = performance.now() - started;
  if (!res.ok) throw new Error(`GET ${path}: ${res.status}`);
  return ms;
}

/** Alternating `GET /v1/me` and `GET /v1/health`, one at a time, until `samples` of each or `until` says stop. */
async function sample(
  url: string,
  apiKey: string,
  samples: number,
  until: () => boolean = () => false,
): Promise<{ me: number[]; health: number[] }> {
  const me: number[] = [];
  const health: number[] = [];
  while (me.length < samples && !until()) {
    me.push(await timed(url, "/v1/me", apiKey));
    health.push(await timed(url, "/v1/health"));
    // Paced: a steady reader, well under the plan's request rate.
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return { me, health };
}

/** `POST /v1/jobs` of the bench generator over `graph`, timed; it must answer 202. */
async function postJob(url: string, apiKey: string, graph: string): Promise<{ job: { id: string }; ms: number }> {
  const started = performance.now();
  const res = await fetch(`${url}/v1/jobs`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ graph, generator: "bench" }),
  });
  const job = (await res.json()) as { id: string; detail?: string };
  const ms = performance.now() - started;
  if (res.status !== 202) throw new Error(`POST /v1/jobs: ${res.status} ${job.detail ?? ""}`);
  return { job, ms };
}

async function settled(url: string, apiKey: string, id: string) {
  for (;;) {
    const current = await callApi(url, "GET", `/v1/jobs/${id}`, apiKey);
    if (current.status === "completed" || current.status === "failed") return current;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export default async function bench(args: string[]): Promise<void> {
  const samplesAt = args.indexOf("--samples");
  const samples = samplesAt >= 0 ? Number(args[samplesAt + 1]) : 200;
  const units = Number(args.find((arg, index) => !arg.startsWith("--") && index !== samplesAt + 1) ?? 10_000);
  const stateDir = mkdtempSync(join(tmpdir(), "kgen-bench-latency-"));
  const server = await startDevServer(stateDir, PORT);
  const api = (method: string, path: string, token: string, body?: string, contentType?: string) =>
    callApi(server.url, method, path, token, body, contentType);
  try {
    const apiKey = await entityTenant(
      server.url,
      { slug: `latency-${Date.now()}`, name: "Latency", plan: "enterprise" },
      units,
      TEMPLATE,
    );
    await api("PUT", "/v1/graphs/tiny", apiKey, entityGraph(1), "text/turtle");
    // Warm up the routes measured (isolate, tenant object, code paths run once) before anything is measured:
    // both GETs, and a one-unit job run to its end.
    await sample(server.url, apiKey, 20);
    const small = await postJob(server.url, apiKey, "tiny");
    await settled(server.url, apiKey, small.job.id);
    const idle = await sample(server.url, apiKey, samples);

    const postStarted = performance.now();
    const { job, ms: generationPostMs } = await postJob(server.url, apiKey, "model");

    let finished: { status: string; counts: { artifacts: number }; error: string | null } | undefined;
    const watcher = settled(server.url, apiKey, job.id).then((current) => {
      finished = current;
    });
    const during = await sample(server.url, apiKey, Number.POSITIVE_INFINITY, () => finished !== undefined);
    await watcher;
    const jobSeconds = (performance.now() - postStarted) / 1000;
    if (finished?.status !== "completed") throw new Error(`job ${finished?.status}: ${finished?.error}`);
    if (finished.counts.artifacts !== units) throw new Error(`job wrote ${finished.counts.artifacts} artifacts`);

    const result = {
      bench: "latency",
      units,
      generationPostMs: round(generationPostMs),
      generationPostSmallMs: round(small.ms),
      meIdleP50Ms: round(percentile(idle.me, 50)),
      meIdleP99Ms: round(percentile(idle.me, 99)),
      meDuringJobP50Ms: round(percentile(during.me, 50)),
      meDuringJobP99Ms: round(percentile(during.me, 99)),
      meDuringJobMaxMs: round(Math.max(...during.me)),
      healthIdleP99Ms: round(percentile(idle.health, 99)),
      healthDuringJobP99Ms: round(percentile(during.health, 99)),
      samplesIdle: idle.me.length,
      samplesDuringJob: during.me.length,
      jobSeconds: round(jobSeconds),
      meDuringOverIdleP99: round(percentile(during.me, 99) / percentile(idle.me, 99)),
      healthDuringOverIdleP99: round(percentile(during.health, 99) / percentile(idle.health, 99)),
    };
    console.log(`units: ${units}; job ran ${result.jobSeconds} s`);
    console.log(`POST /v1/jobs answered in ${result.generationPostMs} ms`);
    console.log(
      `GET /v1/me p99: idle ${result.meIdleP99Ms} ms, during the job ${result.meDuringJobP99Ms} ms (${result.samplesDuringJob} samples, max ${result.meDuringJobMaxMs} ms)`,
    );
    console.log(
      `GET /v1/health (bare route) p99: idle ${result.healthIdleP99Ms} ms, during the job ${result.healthDuringJobP99Ms} ms`,
    );
    console.log(JSON.stringify(result));
  } finally {
    server.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}
