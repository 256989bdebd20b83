// `npm run bench -- sparql-worker [triples] [--runs N]`: the same LUBM-like data and queries as
// `bench -- sparql`, but through the real stack: uploaded over HTTP into a tenant's Durable Object
// under `wrangler dev`, queried through the SPARQL Protocol endpoint, against oxigraph in this process.
// Our times include the HTTP round trip; "first query after restart" restarts wrangler dev on the same
// state, so the Durable Object and its SQLite are opened cold (a superset of an eviction).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Parser, Writer } from "n3";
import oxigraph from "oxigraph";
import { generateLubm, lubmTurtle } from "../test/support/lubm";
import { PREFIXES, QUERIES } from "./sparql";
import { callApi, createBenchTenant, startDevServer } from "./wrangler-dev";

const PORT = 8796;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

async function query(
  url: string,
  token: string,
  text: string,
): Promise<{ ms: number; serverMs: number; rows: number }> {
  const started = performance.now();
  const res = await fetch(`${url}/v1/graphs/lubm/sparql?query=${encodeURIComponent(text)}`, {
    headers: { authorization: `Bearer ${token}`, accept: "application/sparql-results+json" },
  });
  const body = (await res.json()) as { results?: { bindings: unknown[] }; detail?: string };
  const ms = performance.now() - started;
  if (!res.ok) throw new Error(`query failed: ${res.status} ${body.detail}`);
  const serverMs = Number(/query;dur=([\d.]+)/.exec(res.headers.get("server-timing") ?? "")?.[1] ?? Number.NaN);
  return { ms, serverMs, rows: body.results?.bindings.length ?? 1 };
}

export default async function bench(args: string[]): Promise<void> {
  const runsAt = args.indexOf("--runs");
  const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : 5;
  const triples = Number(args.find((arg, i) => /^\d+$/.test(arg) && args[i - 1] !== "--runs") ?? 100_000);
  const quads = [...generateLubm(triples)];
  const text = new Writer({ format: "N-Triples" }).quadsToString(quads);
  console.log(`## ${quads.length} triples (${(text.length / 1e6).toFixed(1)} MB N-Triples), ${runs} runs per query`);

  // Turtle keeps a million triples within one request body of the largest plan (N-Triples would not fit).
  const turtle = lubmTurtle(quads);
  console.log(`upload document: ${(turtle.length / 1e6).toFixed(1)} MB Turtle`);
  const parseStarted = performance.now();
  new Parser({ format: "Turtle" }).parse(turtle);
  const parseMs = performance.now() - parseStarted;
  const reference = new oxigraph.Store();
  reference.load(text, { format: "application/n-triples", no_transaction: true });

  const stateDir = mkdtempSync(join(tmpdir(), "kgen-sparql-worker-"));
  let server = await startDevServer(stateDir, PORT);
  try {
    const apiKey = await createBenchTenant(server.url, {
      slug: `sparql-${Date.now()}`,
      name: "Bench",
      plan: "enterprise",
    });
    const ingestStarted = performance.now();
    await callApi(server.url, "PUT", "/v1/graphs/lubm", apiKey, turtle, "text/turtle");
    const ingestMs = performance.now() - ingestStarted;
    const ingestRatio = parseMs / ingestMs;
    console.log(
      `ingest over HTTP (streamed into the Durable Object: parse, store, RDFC-1.0 hash): ${Math.round(quads.length / (ingestMs / 1000)).toLocaleString("en")} triples/s; n3 parse only: ${Math.round(quads.length / (parseMs / 1000)).toLocaleString("en")} triples/s; ratio ${ingestRatio.toFixed(2)}`,
    );

    let worst = 0;
    let worstServer = 0;
    console.log(
      `${"query".padEnd(28)}${"HTTP".padStart(10)}${"in DO".padStart(10)}${"oxigraph".padStart(11)}${"HTTP/ox".padStart(9)}${"DO/ox".padStart(8)}  rows`,
    );
    for (const [name, body] of QUERIES) {
      const sparql = PREFIXES + body;
      await query(server.url, apiKey, sparql);
      const ours: number[] = [];
      const inObject: number[] = [];
      let rows = 0;
      for (let i = 0; i < runs; i++) {
        const result = await query(server.url, apiKey, sparql);
        ours.push(result.ms);
        inObject.push(result.serverMs);
        rows = result.rows;
      }
      const theirs: number[] = [];
      let expected = 0;
      for (let i = 0; i < runs; i++) {
        const started = performance.now();
        const result = reference.query(sparql) as unknown[];
        theirs.push(performance.now() - started);
        expected = result.length;
      }
      // oxigraph's time has a floor of 1 ms here: the Durable Object's timing is in whole milliseconds.
      const peer = Math.max(median(theirs), 1);
      const ratio = median(ours) / peer;
      const serverRatio = median(inObject) / peer;
      worst = Math.max(worst, ratio);
      worstServer = Math.max(worstServer, serverRatio);
      const check = rows === expected ? "" : `  (oxigraph: ${expected} rows)`;
      console.log(
        `${name.padEnd(28)}${`${median(ours).toFixed(1)} ms`.padStart(10)}${`${median(inObject).toFixed(0)} ms`.padStart(10)}${`${median(theirs).toFixed(1)} ms`.padStart(11)}${ratio.toFixed(2).padStart(9)}${serverRatio.toFixed(2).padStart(8)}  ${rows}${check}`,
      );
    }

    server.stop();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    server = await startDevServer(stateDir, PORT);
    const cold = await query(
      server.url,
      apiKey,
      `${PREFIXES + (QUERIES[0] as [string, string])[1]}\n# first after restart`,
    );
    console.log(
      `first query after restarting wrangler dev (cold Durable Object and SQLite, over HTTP): ${cold.ms.toFixed(1)} ms`,
    );
    console.log(
      JSON.stringify({
        bench: "sparql-worker",
        triples: quads.length,
        ingestRatio: Number(ingestRatio.toFixed(3)),
        worstVsOxigraph: Number(worst.toFixed(3)),
        worstInObjectVsOxigraph: Number(worstServer.toFixed(3)),
        firstQueryAfterRestartMs: Number(cold.ms.toFixed(1)),
      }),
    );
  } finally {
    server.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}
