// `npm run bench -- load [tenants] [clients] [--seconds S]`: many tenants at once through one `wrangler dev`
// (local D1, Durable Objects, R2, Queues). Defaults: 100 tenants, 20 clients, 20 s per window.
// - setup (not timed in the figures): `tenants` tenants (standard, premium, enterprise) with a ten-entity graph
//   and a ten-unit generator, created 8 at a time, plus one enterprise tenant with 10,000 entities;
// - "mixed": `clients` client loops for S seconds over the tenants, each request one of render (inline
//   template), SPARQL on the latest version, SPARQL on version 1, a graph upload (a new version) or a job
//   (not waited for); per route: count, p50, p99 and status classes (2xx, 429, other 4xx, 5xx);
// - "noisy neighbour": a few clients call render, SPARQL and `GET /v1/me` of a few victim tenants, and the bare
//   `GET /v1/health`, for S seconds (baseline), then again while the big tenant's 10,000-unit job runs (until
//   it completes or S seconds pass). The victims' p99 during / baseline, next to the health p99 during /
//   baseline, tells tenant isolation apart from the two cores the job and the victims share.
// Every simulated client has its own address (`cf-connecting-ip`), as separate clients have at the edge, and
// stays under the per-client guard; requests are spread over the tenants so each stays under its plan's rate.
// Ends with {"bench":"load","tenants":…,"clients":…,"requests":…,"errors5xx":0,"rate429":…,"routes":{…},…};
// exits non-zero when any request was answered 5xx or not at all.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { ENTITY_FRONTMATTER, ENTITY_PREFIXES, entityGraph, entityTenant } from "./entity-corpus";
import { LoadClient, type LoadRequest, LoadTally, percentile } from "./load-client";
import { BENCH_ADMIN_TOKEN, startDevServer } from "./wrangler-dev";

const PORT = 8799;
const SETUP_CONCURRENCY = 8;
const VICTIM_TENANTS = 5;
const VICTIM_CLIENTS = 4;
const BIG_JOB_UNITS = 10_000;
const SMALL_GRAPH_ENTITIES = 10;
/** Plans of the tenants in turn: all let a tenant take its share of the clients' requests without 429. */
const PLANS = ["standard", "premium", "standard", "enterprise"] as const;
/** Share of each route in the mixed phase. */
const MIXED_WEIGHTS = { render: 30, sparqlLatest: 25, sparqlPinned: 20, graphUpload: 15, generation: 10 } as const;
type MixedRoute = keyof typeof MIXED_WEIGHTS;
const VICTIM_ROUTES = ["render", "sparql", "me"] as const;

const ENTITY_TEMPLATE = `${ENTITY_FRONTMATTER}// {{ e.iri }} ({{ label(e.iri) }})
export interface {{ e.name | pascalCase }} {
{% for i in range(e.size | int % 7 + 1) %}  field{{ i }}: {{ "string" if i is even else "number" }};
{% endfor %}}
`;
const SPARQL = encodeURIComponent(
  `${ENTITY_PREFIXES} SELECT ?e ?name ?size WHERE { ?e rdfs:label ?name ; ex:size ?size } ORDER BY ?name LIMIT 5`,
);

interface Tenant {
  slug: string;
  plan: string;
  apiKey: string;
}

const round = (value: number) => Number(value.toFixed(1));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function parseLoadArgs(args: string[]): { tenants: number; clients: number; seconds: number } {
  const secondsAt = args.indexOf("--seconds");
  const seconds = secondsAt >= 0 ? Number(args[secondsAt + 1]) : 20;
  const positional = args.filter((arg, index) => !arg.startsWith("--") && (secondsAt < 0 || index !== secondsAt + 1));
  const tenants = Number(positional[0] ?? 100);
  const clients = Number(positional[1] ?? 20);
  for (const [name, value] of Object.entries({ tenants, clients, seconds })) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive whole number`);
  }
  return { tenants, clients, seconds };
}

/** Runs `work` over `items` with at most `concurrency` at a time; `work` gets the worker's number. */
async function pooled<T>(items: T[], concurrency: number, work: (item: T, worker: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async (_, worker) => {
      while (next < items.length) {
        const item = items[next++] as T;
        await work(item, worker);
      }
    }),
  );
}

async function createTenants(url: string, count: number, runId: string): Promise<Tenant[]> {
  const tenants: Tenant[] = new Array(count);
  const setupClients = Array.from(
    { length: SETUP_CONCURRENCY },
    (_, worker) => new LoadClient(url, `10.1.0.${worker + 1}`),
  );
  await pooled(
    Array.from({ length: count }, (_, index) => index),
    SETUP_CONCURRENCY,
    async (index, worker) => {
      const client = setupClients[worker] as LoadClient;
      const plan = PLANS[index % PLANS.length] as string;
      const slug = `load-${runId}-${index}`;
      const { secret } = await client.call(
        "POST",
        "/v1/tenants",
        BENCH_ADMIN_TOKEN,
        JSON.stringify({ slug, name: `Load ${index}`, plan }),
      );
      await client.call("PUT", "/v1/graphs/g", secret, entityGraph(SMALL_GRAPH_ENTITIES), "text/turtle");
      await client.call("PUT", "/v1/templates/small/entity.njk", secret, ENTITY_TEMPLATE, "text/plain");
      tenants[index] = { slug, plan, apiKey: secret };
    },
  );
  return tenants;
}

function pickWeighted(): MixedRoute {
  const total = Object.values(MIXED_WEIGHTS).reduce((sum, weight) => sum + weight, 0);
  let roll = Math.random() * total;
  for (const [route, weight] of Object.entries(MIXED_WEIGHTS) as [MixedRoute, number][]) {
    roll -= weight;
    if (roll < 0) return route;
  }
  return "render";
}

let uploadCounter = 0;

function mixedRequest(route: MixedRoute, tenant: Tenant): LoadRequest {
  const token = tenant.apiKey;
  switch (route) {
    case "render":
      return renderRequest(route, token);
    case "sparqlLatest":
      return { route, method: "GET", path: `/v1/graphs/g/sparql?query=${SPARQL}`, token };
    case "sparqlPinned":
      return { route, method: "GET", path: `/v1/graphs/g/sparql?query=${SPARQL}&version=1`, token };
    case "graphUpload":
      uploadCounter++;
      return {
        route,
        method: "PUT",
        path: "/v1/graphs/g",
        token,
        body: `${entityGraph(SMALL_GRAPH_ENTITIES)}\nex:Upload ex:count ${uploadCounter} .`,
        contentType: "text/turtle",
      };
    case "generation":
      return {
        route,
        method: "POST",
        path: "/v1/jobs",
        token,
        body: JSON.stringify({ graph: "g", generator: "small" }),
      };
  }
}

function renderRequest(route: string, token: string): LoadRequest {
  return {
    route,
    method: "POST",
    path: "/v1/render",
    token,
    body: JSON.stringify({
      template:
        "export const {{ name | constantCase }} = {{ items | length }};\n{% for i in items %}// {{ i }}\n{% endfor %}",
      context: { name: "load test", items: ["a", "b", "c"] },
    }),
  };
}

/** Client `index` of `count` visits tenants index, index + count, …: every tenant gets an equal share. */
async function mixedPhase(url: string, tenants: Tenant[], clients: number, seconds: number) {
  const tally = new LoadTally();
  const jobIds: { apiKey: string; id: string }[] = [];
  const deadline = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async (_, index) => {
      const client = new LoadClient(url, `10.2.${Math.floor(index / 250)}.${(index % 250) + 1}`, tally);
      for (let step = 0; performance.now() < deadline; step++) {
        const tenant = tenants[(index + step * clients) % tenants.length] as Tenant;
        const route = pickWeighted();
        try {
          const answer = await client.send(mixedRequest(route, tenant));
          if (route === "generation" && answer.status === 202)
            jobIds.push({ apiKey: tenant.apiKey, id: (JSON.parse(answer.text) as { id: string }).id });
        } catch {
          // counted as unanswered by the client
        }
      }
    }),
  );
  return { tally, jobIds };
}

/** Waits (up to two minutes) for the mixed phase's jobs, so their queue work does not spill into the baseline. */
async function settleJobs(url: string, jobIds: { apiKey: string; id: string }[]) {
  const statuses: Record<string, number> = {};
  const giveUpAt = performance.now() + 120_000;
  const clients = Array.from({ length: SETUP_CONCURRENCY }, (_, worker) => new LoadClient(url, `10.3.0.${worker + 1}`));
  await pooled(jobIds, SETUP_CONCURRENCY, async ({ apiKey, id }, worker) => {
    const client = clients[worker] as LoadClient;
    for (;;) {
      const job = (await client.call("GET", `/v1/jobs/${id}`, apiKey)) as { status: string };
      if (job.status === "completed" || job.status === "failed" || performance.now() > giveUpAt) {
        statuses[job.status] = (statuses[job.status] ?? 0) + 1;
        return;
      }
      await sleep(250);
    }
  });
  return statuses;
}

/** VICTIM_CLIENTS loops over render, SPARQL, `GET /v1/me` of the victims and `GET /v1/health`, until `stop`. */
async function victimWindow(url: string, victims: Tenant[], stop: () => boolean, addressBlock: number) {
  const tally = new LoadTally();
  await Promise.all(
    Array.from({ length: VICTIM_CLIENTS }, async (_, index) => {
      const client = new LoadClient(url, `10.4.${addressBlock}.${index + 1}`, tally);
      for (let step = 0; !stop(); step++) {
        const tenant = victims[(index + step) % victims.length] as Tenant;
        const requests: LoadRequest[] = [
          renderRequest("render", tenant.apiKey),
          { route: "sparql", method: "GET", path: `/v1/graphs/g/sparql?query=${SPARQL}`, token: tenant.apiKey },
          { route: "me", method: "GET", path: "/v1/me", token: tenant.apiKey },
          { route: "health", method: "GET", path: "/v1/health" },
        ];
        for (const request of requests) {
          try {
            await client.send(request);
          } catch {
            // counted as unanswered by the client
          }
        }
      }
    }),
  );
  return tally;
}

function routeFigures(tally: LoadTally, order: readonly string[]) {
  const present = order.flatMap((route) => {
    const routeTally = tally.routes.get(route);
    return routeTally ? [[route, routeTally] as const] : [];
  });
  return Object.fromEntries(
    present.map(([route, { latenciesMs, statuses }]) => [
      route,
      {
        count: latenciesMs.length,
        p50: round(percentile(latenciesMs, 50)),
        p99: round(percentile(latenciesMs, 99)),
        ...statuses,
      },
    ]),
  );
}

export default async function bench(args: string[]): Promise<void> {
  const { tenants: tenantCount, clients, seconds } = parseLoadArgs(args);
  const stateDir = mkdtempSync(join(tmpdir(), "kgen-bench-load-"));
  const server = await startDevServer(stateDir, PORT);
  const runId = Date.now().toString(36);
  try {
    const setupStarted = performance.now();
    const tenants = await createTenants(server.url, tenantCount, runId);
    const bigTenantKey = await entityTenant(
      server.url,
      { slug: `load-${runId}-big`, name: "Load big job", plan: "enterprise" },
      BIG_JOB_UNITS,
      ENTITY_TEMPLATE,
    );
    const setupSeconds = (performance.now() - setupStarted) / 1000;
    console.log(`setup: ${tenantCount} tenants + one with ${BIG_JOB_UNITS} entities in ${setupSeconds.toFixed(1)} s`);

    const mixed = await mixedPhase(server.url, tenants, clients, seconds);
    const jobStatuses = await settleJobs(server.url, mixed.jobIds);
    const routes = routeFigures(mixed.tally, Object.keys(MIXED_WEIGHTS));
    console.log(`mixed: ${mixed.tally.requests()} requests in ${seconds} s by ${clients} clients`);
    for (const [route, figures] of Object.entries(routes)) console.log(`  ${route}: ${JSON.stringify(figures)}`);
    console.log(`  jobs posted: ${mixed.jobIds.length}, afterwards: ${JSON.stringify(jobStatuses)}`);

    const victims = tenants.slice(0, Math.min(VICTIM_TENANTS, tenants.length));
    const baselineEnds = performance.now() + seconds * 1000;
    const baseline = await victimWindow(server.url, victims, () => performance.now() >= baselineEnds, 0);

    const jobClient = new LoadClient(server.url, "10.5.0.1");
    const jobPostStarted = performance.now();
    const bigJob = (await jobClient.call(
      "POST",
      "/v1/jobs",
      bigTenantKey,
      JSON.stringify({ graph: "model", generator: "bench" }),
    )) as { id: string };
    const jobPostMs = performance.now() - jobPostStarted;
    const duringEnds = jobPostStarted + seconds * 1000;
    const big: { status: string; seconds: number | null } = { status: "queued", seconds: null };
    const watcher = (async () => {
      while (performance.now() < duringEnds) {
        const job = (await jobClient.call("GET", `/v1/jobs/${bigJob.id}`, bigTenantKey)) as { status: string };
        big.status = job.status;
        if (job.status === "completed" || job.status === "failed") {
          big.seconds = (performance.now() - jobPostStarted) / 1000;
          return;
        }
        await sleep(500);
      }
    })();
    const during = await victimWindow(
      server.url,
      victims,
      () => performance.now() >= duringEnds || big.seconds !== null,
      1,
    );
    await watcher;

    const victimBaseline = baseline.p99Of(VICTIM_ROUTES);
    const victimDuring = during.p99Of(VICTIM_ROUTES);
    const healthBaseline = baseline.p99Of(["health"]);
    const healthDuring = during.p99Of(["health"]);
    console.log(
      `noisy neighbour: ${VICTIM_CLIENTS} clients over ${victims.length} victims; ${BIG_JOB_UNITS}-unit job posted in ${jobPostMs.toFixed(0)} ms, ` +
        (big.seconds === null
          ? `still ${big.status} after ${seconds} s`
          : `${big.status} in ${big.seconds.toFixed(1)} s`),
    );
    console.log(
      `  victims (render, SPARQL, /v1/me) p99: baseline ${victimBaseline.toFixed(1)} ms (${baseline.requests()} requests), during the job ${victimDuring.toFixed(1)} ms (${during.requests()} requests)`,
    );
    console.log(
      `  GET /v1/health p99: baseline ${healthBaseline.toFixed(1)} ms, during the job ${healthDuring.toFixed(1)} ms`,
    );

    const tallies = [mixed.tally, baseline, during];
    const errors5xx = tallies.reduce((sum, tally) => sum + tally.count("5xx"), 0);
    const unanswered = tallies.reduce((sum, tally) => sum + tally.unanswered, 0);
    const otherClientErrors = tallies.flatMap((tally) => tally.otherClientErrors);
    const serverErrors = tallies.flatMap((tally) => tally.serverErrors).slice(0, 5);
    for (const body of serverErrors) console.log(`5xx: ${body.slice(0, 500)}`);
    for (const body of otherClientErrors.slice(0, 3)) console.log(`4xx: ${body.slice(0, 300)}`);

    const result = {
      bench: "load",
      tenants: tenantCount,
      clients,
      seconds,
      setupSeconds: round(setupSeconds),
      requests: mixed.tally.requests(),
      requestsPerSecond: round(mixed.tally.requests() / seconds),
      errors5xx,
      unanswered,
      rate429: tallies.reduce((sum, tally) => sum + tally.count("429"), 0),
      other4xx: tallies.reduce((sum, tally) => sum + tally.count("4xx"), 0),
      routes,
      jobsPosted: mixed.jobIds.length,
      jobsFailed: jobStatuses.failed ?? 0,
      bigJobStatus: big.status,
      bigJobSeconds: big.seconds === null ? null : round(big.seconds),
      victimP99BaselineMs: round(victimBaseline),
      victimP99DuringJobMs: round(victimDuring),
      victimP99Ratio: Number((victimDuring / victimBaseline).toFixed(2)),
      healthP99BaselineMs: round(healthBaseline),
      healthP99DuringJobMs: round(healthDuring),
      healthP99Ratio: Number((healthDuring / healthBaseline).toFixed(2)),
    };
    console.log(JSON.stringify(result));
    if (errors5xx > 0 || unanswered > 0) process.exitCode = 1;
  } finally {
    server.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}
