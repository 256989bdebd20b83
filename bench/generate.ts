// `npm run bench -- generate [artifacts] [rounds]`: a queued generation job through `wrangler dev` (local
// Queues, Durable Object, D1, R2) against the same renders in-process in Node, in one run. Each round runs
// one of each, in turn, so a change in the machine's speed during the run moves both sides alike: the queued
// job on a new tenant (a new tenant object, no stored contents to reuse) of the same Worker, the in-process
// one on a new in-memory database. The ratio is of the medians of the rounds after the first (the first
// also pays the isolate's and Node's compilation). The server's state folder is in memory where the machine
// has one (/dev/shm), like the in-process side's database, so neither side measures this machine's disk
// syncs, which Cloudflare's storage does not put on a Worker's thread.
// Prints artifacts/s of each and the ratio; ends with {"bench":"generate","artifacts":N,"queueRatio":R,…}.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nodeSqlDatabase } from "../cli/node-sql-database";
import { GraphService } from "../durable-objects/tenant/graph-service";
import { JobService } from "../durable-objects/tenant/job-service";
import { TENANT_SCHEMA } from "../durable-objects/tenant/tenant-schema";
import { sha256Hex } from "../shared/core/sha256";
import { generateSigningKey, signerFromPrivateJwk } from "../shared/crypto/ed25519";
import { attestArtifact } from "../shared/generate/attestation";
import { provenanceOf } from "../shared/generate/generate";
import { computeLock, deriveBuildTime, lockHash } from "../shared/generate/lock";
import { applySchemaMigrations } from "../shared/sql/migrations";
import { ENGINE_VERSION } from "../shared/version";
import { ENTITY_FRONTMATTER, entityGraph, entityTenant } from "./entity-corpus";
import { callApi, startDevServer } from "./wrangler-dev";

const PORT = 8797;
const TEMPLATE = `${ENTITY_FRONTMATTER}// {{ e.iri }}
export interface {{ e.name | pascalCase }} {
{% for i in range(e.size | int % 7 + 1) %}  field{{ i }}: {{ "string" if i is even else "number" }};
{% endfor %}}
export const {{ e.name | constantCase }}_SIZE = {{ e.size }};
`;

interface QueuedTimes {
  /** From sending POST /v1/jobs to reading the job's `job.completed` event. */
  seconds: number;
  /** From the job's creation to its completion, as the platform recorded them (its createdAt and updatedAt). */
  recordedSeconds: number;
}

/**
 * A queued job of `artifacts` units on a new tenant of the running server; its seconds from POST to the
 * `job.completed` event on the tenant's event stream. The bench waits on the stream rather than polling: on
 * one local thread, every poll would take its share of the CPU the job runs on.
 */
async function queuedRun(url: string, artifacts: number, round: number): Promise<QueuedTimes> {
  const apiKey = await entityTenant(
    url,
    { slug: `bench-${Date.now()}-${round}`, name: "Bench", plan: "standard" },
    artifacts,
    TEMPLATE,
  );
  const stream = await fetch(`${url}/v1/events/stream`, { headers: { authorization: `Bearer ${apiKey}` } });
  if (!stream.ok || !stream.body) throw new Error(`event stream: ${stream.status}`);
  const reader = stream.body.pipeThrough(new TextDecoderStream()).getReader();
  try {
    const started = performance.now();
    const job = await callApi(url, "POST", "/v1/jobs", apiKey, JSON.stringify({ graph: "model", generator: "bench" }));
    if (job.status !== "queued") throw new Error(`expected a queued job, got ${job.status}`);
    await untilFinished(reader, job.id);
    const seconds = (performance.now() - started) / 1000;
    const current = await callApi(url, "GET", `/v1/jobs/${job.id}`, apiKey);
    if (current.status !== "completed") throw new Error(`job ${current.status}: ${current.error}`);
    if (current.counts.artifacts !== artifacts) throw new Error(`job wrote ${current.counts.artifacts} artifacts`);
    await checkStored(url, apiKey, job.id);
    return { seconds, recordedSeconds: (Date.parse(current.updatedAt) - Date.parse(current.createdAt)) / 1000 };
  } finally {
    await reader.cancel();
  }
}

/** Reads the event stream until the job's `job.completed` or `job.failed` event. */
async function untilFinished(reader: ReadableStreamDefaultReader<string>, jobId: string): Promise<void> {
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the event stream ended before the job finished");
    text += value;
    const events = text.split("\n\n");
    text = events.pop() ?? "";
    for (const event of events) {
      if (!event.includes(jobId)) continue;
      if (/^event: .*job\.(completed|failed)$/m.test(event)) return;
    }
  }
}

/** Outside the timing: a sample of the stored artifacts reads back with the bytes their sha256 names. */
async function checkStored(url: string, apiKey: string, jobId: string): Promise<void> {
  const { items } = (await callApi(url, "GET", `/v1/jobs/${jobId}/artifacts?limit=1000`, apiKey)) as {
    items: { id: string; sha256: string }[];
  };
  for (const item of items.filter((_, index) => index % 97 === 0)) {
    const res = await fetch(`${url}/v1/artifacts/${item.id}`, { headers: { authorization: `Bearer ${apiKey}` } });
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (!res.ok || (await sha256Hex(bytes)) !== item.sha256) throw new Error(`artifact ${item.id} does not read back`);
  }
}

async function inProcessRun(artifacts: number): Promise<number> {
  const db = nodeSqlDatabase();
  applySchemaMigrations(db, TENANT_SCHEMA);
  const graphs = new GraphService(db);
  const { version } = await graphs.ingest({
    name: "model",
    mediaType: "text/turtle",
    body: new Blob([entityGraph(artifacts)]).stream(),
    createdAt: "2026-01-01T00:00:00.000Z",
    tripleLimit: 10_000_000,
    maxBytes: Number.POSITIVE_INFINITY,
  });
  const hash = version.hash as string;
  const templateHash = await sha256Hex(TEMPLATE);
  const lock = await computeLock({
    graph: { name: "model", version: version.version, hash },
    generator: { name: "bench", templates: [{ path: "entity.njk", hash: templateHash }] },
    params: {},
    engineVersion: ENGINE_VERSION,
    buildTime: deriveBuildTime({ graphVersionCreatedAt: version.createdAt }),
  });
  const signer = await signerFromPrivateJwk((await generateSigningKey()).privateJwk);
  const started = performance.now();
  const rendered = await new JobService(graphs).renderAll({
    lock,
    params: {},
    templates: [{ path: "entity.njk", hash: templateHash, source: TEMPLATE }],
    limits: { maxRows: 1_000_000, maxSteps: 1e9 },
    maxArtifacts: 1_000_000,
  });
  const hashOfLock = await lockHash(lock);
  for (const artifact of rendered.artifacts) {
    const bytes = new TextEncoder().encode(artifact.content);
    await sha256Hex(bytes);
    await attestArtifact(provenanceOf({ ...artifact, bytes }, lock, hashOfLock), signer);
  }
  if (rendered.artifacts.length !== artifacts) throw new Error(`in-process rendered ${rendered.artifacts.length}`);
  return (performance.now() - started) / 1000;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

export default async function bench(args: string[]): Promise<void> {
  const artifacts = Number(args[0] ?? 1000);
  const rounds = Math.max(2, Number(args[1] ?? 6));
  const stateDir = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "kgen-bench-"));
  const server = await startDevServer(stateDir, PORT);
  const inProcess: number[] = [];
  const queued: number[] = [];
  const recorded: number[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      inProcess.push(await inProcessRun(artifacts));
      const times = await queuedRun(server.url, artifacts, round);
      queued.push(times.seconds);
      recorded.push(times.recordedSeconds);
    }
  } finally {
    server.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
  const seconds = (values: number[]) => values.map((value) => value.toFixed(2)).join(" ");
  const inProcessSeconds = median(inProcess.slice(1));
  const queuedSeconds = median(queued.slice(1));
  const ratio = inProcessSeconds / queuedSeconds;
  const recordedSeconds = median(recorded.slice(1));
  console.log(`artifacts: ${artifacts}, rounds: ${rounds} (the first of each side is not in the medians)`);
  console.log(
    `in-process (render + sha256 + sign, Node): ${seconds(inProcess)} s; median ${inProcessSeconds.toFixed(2)} s, ${(artifacts / inProcessSeconds).toFixed(0)} artifacts/s`,
  );
  console.log(
    `queue (wrangler dev: Worker render, DO queries, R2, D1, attest): ${seconds(queued)} s; median ${queuedSeconds.toFixed(2)} s, ${(artifacts / queuedSeconds).toFixed(0)} artifacts/s`,
  );
  console.log(
    `queue, as recorded by the platform (created to completed): ${seconds(recorded)} s; median ${recordedSeconds.toFixed(2)} s`,
  );
  console.log(
    `ratio queue / in-process: ${ratio.toFixed(3)} (as recorded: ${(inProcessSeconds / recordedSeconds).toFixed(3)})`,
  );
  console.log(
    JSON.stringify({
      bench: "generate",
      artifacts,
      rounds,
      queueRatio: Number(ratio.toFixed(3)),
      queueSeconds: Number(queuedSeconds.toFixed(3)),
      queueRecordedSeconds: Number(recordedSeconds.toFixed(3)),
      inProcessSeconds: Number(inProcessSeconds.toFixed(3)),
      queueColdSeconds: Number((queued[0] as number).toFixed(3)),
      inProcessColdSeconds: Number((inProcess[0] as number).toFixed(3)),
    }),
  );
}
