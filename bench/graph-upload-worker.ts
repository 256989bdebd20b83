// `npm run bench -- graph-upload-worker [triples] [--part-mb N] [--minutes M]`: one large LUBM-like graph
// uploaded through `wrangler dev` into an enterprise tenant's Durable Object. One request body is bounded
// by the plan's `maxRequestBodyBytes`, so the data goes up in Turtle parts of at most N MB: the first
// replaces the graph (PUT, streamed into the object), the others merge into it (Graph Store POST), each a
// new version; a merge's part is also kept within the RPC argument limit (below). With `--minutes`, no
// part is sent after M minutes. Then what was sent is checked: the latest version's triple count and
// hash, its canonical N-Triples streamed and counted line by line, and one selective query. Peak memory is the whole workerd process's (VmHWM), an upper bound
// for the Durable Object's isolate; bytes stored are the Durable Object's SQLite files in the state dir.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { type IncomingMessage, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type * as RDF from "@rdfjs/types";
import { Writer } from "n3";
import { MAX_CHANGE_BYTES } from "../shared/contracts/graphs";
import { generateLubm, lubmTurtle } from "../test/support/lubm";
import { PREFIXES, QUERIES } from "./sparql";
import { callApi, createBenchTenant, startDevServer } from "./wrangler-dev";

const PORT = 8853;
const GRAPH = "lubm";
const MB = 1e6;
/** Triples serialized once to learn the data's bytes per triple in Turtle and N-Triples, which size the parts. */
const CALIBRATION_TRIPLES = 100_000;
/**
 * A merge carries at most MAX_CHANGE_BYTES of N-Triples (one RPC argument to the Durable Object); the
 * margin covers the longer IRIs of later departments.
 */
const MERGE_NTRIPLES_BYTES = 0.9 * MAX_CHANGE_BYTES;

interface VersionView {
  version: number;
  hash: string | null;
  triples: number;
}

/**
 * One HTTP request without client-side timeouts: a merge into a version of millions of triples answers
 * only after minutes of hashing, longer than `fetch`'s default wait for response headers.
 */
function send(url: string, method: string, headers: Record<string, string>, body?: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(body);
    const req = request(
      url,
      { method, headers: payload ? { ...headers, "content-length": String(payload.byteLength) } : headers },
      resolve,
    );
    req.on("error", reject);
    req.end(payload);
  });
}

async function readText(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

async function expectOk(response: IncomingMessage, what: string): Promise<string> {
  const text = await readText(response);
  if ((response.statusCode ?? 0) >= 300) throw new Error(`${what}: ${response.statusCode} ${text}`);
  return text;
}

/** The generator cut into consecutive parts (the first of `firstPart` triples, then `mergePart`), never all held at once. */
function* parts(triples: number, firstPart: number, mergePart: number): Generator<RDF.Quad[]> {
  let part: RDF.Quad[] = [];
  let limit = firstPart;
  for (const quad of generateLubm(triples)) {
    part.push(quad);
    if (part.length >= limit) {
      yield part;
      part = [];
      limit = mergePart;
    }
  }
  if (part.length > 0) yield part;
}

/** A part as Turtle within `maxBytes`, split in halves while its document would be larger. */
function* documents(quads: RDF.Quad[], maxBytes: number): Generator<{ turtle: string; triples: number }> {
  const turtle = lubmTurtle(quads);
  if (Buffer.byteLength(turtle) <= maxBytes || quads.length < 2) {
    yield { turtle, triples: quads.length };
    return;
  }
  const half = Math.ceil(quads.length / 2);
  yield* documents(quads.slice(0, half), maxBytes);
  yield* documents(quads.slice(half), maxBytes);
}

/** The workerd processes wrangler started (descendants of its process group leader). */
function workerdProcesses(leader: number): number[] {
  const parents = new Map<number, number>();
  const names = new Map<number, string>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      names.set(Number(entry), stat.slice(stat.indexOf("(") + 1, close));
      parents.set(Number(entry), Number(stat.slice(close + 2).split(" ")[1]));
    } catch {
      // the process ended while the table was read
    }
  }
  const isDescendant = (pid: number): boolean => {
    for (let at = parents.get(pid); at !== undefined && at > 1; at = parents.get(at)) if (at === leader) return true;
    return false;
  };
  return [...names].filter(([pid, name]) => name === "workerd" && isDescendant(pid)).map(([pid]) => pid);
}

/** A process's peak resident set (VmHWM), in bytes. */
function peakResidentBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/** Bytes of the Durable Objects' SQLite files (database, WAL, shared memory) under the state dir. */
function durableObjectFileBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += durableObjectFileBytes(path);
    else if (/\.sqlite(-wal|-shm)?$/.test(entry.name)) total += statSync(path).size;
  }
  return total;
}

/** Streams a version's canonical N-Triples and counts its lines and bytes without keeping them. */
async function countNTriples(url: string, apiKey: string, version: number) {
  const response = await send(`${url}/v1/graphs/${GRAPH}/versions/${version}`, "GET", {
    authorization: `Bearer ${apiKey}`,
    accept: "application/n-triples",
  });
  if (response.statusCode !== 200) throw new Error(`stream: ${response.statusCode} ${await readText(response)}`);
  let lines = 0;
  let bytes = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    bytes += chunk.byteLength;
    for (let at = chunk.indexOf(10); at >= 0; at = chunk.indexOf(10, at + 1)) lines++;
  }
  return { lines, bytes };
}

async function timedQuery(url: string, apiKey: string, sparql: string) {
  const started = performance.now();
  const response = await send(`${url}/v1/graphs/${GRAPH}/sparql?query=${encodeURIComponent(sparql)}`, "GET", {
    authorization: `Bearer ${apiKey}`,
    accept: "application/sparql-results+json",
  });
  const body = JSON.parse(await expectOk(response, "query")) as { results: { bindings: unknown[] } };
  return { ms: performance.now() - started, rows: body.results.bindings.length };
}

export default async function bench(args: string[]): Promise<void> {
  const partMbAt = args.indexOf("--part-mb");
  const partBytes = (partMbAt >= 0 ? Number(args[partMbAt + 1]) : 90) * MB;
  const minutesAt = args.indexOf("--minutes");
  const budgetMs = minutesAt >= 0 ? Number(args[minutesAt + 1]) * 60_000 : Number.POSITIVE_INFINITY;
  const triples = Number(
    args.find((arg, i) => /^\d+$/.test(arg) && !["--part-mb", "--minutes"].includes(args[i - 1] ?? "")) ?? 10_000_000,
  );
  console.log(
    `## ${triples.toLocaleString("en")} LUBM-like triples asked, Turtle parts of at most ${partBytes / MB} MB`,
  );

  const stateDir = mkdtempSync(join(tmpdir(), "kgen-graph-upload-"));
  // The Worker's logs outlive the state dir, for a run that fails.
  const logFile = `${stateDir}.wrangler.log`;
  console.log(`wrangler dev output: ${logFile}`);
  const server = await startDevServer(stateDir, PORT, { logFile });
  try {
    const workerd = workerdProcesses(server.processGroup);
    if (workerd.length === 0) throw new Error("no workerd process under wrangler dev");
    const apiKey = await createBenchTenant(server.url, {
      slug: `upload-${Date.now()}`,
      name: "Bench",
      plan: "enterprise",
    });
    const auth = { authorization: `Bearer ${apiKey}` };
    const latest = async (): Promise<VersionView> =>
      JSON.parse(
        await expectOk(
          await send(`${server.url}/v1/graphs/${GRAPH}`, "GET", { ...auth, accept: "application/json" }),
          "latest",
        ),
      );

    const sample = [...generateLubm(CALIBRATION_TRIPLES)];
    const turtleBytesPerTriple = Buffer.byteLength(lubmTurtle(sample)) / sample.length;
    const ntriplesBytesPerTriple =
      Buffer.byteLength(new Writer({ format: "N-Triples" }).quadsToString(sample)) / sample.length;
    // Parts of different departments declare different prefixes: a margin keeps most within the bound.
    const firstPart = Math.floor((partBytes * 0.95) / turtleBytesPerTriple);
    const mergePart = Math.min(firstPart, Math.floor(MERGE_NTRIPLES_BYTES / ntriplesBytesPerTriple));
    console.log(
      `parts: the first (PUT, streamed) ${firstPart.toLocaleString("en")} triples, merges (POST) ${mergePart.toLocaleString("en")} (${turtleBytesPerTriple.toFixed(1)} bytes/triple in Turtle, ${ntriplesBytesPerTriple.toFixed(1)} in N-Triples)`,
    );
    let sent = 0;
    let partCount = 0;
    let uploadMs = 0;
    let version: VersionView | undefined;
    const started = performance.now();
    upload: for (const quads of parts(triples, firstPart, mergePart)) {
      for (const document of documents(quads, partBytes)) {
        partCount++;
        const method = partCount === 1 ? "PUT" : "POST";
        const path = partCount === 1 ? `/v1/graphs/${GRAPH}` : `/v1/graphs/${GRAPH}/store?default`;
        const requestStarted = performance.now();
        const response = await send(
          `${server.url}${path}`,
          method,
          { ...auth, "content-type": "text/turtle" },
          document.turtle,
        );
        await expectOk(response, `part ${partCount} (${method})`);
        const ms = performance.now() - requestStarted;
        uploadMs += ms;
        sent += document.triples;
        version = await latest();
        // Figures so far, for a run stopped before its end.
        const peakSoFar = Math.max(...workerd.map(peakResidentBytes));
        console.log(
          `part ${partCount} (${method}): ${document.triples.toLocaleString("en")} triples, ${(Buffer.byteLength(document.turtle) / MB).toFixed(1)} MB Turtle, ${(ms / 1000).toFixed(1)} s → version ${version.version}: ${version.triples.toLocaleString("en")} triples (${sent.toLocaleString("en")} sent); ${((performance.now() - started) / 1000).toFixed(0)} s wall, workerd peak ${(peakSoFar / MB).toFixed(0)} MB, SQLite files ${(durableObjectFileBytes(join(stateDir, "v3", "do")) / MB).toFixed(0)} MB`,
        );
        if (performance.now() - started > budgetMs) {
          console.log(`stopped after ${budgetMs / 60_000} minutes: the rest is not sent`);
          break upload;
        }
      }
    }
    const wallMs = performance.now() - started;
    if (!version) throw new Error("nothing was generated");
    const peakRssBytes = Math.max(...workerd.map(peakResidentBytes));
    const fileBytes = durableObjectFileBytes(join(stateDir, "v3", "do"));
    const usage = await callApi(server.url, "GET", "/v1/usage", apiKey);
    const databaseBytes: number = usage.storage.tenantDatabaseBytes;
    console.log(
      `upload: ${partCount} parts, ${(uploadMs / 1000).toFixed(0)} s in requests (${(wallMs / 1000).toFixed(0)} s wall with generating the parts), ${Math.round(version.triples / (uploadMs / 1000)).toLocaleString("en")} triples/s`,
    );
    console.log(
      `workerd peak resident memory (VmHWM, whole process, pid ${workerd.join(",")}): ${(peakRssBytes / MB).toFixed(0)} MB`,
    );
    console.log(
      `stored: Durable Object SQLite files ${(fileBytes / MB).toFixed(0)} MB; GET /v1/usage tenantDatabaseBytes ${(databaseBytes / MB).toFixed(0)} MB (${(databaseBytes / version.triples).toFixed(0)} bytes/triple)`,
    );
    console.log(`latest: version ${version.version}, ${version.triples.toLocaleString("en")} triples, ${version.hash}`);

    const streamStarted = performance.now();
    const stream = await countNTriples(server.url, apiKey, version.version);
    console.log(
      `canonical N-Triples of version ${version.version}: ${stream.lines.toLocaleString("en")} lines, ${(stream.bytes / MB).toFixed(0)} MB in ${((performance.now() - streamStarted) / 1000).toFixed(0)} s${stream.lines === version.triples ? "" : ` (MISMATCH: version reports ${version.triples})`}`,
    );
    const [name, body] = QUERIES[0] as [string, string];
    const first = await timedQuery(server.url, apiKey, PREFIXES + body);
    const again = await timedQuery(server.url, apiKey, PREFIXES + body);
    console.log(
      `${name}: ${first.ms.toFixed(0)} ms first, ${again.ms.toFixed(0)} ms again over HTTP, ${first.rows} rows`,
    );
    console.log(
      JSON.stringify({
        bench: "graph-upload-worker",
        triples: version.triples,
        parts: partCount,
        seconds: Math.round(uploadMs / 1000),
        triplesPerSecond: Math.round(version.triples / (uploadMs / 1000)),
        peakRssMb: Math.round(peakRssBytes / MB),
        storedBytes: databaseBytes,
        ntriplesLines: stream.lines,
      }),
    );
  } finally {
    server.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}
