// `npm run bench -- latency [units] [--samples N] [--rtt MS]`: the latency of the edge routes when every central
// store is a round trip away, and what a large job costs the rest of its tenant. Runs the bench build of the
// Worker (bench/round-trip-worker.ts: every call through D1, a Durable Object, R2 or a queue made `--rtt` ms
// later, default 100, and counted per request) under `wrangler dev` (local Queues, Durable Objects, D1, R2).
// Measures, in one run:
// - p50/p99 and the central calls of each edge route, its requests interleaved with those of `GET /v1/health`
//   (the bare route: no credential, no central call), whose p50 each route is compared with: `POST /v1/render`
//   with a platform token and with an API key used in the last 60 s, a pinned SPARQL query (`version` and
//   `hash`, the same query every time, so answered from the location's cache) and SPARQL on the latest version;
// - generationPostMs: how long `POST /v1/jobs` takes to answer for a one-template `foreach` job of `units` units;
// - meIdleP99Ms / meDuringJobP99Ms: p99 of the same tenant's `GET /v1/me` with nothing running, and while
//   that job is planned and rendered, and the same for `GET /v1/health` (what the machine itself adds).
// Ends with {"bench":"latency","rttMs":…,"renderJwtP50OverBareMs":…,"renderKeyWarmP50OverBareMs":…,
// "pinnedSparqlCachedP50OverBareMs":…,"latestSparqlP50OverBareMs":…,"generationPostMs":…,"meDuringJobP99Ms":…,
// "meIdleP99Ms":…,…}.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { ENTITY_FRONTMATTER, ENTITY_PREFIXES, entityGraph, entityTenant } from "./entity-corpus";
import { writeRoundTripBuild } from "./round-trip-build";
import { CENTRAL_CALLS_HEADER } from "./round-trip-header";
import { callApi, startDevServer } from "./wrangler-dev";

const PORT = 8798;
const TEMPLATE = `${ENTITY_FRONTMATTER}// {{ e.iri }} ({{ label(e.iri) }})
export interface {{ e.name | pascalCase }} {
{% for i in range(e.size | int % 7 + 1) %}  field{{ i }}: {{ "string" if i is even else "number" }};
{% endfor %}}
`;
const RENDER_BODY = JSON.stringify({ template: "Hello {{ name }}", context: { name: "edge" } });
const SPARQL_JSON = "application/sparql-results+json";
const LOOKUP_QUERY = encodeURIComponent(
  `${ENTITY_PREFIXES} SELECT ?e ?name WHERE { ?e rdfs:label ?name } ORDER BY ?name LIMIT 10`,
);

/** One request the bench times, and how to send it. */
interface Probe {
  route: string;
  method?: "GET" | "POST";
  path: string;
  token?: string;
  body?: string;
  accept?: string;
}

/** What one timed request gave: its time, and the central calls the bench build counted on its path. */
interface Sample {
  ms: number;
  calls: string;
  edgeCache: string | null;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] as number;
}

const round = (value: number) => Number(value.toFixed(1));
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function timed(url: string, probe: Probe): Promise<Sample> {
  const headers: Record<string, string> = {};
  if (probe.token) headers.authorization = `Bearer ${probe.token}`;
  if (probe.body !== undefined) headers["content-type"] = "application/json";
  if (probe.accept) headers.accept = probe.accept;
  const method = probe.method ?? "GET";
  const started = performance.now();
  const res = await fetch(`${url}${probe.path}`, { method, headers, body: probe.body });
  await res.arrayBuffer();
  const ms = performance.now() - started;
  if (!res.ok) throw new Error(`${method} ${probe.path}: ${res.status}`);
  return {
    ms,
    calls: res.headers.get(CENTRAL_CALLS_HEADER) ?? "(no header)",
    edgeCache: res.headers.get("x-kgen-edge-cache"),
  };
}

/**
 * The probes in turn, one request at a time, until `rounds` rounds or `until` says stop: interleaved, so
 * that whatever else the machine does weighs on every route alike.
 */
async function sample(
  url: string,
  probes: Probe[],
  rounds: number,
  until: () => boolean = () => false,
): Promise<Map<string, Sample[]>> {
  const samples = new Map<string, Sample[]>(probes.map((probe) => [probe.route, []]));
  for (let i = 0; i < rounds && !until(); i++) {
    for (const probe of probes) {
      samples.get(probe.route)?.push(await timed(url, probe));
      // Paced: a steady reader, well under the plan's request rate.
      await pause(25);
    }
  }
  return samples;
}

const times = (samples: Sample[] | undefined) => (samples ?? []).map((sample) => sample.ms);

/** The central-call summaries seen, most frequent first: `d1:raw=1 (200)`, or one with its share. */
function callsSeen(samples: Sample[] | undefined): string {
  const counts = new Map<string, number>();
  for (const sample of samples ?? []) counts.set(sample.calls, (counts.get(sample.calls) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([calls, count]) => `${calls} (${count})`)
    .join("; ");
}

/** `POST /v1/jobs` of the bench generator over `graph`, timed; it must answer 202. */
async function postJob(
  url: string,
  apiKey: string,
  graph: string,
): Promise<{ job: { id: string }; ms: number; calls: string }> {
  const started = performance.now();
  const res = await fetch(`${url}/v1/jobs`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ graph, generator: "bench" }),
  });
  const job = (await res.json()) as { id: string; detail?: string };
  const ms = performance.now() - started;
  if (res.status !== 202) throw new Error(`POST /v1/jobs: ${res.status} ${job.detail ?? ""}`);
  return { job, ms, calls: res.headers.get(CENTRAL_CALLS_HEADER) ?? "(no header)" };
}

async function settled(url: string, apiKey: string, id: string) {
  for (;;) {
    const current = await callApi(url, "GET", `/v1/jobs/${id}`, apiKey);
    if (current.status === "completed" || current.status === "failed") return current;
    await pause(250);
  }
}

function option(args: string[], name: string): number | undefined {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : undefined;
}

export default async function bench(args: string[]): Promise<void> {
  const samples = option(args, "--samples") ?? 200;
  const rttMs = option(args, "--rtt") ?? 100;
  const optionValues = new Set(["--samples", "--rtt"].map((name) => args.indexOf(name) + 1).filter((at) => at > 0));
  const units = Number(args.find((arg, index) => !arg.startsWith("--") && !optionValues.has(index)) ?? 10_000);
  const stateDir = mkdtempSync(join(tmpdir(), "kgen-bench-latency-"));
  const build = writeRoundTripBuild(rttMs);
  let server: Awaited<ReturnType<typeof startDevServer>> | undefined;
  try {
    server = await startDevServer(stateDir, PORT, { config: build.config });
    const url = server.url;
    const api = (method: string, path: string, token: string, body?: string, contentType?: string) =>
      callApi(url, method, path, token, body, contentType);
    const apiKey = await entityTenant(
      url,
      { slug: `latency-${Date.now()}`, name: "Latency", plan: "enterprise" },
      units,
      TEMPLATE,
    );
    await api("PUT", "/v1/graphs/tiny", apiKey, entityGraph(1), "text/turtle");
    const lookup: { version: number; hash: string } = await api(
      "PUT",
      "/v1/graphs/lookup",
      apiKey,
      entityGraph(100),
      "text/turtle",
    );
    const { accessToken } = await api("POST", "/v1/auth/token", apiKey);

    const bare: Probe = { route: "GET /v1/health", path: "/v1/health" };
    const me: Probe = { route: "GET /v1/me", path: "/v1/me", token: apiKey };
    const edge: Probe[] = [
      bare,
      {
        route: "POST /v1/render (platform token)",
        method: "POST",
        path: "/v1/render",
        token: accessToken,
        body: RENDER_BODY,
      },
      {
        route: "POST /v1/render (API key, warm)",
        method: "POST",
        path: "/v1/render",
        token: apiKey,
        body: RENDER_BODY,
      },
      {
        route: "SPARQL pinned (version, hash)",
        path: `/v1/graphs/lookup/sparql?query=${LOOKUP_QUERY}&version=${lookup.version}&hash=${encodeURIComponent(lookup.hash)}`,
        token: apiKey,
        accept: SPARQL_JSON,
      },
      {
        route: "SPARQL latest version",
        path: `/v1/graphs/lookup/sparql?query=${LOOKUP_QUERY}`,
        token: apiKey,
        accept: SPARQL_JSON,
      },
    ];

    // Warm up what is measured (isolate, tenant object, credential caches, the pinned answer in the location's
    // cache, code paths run once) before anything is measured, including a one-unit job run to its end.
    await sample(url, [...edge, me], 20);
    const small = await postJob(url, apiKey, "tiny");
    await settled(url, apiKey, small.job.id);
    const edgeSamples = await sample(url, edge, samples);
    const idle = await sample(url, [me, bare], samples);

    const postStarted = performance.now();
    const posted = await postJob(url, apiKey, "model");
    let finished: { status: string; counts: { artifacts: number }; error: string | null } | undefined;
    const watcher = settled(url, apiKey, posted.job.id).then((current) => {
      finished = current;
    });
    const during = await sample(url, [me, bare], Number.POSITIVE_INFINITY, () => finished !== undefined);
    await watcher;
    const jobSeconds = (performance.now() - postStarted) / 1000;
    if (finished?.status !== "completed") throw new Error(`job ${finished?.status}: ${finished?.error}`);
    if (finished.counts.artifacts !== units) throw new Error(`job wrote ${finished.counts.artifacts} artifacts`);

    const bareP50 = percentile(times(edgeSamples.get(bare.route)), 50);
    const overBare = (route: string) => round(percentile(times(edgeSamples.get(route)), 50) - bareP50);
    const meIdle = times(idle.get(me.route));
    const meDuring = times(during.get(me.route));
    const healthIdle = times(idle.get(bare.route));
    const healthDuring = times(during.get(bare.route));
    const result = {
      bench: "latency",
      rttMs,
      renderJwtP50OverBareMs: overBare(edge[1]?.route ?? ""),
      renderKeyWarmP50OverBareMs: overBare(edge[2]?.route ?? ""),
      pinnedSparqlCachedP50OverBareMs: overBare(edge[3]?.route ?? ""),
      latestSparqlP50OverBareMs: overBare(edge[4]?.route ?? ""),
      generationPostMs: round(posted.ms),
      meDuringJobP99Ms: round(percentile(meDuring, 99)),
      meIdleP99Ms: round(percentile(meIdle, 99)),
      units,
      bareP50Ms: round(bareP50),
      // Round trips only mean something when there is one to count.
      latestSparqlRoundTrips:
        rttMs > 0 ? round((percentile(times(edgeSamples.get(edge[4]?.route ?? "")), 50) - bareP50) / rttMs) : null,
      generationPostCalls: posted.calls,
      generationPostSmallMs: round(small.ms),
      meIdleP50Ms: round(percentile(meIdle, 50)),
      meDuringJobP50Ms: round(percentile(meDuring, 50)),
      meDuringJobMaxMs: round(Math.max(...meDuring)),
      healthIdleP99Ms: round(percentile(healthIdle, 99)),
      healthDuringJobP99Ms: round(percentile(healthDuring, 99)),
      samplesEdge: samples,
      samplesIdle: meIdle.length,
      samplesDuringJob: meDuring.length,
      jobSeconds: round(jobSeconds),
      meDuringOverIdleP99: round(percentile(meDuring, 99) / percentile(meIdle, 99)),
      healthDuringOverIdleP99: round(percentile(healthDuring, 99) / percentile(healthIdle, 99)),
    };

    console.log(`round trip per central call: ${rttMs} ms; ${samples} samples per route, interleaved`);
    console.table(
      edge.map((probe) => {
        const routeSamples = edgeSamples.get(probe.route);
        return {
          route: probe.route,
          p50Ms: round(percentile(times(routeSamples), 50)),
          p99Ms: round(percentile(times(routeSamples), 99)),
          p50OverBareMs: overBare(probe.route),
          centralCalls: callsSeen(routeSamples),
          edgeCache: [...new Set(routeSamples?.map((sample) => sample.edgeCache ?? "-"))].join(","),
        };
      }),
    );
    console.table([
      {
        route: "GET /v1/me idle",
        p50Ms: result.meIdleP50Ms,
        p99Ms: result.meIdleP99Ms,
        centralCalls: callsSeen(idle.get(me.route)),
      },
      {
        route: "GET /v1/me during the job",
        p50Ms: result.meDuringJobP50Ms,
        p99Ms: result.meDuringJobP99Ms,
        centralCalls: callsSeen(during.get(me.route)),
      },
      {
        route: "GET /v1/health idle",
        p50Ms: round(percentile(healthIdle, 50)),
        p99Ms: result.healthIdleP99Ms,
        centralCalls: callsSeen(idle.get(bare.route)),
      },
      {
        route: "GET /v1/health during the job",
        p50Ms: round(percentile(healthDuring, 50)),
        p99Ms: result.healthDuringJobP99Ms,
        centralCalls: callsSeen(during.get(bare.route)),
      },
      {
        route: `POST /v1/jobs (${units} units)`,
        p50Ms: result.generationPostMs,
        p99Ms: result.generationPostMs,
        centralCalls: posted.calls,
      },
    ]);
    console.log(`units: ${units}; job ran ${result.jobSeconds} s (${result.samplesDuringJob} samples during it)`);
    // null: not applicable to this run (no round trip to count).
    const targets: [string, boolean | null][] = [
      ["render with a platform token < 10 ms over the bare route", result.renderJwtP50OverBareMs < 10],
      ["render with a warm API key < 10 ms over the bare route", result.renderKeyWarmP50OverBareMs < 10],
      ["pinned SPARQL, cached < 10 ms over the bare route", result.pinnedSparqlCachedP50OverBareMs < 10],
      [
        "SPARQL on the latest version < 1.2 round trips over the bare route",
        result.latestSparqlRoundTrips === null ? null : result.latestSparqlRoundTrips < 1.2,
      ],
      [`POST /v1/jobs of ${units} units ≤ 200 ms`, result.generationPostMs <= 200],
      ["GET /v1/me p99 during the job ≤ 2 × idle", result.meDuringJobP99Ms <= 2 * result.meIdleP99Ms],
    ];
    for (const [target, met] of targets) {
      console.log(`${met === null ? "n/a   " : met ? "met   " : "missed"}  ${target}`);
    }
    console.log(JSON.stringify(result));
  } finally {
    server?.stop();
    build.remove();
    rmSync(stateDir, { recursive: true, force: true });
  }
}
