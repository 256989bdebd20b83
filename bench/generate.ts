// `npm run bench -- generate [artifacts]`: a queued generation job through `wrangler dev` (local
// Queues, Durable Object, D1, R2) against the same renders in-process in Node, in one run.
// Prints artifacts/s of each and the ratio; ends with {"bench":"generate","artifacts":N,"queueRatio":R}.
import { mkdtempSync, rmSync } from "node:fs";
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

async function queuedRun(artifacts: number): Promise<number> {
  const stateDir = mkdtempSync(join(tmpdir(), "kgen-bench-"));
  const server = await startDevServer(stateDir, PORT);
  const api = (method: string, path: string, token: string, body?: string, contentType?: string) =>
    callApi(server.url, method, path, token, body, contentType);
  try {
    const apiKey = await entityTenant(
      server.url,
      { slug: `bench-${Date.now()}`, name: "Bench", plan: "standard" },
      artifacts,
      TEMPLATE,
    );
    const started = performance.now();
    const job = await api("POST", "/v1/jobs", apiKey, JSON.stringify({ graph: "model", generator: "bench" }));
    if (job.status !== "queued") throw new Error(`expected a queued job, got ${job.status}`);
    for (;;) {
      const current = await api("GET", `/v1/jobs/${job.id}`, apiKey);
      if (current.status === "completed") {
        const seconds = (performance.now() - started) / 1000;
        if (current.counts.artifacts !== artifacts) throw new Error(`job wrote ${current.counts.artifacts} artifacts`);
        await checkStored(server.url, apiKey, job.id);
        return seconds;
      }
      if (current.status === "failed") throw new Error(`job failed: ${current.error}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    server.stop();
    rmSync(stateDir, { recursive: true, force: true });
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

export default async function bench(args: string[]): Promise<void> {
  const artifacts = Number(args[0] ?? 1000);
  const inProcessSeconds = await inProcessRun(artifacts);
  const queuedSeconds = await queuedRun(artifacts);
  const inProcessRate = artifacts / inProcessSeconds;
  const queueRate = artifacts / queuedSeconds;
  console.log(`artifacts: ${artifacts}`);
  console.log(
    `in-process (render + sha256 + sign, Node): ${inProcessSeconds.toFixed(2)} s, ${inProcessRate.toFixed(0)} artifacts/s`,
  );
  console.log(
    `queue (wrangler dev: Worker render, DO queries, R2, D1, attest): ${queuedSeconds.toFixed(2)} s, ${queueRate.toFixed(0)} artifacts/s`,
  );
  console.log(`ratio queue / in-process: ${(queueRate / inProcessRate).toFixed(3)}`);
  console.log(
    JSON.stringify({ bench: "generate", artifacts, queueRatio: Number((queueRate / inProcessRate).toFixed(3)) }),
  );
}
