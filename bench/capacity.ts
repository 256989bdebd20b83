// `npm run bench -- capacity [artifacts] [--jobs N]`: what the platform's stores grow by, through `wrangler dev`
// (local D1, Durable Objects, R2, Queues), measured on the local state files (SQLite `dbstat`, used bytes
// of every table and index):
// - d1BytesPerJob: D1 growth per job of examples/shop (its one job row, with the lock), over N jobs;
// - d1BytesPerArtifact: D1 growth per artifact of a job of `artifacts` units (its job row included);
// - doBytesPerArtifact: the tenant object's growth per artifact (the artifact index, envelopes included);
// - r2WritesPerBatch: R2 objects written per queue batch of that job (packs of new contents).
// Ends with {"bench":"capacity","d1BytesPerArtifact":…,"d1BytesPerJob":…,"r2WritesPerBatch":…,…}.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { MAX_VERSION_TRIPLES } from "../shared/rdf/store/graph-capacity";
import { GENERATE_BATCH_SIZE } from "../workers/jobs/run-job";
import { ENTITY_FRONTMATTER, entityGraph } from "./entity-corpus";
import { measureGraphCapacity } from "./graph-capacity";
import { callApi, createBenchTenant, startDevServer } from "./wrangler-dev";

const PORT = 8839;
const SHOP = join(import.meta.dirname, "..", "examples", "shop");
const TEMPLATE = `${ENTITY_FRONTMATTER}// {{ e.iri }}
export interface {{ e.name | pascalCase }} {
{% for i in range(e.size | int % 7 + 1) %}  field{{ i }}: {{ "string" if i is even else "number" }};
{% endfor %}}
`;

/** SQLite files under a folder of the local state (one per database or Durable Object). */
function sqliteFiles(folder: string): string[] {
  let found: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(folder);
  } catch {
    return [];
  }
  for (const entry of entries) {
    const path = join(folder, entry);
    if (statSync(path).isDirectory()) found = found.concat(sqliteFiles(path));
    else if (entry.endsWith(".sqlite")) found.push(path);
  }
  return found;
}

/** Bytes in use in the SQLite files under `folder`: every table's and index's pages less their free space. */
function usedBytes(folder: string): number {
  let total = 0;
  for (const file of sqliteFiles(folder)) {
    const db = new DatabaseSync(file, { readOnly: true });
    try {
      const row = db.prepare("SELECT coalesce(sum(pgsize - unused), 0) AS used FROM dbstat").get() as { used: number };
      total += row.used;
    } finally {
      db.close();
    }
  }
  return total;
}

/** Used bytes per table and index, for finding what grows. */
function usedBytesByName(folder: string): Map<string, number> {
  const byName = new Map<string, number>();
  for (const file of sqliteFiles(folder)) {
    const db = new DatabaseSync(file, { readOnly: true });
    try {
      for (const row of db.prepare("SELECT name, sum(pgsize - unused) AS used FROM dbstat GROUP BY name").all() as {
        name: string;
        used: number;
      }[]) {
        byName.set(row.name, (byName.get(row.name) ?? 0) + row.used);
      }
    } finally {
      db.close();
    }
  }
  return byName;
}

/** R2 objects stored locally (the blobs of every bucket). */
function r2Objects(stateDir: string): number {
  let count = 0;
  for (const file of sqliteFiles(join(stateDir, "v3", "r2"))) {
    const db = new DatabaseSync(file, { readOnly: true });
    try {
      const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name = '_mf_objects'").all();
      if (tables.length > 0) count += (db.prepare("SELECT count(*) AS n FROM _mf_objects").get() as { n: number }).n;
    } finally {
      db.close();
    }
  }
  return count;
}

async function completed(
  url: string,
  apiKey: string,
  body: unknown,
): Promise<{ id: string; counts: { artifacts: number } }> {
  const job = await callApi(url, "POST", "/v1/jobs", apiKey, JSON.stringify(body));
  for (;;) {
    const current = await callApi(url, "GET", `/v1/jobs/${job.id}`, apiKey);
    if (current.status === "completed") return current;
    if (current.status === "failed") throw new Error(`job failed: ${current.error}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export default async function bench(args: string[]): Promise<void> {
  const artifacts = Number(args.find((arg) => /^\d+$/.test(arg)) ?? 3000);
  const jobsFlag = args.indexOf("--jobs");
  const shopJobs = jobsFlag >= 0 ? Number(args[jobsFlag + 1]) : 20;
  const stateDir = mkdtempSync(join(tmpdir(), "kgen-bench-capacity-"));
  const d1Dir = join(stateDir, "v3", "d1");
  const doDir = join(stateDir, "v3", "do");
  const server = await startDevServer(stateDir, PORT);
  try {
    const secret = await createBenchTenant(server.url, {
      slug: `capacity-${Date.now()}`,
      name: "Capacity",
      plan: "enterprise",
    });
    await callApi(
      server.url,
      "PUT",
      "/v1/graphs/shop",
      secret,
      readFileSync(join(SHOP, "model.ttl"), "utf8"),
      "text/turtle",
    );
    for (const name of readdirSync(join(SHOP, "generator")).sort()) {
      const source = readFileSync(join(SHOP, "generator", name), "utf8");
      await callApi(server.url, "PUT", `/v1/templates/app/${name}`, secret, source, "text/plain");
    }
    await callApi(server.url, "PUT", "/v1/graphs/model", secret, entityGraph(artifacts), "text/turtle");
    await callApi(server.url, "PUT", "/v1/templates/bench/entity.njk", secret, TEMPLATE, "text/plain");
    // One job first, so that tables and indexes exist and later growth is rows only.
    await completed(server.url, secret, { graph: "shop", generator: "app", params: { title: "Shop API" } });

    const d1BeforeShop = usedBytes(d1Dir);
    const byNameBefore = usedBytesByName(d1Dir);
    for (let run = 0; run < shopJobs; run++) {
      await completed(server.url, secret, { graph: "shop", generator: "app", params: { title: `Shop API ${run}` } });
    }
    const d1BytesPerJob = (usedBytes(d1Dir) - d1BeforeShop) / shopJobs;
    for (const [name, used] of usedBytesByName(d1Dir)) {
      const grown = used - (byNameBefore.get(name) ?? 0);
      if (grown !== 0) console.log(`  D1 ${name}: ${(grown / shopJobs).toFixed(0)} bytes per shop job`);
    }

    const d1Before = usedBytes(d1Dir);
    const d1ByNameBefore = usedBytesByName(d1Dir);
    const doBefore = usedBytes(doDir);
    const r2Before = r2Objects(stateDir);
    const job = await completed(server.url, secret, { graph: "model", generator: "bench" });
    if (job.counts.artifacts !== artifacts) throw new Error(`the job wrote ${job.counts.artifacts} artifacts`);
    const d1Growth = usedBytes(d1Dir) - d1Before;
    // What grew besides the job's own row and its indexes: the part of D1 that would grow with artifacts.
    let d1ArtifactGrowth = 0;
    for (const [name, used] of usedBytesByName(d1Dir)) {
      if (/^(jobs|sqlite_autoindex_jobs)/.test(name)) continue;
      d1ArtifactGrowth += used - (d1ByNameBefore.get(name) ?? 0);
    }
    const doGrowth = usedBytes(doDir) - doBefore;
    const batches = Math.ceil(artifacts / GENERATE_BATCH_SIZE);
    const r2WritesPerBatch = (r2Objects(stateDir) - r2Before) / batches;

    const figures = {
      artifacts,
      shopJobs,
      d1BytesPerArtifact: Number((d1ArtifactGrowth / artifacts).toFixed(2)),
      d1BytesPerJob: Math.round(d1BytesPerJob),
      doBytesPerArtifact: Math.round(doGrowth / artifacts),
      r2WritesPerBatch: Number(r2WritesPerBatch.toFixed(2)),
      ...(await graphFigures()),
    };
    console.log(`D1 growth per shop job (${shopJobs} jobs): ${figures.d1BytesPerJob} bytes`);
    console.log(
      `D1 growth for a ${artifacts}-artifact job: ${d1Growth} bytes, ${figures.d1BytesPerArtifact} per artifact`,
    );
    console.log(`tenant object growth for it: ${doGrowth} bytes, ${figures.doBytesPerArtifact} per artifact`);
    console.log(`R2 objects written per batch of ${GENERATE_BATCH_SIZE} units: ${figures.r2WritesPerBatch}`);
    console.log(JSON.stringify({ bench: "capacity", ...figures }));
  } finally {
    server.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/**
 * Bytes per stored triple (measured on the node:sqlite stand-in), the largest version the tenant object's
 * storage holds at that rate, and the enforced limit (the lower of that and the size run end to end).
 */
async function graphFigures() {
  const { doBytesPerTriple, maxTriplesPerVersion: storageBoundTriples } = await measureGraphCapacity();
  return {
    doBytesPerTriple,
    storageBoundTriples,
    maxTriplesPerVersion: Math.min(storageBoundTriples, MAX_VERSION_TRIPLES),
  };
}
