// `npm run bench -- drift [artifacts]`: impact analysis of a one-triple change on a job of N artifacts
// (default 10,000) against regenerating that job at the new version, in-process in Node, in one run.
// Regenerating = every unit rendered, hashed and attested, as a job does before it stores anything.
// Ends with {"bench":"drift","artifacts":N,"impactVsRegenerate":R,"driftCheckMs":M}.
import { nodeSqlDatabase } from "../cli/node-sql-database";
import { GraphService } from "../durable-objects/tenant/graph-service";
import { JobService } from "../durable-objects/tenant/job-service";
import { TENANT_SCHEMA } from "../durable-objects/tenant/tenant-schema";
import { sha256Hex } from "../shared/core/sha256";
import { generateSigningKey, signerFromPrivateJwk } from "../shared/crypto/ed25519";
import { attestArtifact } from "../shared/generate/attestation";
import { provenanceOf } from "../shared/generate/generate";
import { computeImpact, type ImpactLimits } from "../shared/generate/impact";
import type { JobRequest } from "../shared/generate/job-renderer";
import { computeLock, deriveBuildTime, lockHash } from "../shared/generate/lock";
import { applySchemaMigrations } from "../shared/sql/migrations";
import { ENGINE_VERSION } from "../shared/version";
import { measureDriftCheck } from "./drift-check";
import { ENTITY_FRONTMATTER, entityGraph } from "./entity-corpus";

const TEMPLATE = `${ENTITY_FRONTMATTER}// {{ e.iri }}
export interface {{ e.name | pascalCase }} {
{% for i in range(e.size | int % 7 + 1) %}  field{{ i }}: {{ "string" if i is even else "number" }};
{% endfor %}}
export const {{ e.name | constantCase }}_SIZE = {{ e.size }};
`;
const REPETITIONS = 3;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

async function setup(artifacts: number) {
  const db = nodeSqlDatabase();
  applySchemaMigrations(db, TENANT_SCHEMA);
  const graphs = new GraphService(db);
  await graphs.ingest({
    name: "model",
    mediaType: "text/turtle",
    body: new Blob([entityGraph(artifacts)]).stream(),
    createdAt: "2026-01-01T00:00:00.000Z",
    tripleLimit: 10_000_000,
    maxBytes: Number.POSITIVE_INFINITY,
  });
  // One triple: the size of the entity in the middle.
  const middle = Math.floor(artifacts / 2);
  const size = (value: number) =>
    `<http://example.org/E${middle}> <http://example.org/size> "${value}"^^<http://www.w3.org/2001/XMLSchema#integer> .`;
  await graphs.patch({
    name: "model",
    remove: size(middle % 97),
    add: size(1000),
    createdAt: "2026-02-01T00:00:00.000Z",
    tripleLimit: 10_000_000,
  });
  const templates = [{ path: "entity.njk", hash: await sha256Hex(TEMPLATE), source: TEMPLATE }];
  const limits = { maxRows: 1_000_000, maxSteps: 1e9 };
  const requestAt = async (version: number): Promise<JobRequest> => {
    const pinned = graphs.version("model", version);
    const lock = await computeLock({
      graph: { name: "model", version, hash: pinned.hash as string },
      generator: { name: "bench", templates: templates.map(({ path, hash }) => ({ path, hash })) },
      params: {},
      engineVersion: ENGINE_VERSION,
      buildTime: deriveBuildTime({ graphVersionCreatedAt: pinned.createdAt }),
    });
    return { lock, params: {}, templates, limits, maxArtifacts: 1_000_000 };
  };
  return { jobs: new JobService(graphs), old: await requestAt(1), current: await requestAt(2) };
}

export default async function bench(args: string[]): Promise<void> {
  const artifacts = Number(args[0] ?? 10_000);
  const { jobs, old, current } = await setup(artifacts);
  const signer = await signerFromPrivateJwk((await generateSigningKey()).privateJwk);
  const written = await jobs.renderAll(old);
  if (written.artifacts.length !== artifacts) throw new Error(`the job wrote ${written.artifacts.length} artifacts`);
  const recorded = written.artifacts.map((artifact) => ({
    path: artifact.path,
    templatePath: artifact.template.path,
    templateHash: artifact.template.hash,
    dependencies: artifact.dependencies,
  }));
  const limits: ImpactLimits = {
    maxArtifacts: artifacts,
    maxQueries: 2_000,
    maxRows: 10 * artifacts,
    query: old.limits,
  };

  const regenerateMs: number[] = [];
  const renderMs: number[] = [];
  const impactMs: number[] = [];
  let changed = -1;
  for (let run = 0; run < REPETITIONS; run++) {
    let started = performance.now();
    const rendered = await jobs.renderAll(current);
    renderMs.push(performance.now() - started);
    const hashOfLock = await lockHash(current.lock);
    for (const artifact of rendered.artifacts) {
      const bytes = new TextEncoder().encode(artifact.content);
      await sha256Hex(bytes);
      await attestArtifact(provenanceOf({ ...artifact, bytes }, current.lock, hashOfLock), signer);
    }
    regenerateMs.push(performance.now() - started);

    started = performance.now();
    const report = await computeImpact({
      baseline: { lock: old.lock, templates: old.templates, params: {}, source: jobs.querySource(old) },
      target: { lock: current.lock, templates: current.templates, params: {}, source: jobs.querySource(current) },
      artifacts: recorded,
      limits,
    });
    impactMs.push(performance.now() - started);
    changed = report.summary.changed + report.summary.added + report.summary.removed;
    if (changed !== 1) throw new Error(`a one-triple change should change one artifact, the impact says ${changed}`);
  }

  // A 10,000-file check by hashes through the API on the local platform (bench/drift-check.ts).
  const { driftCheckMs } = await measureDriftCheck(artifacts);
  console.log(`drift check of ${artifacts} files by hashes through POST /v1/drift: ${driftCheckMs.toFixed(0)} ms`);

  const ratio = median(impactMs) / median(regenerateMs);
  console.log(`artifacts: ${artifacts}, artifacts the change touches: ${changed}`);
  console.log(`regenerate (render + sha256 + sign): ${median(regenerateMs).toFixed(0)} ms (median of ${REPETITIONS})`);
  console.log(`  of which rendering alone: ${median(renderMs).toFixed(0)} ms`);
  console.log(`impact analysis: ${median(impactMs).toFixed(0)} ms`);
  console.log(
    `impact / regenerate: ${ratio.toFixed(4)}; impact / rendering alone: ${(median(impactMs) / median(renderMs)).toFixed(4)}`,
  );
  console.log(
    JSON.stringify({
      bench: "drift",
      artifacts,
      impactVsRegenerate: Number(ratio.toFixed(4)),
      driftCheckMs: Math.round(driftCheckMs),
    }),
  );
}
