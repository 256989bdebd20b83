// `npm run bench -- sparql [triples…] [--runs N] [--no-comunica]`: our SPARQL engine over a node:sqlite quad
// store (the Durable Object stand-in) against oxigraph and Comunica on the same LUBM-like data, same run.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { QueryEngine } from "@comunica/query-sparql-rdfjs";
import type * as RDF from "@rdfjs/types";
import { Parser, Writer } from "n3";
import oxigraph from "oxigraph";
import { RdfStore } from "rdf-stores";
import { nodeSqlDatabase } from "../cli/node-sql-database";
import { quadToNTriplesLine } from "../shared/rdf/ntriples";
import { parseRdfStream } from "../shared/rdf/parse-stream";
import { runSparqlQuery } from "../shared/rdf/sparql/engine";
import type { QuadStore } from "../shared/rdf/store/quad-store";
import { generateLubm, lubmTurtle } from "../test/support/lubm";
import { nodeSha256 } from "../test/support/node-sha256";
import { migratedQuadStore } from "../test/support/sparql-store";

export const PREFIXES = `PREFIX ub: <http://swat.cse.lehigh.edu/onto/univ-bench.owl#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
`;

export const QUERIES: [string, string][] = [
  ["selective BGP", `SELECT ?x ?n WHERE { ?x ub:worksFor <http://www.Department3.University0.edu/> ; ub:name ?n }`],
  [
    "star (4 patterns)",
    `SELECT ?x ?n ?e ?a WHERE { ?x a ub:FullProfessor ; ub:name ?n ; ub:emailAddress ?e ; ub:age ?a }`,
  ],
  [
    "chain (3 patterns)",
    `SELECT ?s ?p ?d WHERE { ?s ub:advisor ?p . ?p ub:worksFor ?d . ?d ub:subOrganizationOf <http://www.University0.edu> }`,
  ],
  ["OPTIONAL", `SELECT ?s ?p WHERE { ?s a ub:GraduateStudent OPTIONAL { ?s ub:advisor ?p } }`],
  ["FILTER + ORDER BY + LIMIT", `SELECT ?s ?a WHERE { ?s ub:age ?a FILTER(?a > 60) } ORDER BY DESC(?a) ?s LIMIT 10`],
  ["GROUP BY COUNT", `SELECT ?c (COUNT(?s) AS ?n) WHERE { ?s ub:takesCourse ?c } GROUP BY ?c`],
  [
    "property path",
    `SELECT ?x WHERE { <http://www.Department0.University0.edu/Student7> ub:takesCourse/^ub:teacherOf/ub:worksFor/ub:subOrganizationOf+ ?x }`,
  ],
  ["UNION", `SELECT ?x WHERE { { ?x ub:headOf ?d } UNION { ?x a ub:GraduateCourse ; ub:name "Course17" } }`],
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

function time<T>(fn: () => T): [T, number] {
  const start = performance.now();
  const result = fn();
  return [result, performance.now() - start];
}

async function timeAsync<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const result = await fn();
  return [result, performance.now() - start];
}

function count(result: ReturnType<typeof runSparqlQuery>): number {
  return result.type === "bindings" ? result.bindings.length : result.type === "quads" ? result.quads.length : 1;
}

const NOW = new Date("2026-01-01T00:00:00Z");

async function benchSize(triples: number, runs: number, withComunica: boolean): Promise<void> {
  const quads = [...generateLubm(triples)];
  const text = new Writer({ format: "N-Triples" }).quadsToString(quads);
  console.log(`\n## ${quads.length} triples (${(text.length / 1e6).toFixed(1)} MB N-Triples)`);

  const turtle = lubmTurtle(quads);
  console.log(`upload document: ${(turtle.length / 1e6).toFixed(1)} MB Turtle`);
  const [, parseMs] = time(() => new Parser({ format: "Turtle" }).parse(turtle));
  const directory = mkdtempSync(join(tmpdir(), "kgen-sparql-bench-"));
  const path = join(directory, "tenant.sqlite");
  try {
    let db = nodeSqlDatabase(path);
    let store: QuadStore = migratedQuadStore(db);
    // The upload path of PUT /v1/graphs/{name}: streamed parse, dictionary encoding, SQLite, RDFC-1.0 hash.
    const [, ingestMs] = await timeAsync(async () => {
      const upload = store.beginUpload("lubm");
      try {
        await parseRdfStream(new Blob([turtle]).stream(), "text/turtle", (quad) => upload.add(quad));
        await upload.seal({ hash: nodeSha256 });
        return upload.commit({ createdAt: "bench" });
      } finally {
        upload.close();
      }
    });
    const parseRate = quads.length / (parseMs / 1000);
    const ingestRate = quads.length / (ingestMs / 1000);
    console.log(
      `ingest (parse + store + hash): ${Math.round(ingestRate).toLocaleString("en")} triples/s; n3 parse only: ${Math.round(parseRate).toLocaleString("en")} triples/s; ratio ${(ingestRate / parseRate).toFixed(2)}`,
    );

    // Eviction: drop the connection and every cache, reopen the file, run the first query cold.
    db.close();
    const [, firstQueryMs] = time(() => {
      db = nodeSqlDatabase(path);
      store = migratedQuadStore(db);
      const ref = store.graphRef("lubm");
      // A text not seen before: a restarted isolate has no parse cache either.
      return runSparqlQuery(store, `${PREFIXES + (QUERIES[0] as [string, string])[1]}\n# after eviction`, {
        dataset: { defaultGraph: [ref], namedGraphs: [] },
        now: NOW,
      });
    });
    console.log(`first query after eviction (open + migrate check + parse + run): ${firstQueryMs.toFixed(1)} ms`);

    const ref = store.graphRef("lubm");
    const [oxigraphStore, oxigraphLoadMs] = time(() => {
      const reference = new oxigraph.Store();
      reference.load(text, { format: "application/n-triples", no_transaction: true });
      return reference;
    });
    console.log(`oxigraph load: ${oxigraphLoadMs.toFixed(0)} ms`);
    const comunica = withComunica ? new QueryEngine() : null;
    const comunicaStore = withComunica ? RdfStore.createDefault() : null;
    if (comunicaStore) for (const quad of quads) comunicaStore.addQuad(quad as RDF.Quad);

    console.log("| query | rows | ours ms | oxigraph ms | comunica ms | ours/oxigraph | ours/comunica |");
    console.log("|---|---|---|---|---|---|---|");
    let worstVsOxigraph = 0;
    let worstVsComunica = 0;
    for (const [name, body] of QUERIES) {
      const query = PREFIXES + body;
      const options = { dataset: { defaultGraph: [ref], namedGraphs: [] }, now: NOW };
      let rows = 0;
      const ours: number[] = [];
      for (let run = 0; run <= runs; run++) {
        const [result, ms] = time(() => runSparqlQuery(store, query, options));
        rows = count(result);
        if (run > 0) ours.push(ms);
      }
      const theirs: number[] = [];
      let oxigraphRows = 0;
      for (let run = 0; run <= runs; run++) {
        const [result, ms] = time(() => oxigraphStore.query(query) as unknown[]);
        oxigraphRows = result.length;
        if (run > 0) theirs.push(ms);
      }
      if (oxigraphRows !== rows)
        console.log(`  ! ${name}: oxigraph returned ${oxigraphRows} rows, we returned ${rows}`);
      let comunicaMs = Number.NaN;
      if (comunica && comunicaStore) {
        const [bindings, ms] = await timeAsync(async () =>
          (await comunica.queryBindings(query, { sources: [comunicaStore] })).toArray(),
        );
        comunicaMs = ms;
        if (bindings.length !== rows) console.log(`  ! ${name}: comunica returned ${bindings.length} rows`);
      }
      const ourMs = median(ours);
      const oxigraphMs = median(theirs);
      const vsOxigraph = ourMs / oxigraphMs;
      const vsComunica = ourMs / comunicaMs;
      worstVsOxigraph = Math.max(worstVsOxigraph, vsOxigraph);
      if (!Number.isNaN(vsComunica)) worstVsComunica = Math.max(worstVsComunica, vsComunica);
      console.log(
        `| ${name} | ${rows} | ${ourMs.toFixed(2)} | ${oxigraphMs.toFixed(2)} | ${Number.isNaN(comunicaMs) ? "-" : comunicaMs.toFixed(1)} | ${vsOxigraph.toFixed(2)} | ${Number.isNaN(vsComunica) ? "-" : vsComunica.toFixed(3)} |`,
      );
    }
    db.close();
    console.log(
      JSON.stringify({
        bench: "sparql",
        triples: quads.length,
        ingestRatio: Number((ingestRate / parseRate).toFixed(3)),
        worstVsOxigraph: Number(worstVsOxigraph.toFixed(3)),
        worstVsComunica: withComunica ? Number(worstVsComunica.toFixed(4)) : null,
        firstQueryAfterEvictionMs: Number(firstQueryMs.toFixed(1)),
      }),
    );
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

/**
 * Above this many triples the peers (which hold the whole dataset in memory) and the in-memory copies of the
 * document are left out: the dataset is generated as an N-Triples stream while it is uploaded.
 */
const PEER_TRIPLES = 2_000_000;

/** The most heap seen at any sample. */
class PeakHeap {
  peak = 0;
  sample(): void {
    this.peak = Math.max(this.peak, process.memoryUsage().heapUsed);
  }
  get megabytes(): number {
    return Math.round(this.peak / 1e5) / 10;
  }
}

/**
 * The first `triples` LUBM-like triples as an N-Triples byte stream, generated as the reader pulls (never
 * held whole). Cut at exactly `triples`: the generator overshoots a little, and `sparql 10000000` must stay
 * within the 10,000,000-triple version limit.
 */
function lubmNTriplesStream(triples: number, heap: PeakHeap): ReadableStream<Uint8Array> {
  const quads = generateLubm(triples + 10_000);
  const encoder = new TextEncoder();
  let emitted = 0;
  return new ReadableStream({
    pull(controller) {
      heap.sample();
      let text = "";
      for (let i = 0; i < 5000; i++) {
        const next = emitted < triples ? quads.next() : { done: true as const, value: undefined };
        if (next.done) {
          if (text) controller.enqueue(encoder.encode(text));
          controller.close();
          return;
        }
        emitted += 1;
        text += `${quadToNTriplesLine(next.value)}\n`;
      }
      controller.enqueue(encoder.encode(text));
    },
  });
}

/** Upload, hash, stream and query a version too large to hold in memory, on a file-backed node:sqlite store. */
async function benchLarge(triples: number, runs: number): Promise<void> {
  const heap = new PeakHeap();
  // Samples between the pages of the SQLite-sorted hash, which yields to the event loop.
  const sampler = setInterval(() => heap.sample(), 50);
  const directory = mkdtempSync(join(tmpdir(), "kgen-sparql-bench-"));
  const db = nodeSqlDatabase(join(directory, "tenant.sqlite"));
  try {
    const store = migratedQuadStore(db);
    const [committed, ingestMs] = await timeAsync(async () => {
      const upload = store.beginUpload("lubm");
      try {
        await parseRdfStream(lubmNTriplesStream(triples, heap), "application/n-triples", (quad) => upload.add(quad));
        await upload.seal({ hash: nodeSha256 });
        return upload.commit({ createdAt: "bench" });
      } finally {
        upload.close();
      }
    });
    heap.sample();
    const stored = committed.version.tripleCount;
    const [pages, freePages, pageSize] = ["page_count", "freelist_count", "page_size"].map((pragma) =>
      Number(db.all(`PRAGMA ${pragma}`)[0]?.[0]),
    ) as [number, number, number];
    // Pages freed by the hash's scratch lines stay in the file for the next write: count the used ones.
    const storedBytes = (pages - freePages) * pageSize;
    console.log(`\n## ${stored} triples (streamed N-Triples upload, peers left out above ${PEER_TRIPLES})`);
    console.log(
      `ingest (parse + store + hash): ${(ingestMs / 1000).toFixed(1)} s, ${Math.round(stored / (ingestMs / 1000)).toLocaleString("en")} triples/s; database ${(storedBytes / 1e6).toFixed(0)} MB in use (${Math.round(storedBytes / stored)} bytes/triple), file ${((pages * pageSize) / 1e6).toFixed(0)} MB`,
    );
    const [streamedBytes, streamMs] = await timeAsync(async () => {
      let bytes = 0;
      const document = await store.versionDocument("lubm", committed.version.number);
      for (const piece of document) {
        bytes += piece.length;
        heap.sample();
      }
      return bytes;
    });
    console.log(
      `canonical N-Triples stream: ${(streamedBytes / 1e6).toFixed(0)} MB in ${(streamMs / 1000).toFixed(1)} s`,
    );
    const ref = store.graphRef("lubm");
    console.log("| query | rows | ours ms |");
    console.log("|---|---|---|");
    for (const [name, body] of QUERIES) {
      const options = { dataset: { defaultGraph: [ref], namedGraphs: [] }, now: NOW };
      let rows = 0;
      const ours: number[] = [];
      for (let run = 0; run <= runs; run++) {
        const [result, ms] = time(() => runSparqlQuery(store, PREFIXES + body, options));
        rows = count(result);
        heap.sample();
        if (run > 0 || runs === 0) ours.push(ms);
      }
      console.log(`| ${name} | ${rows} | ${median(ours).toFixed(1)} |`);
    }
    console.log(
      JSON.stringify({
        bench: "sparql",
        triples: stored,
        ingestSeconds: Number((ingestMs / 1000).toFixed(1)),
        streamSeconds: Number((streamMs / 1000).toFixed(1)),
        storedBytes,
        peakHeapMB: heap.megabytes,
      }),
    );
  } finally {
    clearInterval(sampler);
    db.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

export default async function (args: string[]): Promise<void> {
  const runsIndex = args.indexOf("--runs");
  const runs = runsIndex >= 0 ? Number(args[runsIndex + 1]) : 3;
  const sizes = args
    .filter((arg, index) => /^\d+$/.test(arg) && (runsIndex < 0 || index !== runsIndex + 1))
    .map(Number);
  for (const size of sizes.length > 0 ? sizes : [100_000, 1_000_000]) {
    if (size > PEER_TRIPLES) await benchLarge(size, runs);
    else await benchSize(size, runs, !args.includes("--no-comunica"));
  }
}
