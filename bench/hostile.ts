// `npm run bench -- hostile`: the worst known case of each class of hostile input, sent to `wrangler dev`
// by one tenant while another tenant keeps calling `GET /v1/me`. For each case it prints how long the
// hostile request took, what it answered, and the other tenant's latency meanwhile; a case that answers
// 5xx, drops the connection, or leaves the server unable to answer `/v1/health` counts as a crash.
// Ends with {"bench":"hostile","cases":N,"worstMs":…,"otherTenantP99Ms":…,"idleP99Ms":…,"crashes":0}.
// Targets: crashes 0, worstMs ≤ 2,000, otherTenantP99Ms ≤ 2 × idle p99.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { callApi, createBenchTenant, type DevServer, startDevServer } from "./wrangler-dev";

const PORT = 8798;
/** A hostile request still running after this long is abandoned and counted as a stall. */
const STALL_MS = 60_000;

interface HostileCase {
  name: string;
  method: string;
  path: string;
  contentType: string;
  body: string | Uint8Array;
}

const nested = (open: string, close: string, depth: number, inner = "") =>
  `${open.repeat(depth)}${inner}${close.repeat(depth)}`;

const redosSubject = `${"a".repeat(40)}!`;
const render = (template: string, context: unknown = {}) => JSON.stringify({ template, context });
const sparql = (query: string) => `query=${encodeURIComponent(query)}`;

const CASES: HostileCase[] = [
  {
    name: "turtle: 50,000 nested collections",
    method: "PUT",
    path: "/v1/graphs/deep-collections",
    contentType: "text/turtle",
    body: `<urn:s> <urn:p> ${nested("(", ")", 50_000)} .`,
  },
  {
    name: "turtle: 50,000 nested blank-node property lists",
    method: "PUT",
    path: "/v1/graphs/deep-bnodes",
    contentType: "text/turtle",
    body: `<urn:s> <urn:p> ${nested("[ <urn:p> ", " ]", 50_000, "1")} .`,
  },
  {
    name: "json-ld: 100,000 nested objects",
    method: "PUT",
    path: "/v1/graphs/deep-jsonld",
    contentType: "application/ld+json",
    body: `{"@id":"urn:s",${'"urn:p":{'.repeat(100_000)}"@id":"urn:o"${"}".repeat(100_000)}}`,
  },
  {
    name: "turtle: invalid UTF-8",
    method: "PUT",
    path: "/v1/graphs/bad-utf8",
    contentType: "text/turtle",
    body: new Uint8Array([
      ...new TextEncoder().encode('<urn:s> <urn:p> "'),
      0xc3,
      0x28,
      ...new TextEncoder().encode('" .'),
    ]),
  },
  {
    name: "turtle: 5,000 look-alike blank nodes in a chain (canonicalization)",
    method: "PUT",
    path: "/v1/graphs/bnode-chain",
    contentType: "text/turtle",
    body: Array.from({ length: 5_000 }, (_, i) => `_:b${i} <urn:p> _:b${i + 1} .`).join("\n"),
  },
  {
    name: "turtle: 300 blank-node trees 63 deep (canonicalization)",
    method: "PUT",
    path: "/v1/graphs/bnode-forest",
    contentType: "text/turtle",
    body: Array.from({ length: 300 }, (_, i) => `<urn:s${i}> <urn:p> ${nested("[ <urn:p> ", " ]", 63, "1")} .`).join(
      "\n",
    ),
  },
  {
    name: "template: catastrophic regex (a+)+$",
    method: "POST",
    path: "/v1/render",
    contentType: "application/json",
    body: render('{{ s | replace(r/(a+)+$/, "x") }}', { s: redosSubject }),
  },
  {
    name: "template: 100-million-element split",
    method: "POST",
    path: "/v1/render",
    contentType: "application/json",
    body: render("{{ 'x'.repeat(100000000).split('') | length }}"),
  },
  {
    name: "template: 256 MB repeat",
    method: "POST",
    path: "/v1/render",
    contentType: "application/json",
    body: render("{{ 'x'.repeat(268435440) | length }}"),
  },
  {
    name: "template: doubling concat",
    method: "POST",
    path: "/v1/render",
    contentType: "application/json",
    body: render("{% set a = [1] %}{% for i in range(40) %}{% set a = a.concat(a) %}{% endfor %}{{ a | length }}"),
  },
  {
    name: "template: circular YAML alias",
    method: "POST",
    path: "/v1/render",
    contentType: "application/json",
    body: render("---\nx: &a [*a]\nto: out.txt\n---\nhi"),
  },
  {
    name: "template: billion-laughs YAML",
    method: "POST",
    path: "/v1/render",
    contentType: "application/json",
    body: render(
      `---\na: &a ["x","x","x","x","x","x","x","x","x","x"]\n${Array.from(
        { length: 9 },
        (_, i) =>
          `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10)
            .fill(`*${String.fromCharCode(97 + i)}`)
            .join(",")}]`,
      ).join("\n")}\nto: out.txt\n---\nhi`,
    ),
  },
  {
    name: "render: context nested 5,000 arrays",
    method: "POST",
    path: "/v1/render",
    contentType: "application/json",
    body: `{"template":"{{ x | dump }}","context":{"x":${nested("[", "]", 5_000)}}}`,
  },
  {
    name: "generation: params nested 5,000 arrays",
    method: "POST",
    path: "/v1/jobs",
    contentType: "application/json",
    body: `{"graph":"small","generator":"gen","params":{"x":${nested("[", "]", 5_000)}}}`,
  },
  {
    name: "sparql: REGEX (a+)+$",
    method: "POST",
    path: "/v1/graphs/small/sparql",
    contentType: "application/x-www-form-urlencoded",
    body: sparql(`SELECT ?m WHERE { BIND(REGEX("${redosSubject}", "(a+)+$") AS ?m) }`),
  },
  {
    name: "sparql: 5-way cartesian COUNT(*)",
    method: "POST",
    path: "/v1/graphs/small/sparql",
    contentType: "application/x-www-form-urlencoded",
    body: sparql("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o }"),
  },
  {
    name: "sparql: GROUP_CONCAT over a cross product",
    method: "POST",
    path: "/v1/graphs/small/sparql",
    contentType: "application/x-www-form-urlencoded",
    body: sparql(
      "SELECT (GROUP_CONCAT(STR(?c); separator=',') AS ?all) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }",
    ),
  },
  {
    name: "sparql: 10,000 nested groups",
    method: "POST",
    path: "/v1/graphs/small/sparql",
    contentType: "application/x-www-form-urlencoded",
    body: sparql(`SELECT * WHERE ${nested("{ ", " }", 10_000, "?s ?p ?o")}`),
  },
  {
    name: "shacl: sh:pattern (a+)+$",
    method: "POST",
    path: "/v1/graphs/small/validate",
    contentType: "text/turtle",
    body: `@prefix sh: <http://www.w3.org/ns/shacl#> .
<urn:shape> a sh:NodeShape ; sh:targetSubjectsOf <urn:name> ;
  sh:property [ sh:path <urn:name> ; sh:pattern "(a+)+$" ] .`,
  },
];

/** 103 triples, one of them a long string the ReDoS patterns backtrack on. */
const SMALL_GRAPH = [
  `<urn:e0> <urn:name> "${redosSubject}" .`,
  ...Array.from({ length: 102 }, (_, i) => `<urn:e${i + 1}> <urn:p${i % 7}> "v${i}" .`),
].join("\n");

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

async function timedMe(server: DevServer, token: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${server.url}/v1/me`, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(STALL_MS),
  });
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`bystander /v1/me answered ${res.status}`);
  return performance.now() - started;
}

async function healthy(server: DevServer): Promise<boolean> {
  for (let attempt = 0; attempt < 10; attempt++) {
    try {
      if ((await fetch(`${server.url}/v1/health`, { signal: AbortSignal.timeout(5_000) })).ok) return true;
    } catch {
      // restarting or hung: try again
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return false;
}

interface CaseResult {
  name: string;
  status: number | string;
  type: string;
  ms: number;
  otherLatencies: number[];
  crashed: boolean;
}

async function runCase(server: DevServer, attacker: string, bystander: string, c: HostileCase): Promise<CaseResult> {
  const started = performance.now();
  let done = false;
  const hostile = fetch(`${server.url}${c.path}`, {
    method: c.method,
    headers: { authorization: `Bearer ${attacker}`, "content-type": c.contentType },
    body: c.body,
    signal: AbortSignal.timeout(STALL_MS),
  })
    .then(async (res) => {
      const text = await res.text();
      let type = "";
      try {
        type = String((JSON.parse(text) as { type?: string }).type ?? "").replace("https://kgen.dev/problems/", "");
      } catch {
        // not JSON
      }
      return { status: res.status as number | string, type };
    })
    .catch((error: Error) => ({ status: error.name, type: "" }))
    .finally(() => {
      done = true;
    });
  const otherLatencies: number[] = [];
  while (!done) otherLatencies.push(await timedMe(server, bystander).catch(() => STALL_MS));
  const answer = await hostile;
  const ms = performance.now() - started;
  const crashed = typeof answer.status !== "number" || answer.status >= 500 || !(await healthy(server));
  return { name: c.name, ...answer, ms, otherLatencies, crashed };
}

export default async function bench(args: string[] = []): Promise<void> {
  // `--only <text>`: just the cases whose name contains the text.
  const onlyIndex = args.indexOf("--only");
  const only = onlyIndex >= 0 ? args[onlyIndex + 1] : undefined;
  const cases = only ? CASES.filter((c) => c.name.includes(only)) : CASES;
  const stateDir = mkdtempSync(join(tmpdir(), "kgen-hostile-"));
  const server = await startDevServer(stateDir, PORT);
  try {
    const tenant = (slug: string) =>
      createBenchTenant(server.url, { slug: `${slug}-${Date.now()}`, name: slug, plan: "premium" });
    const attacker = await tenant("attacker");
    const bystander = await tenant("bystander");
    await callApi(server.url, "PUT", "/v1/graphs/small", attacker, SMALL_GRAPH, "application/n-triples");
    await callApi(server.url, "PUT", "/v1/templates/gen/a.njk", attacker, "---\nto: a.txt\n---\n{{ x }}", "text/plain");

    for (let i = 0; i < 20; i++) await timedMe(server, bystander);
    const idle: number[] = [];
    for (let i = 0; i < 100; i++) idle.push(await timedMe(server, bystander));
    const idleP99Ms = percentile(idle, 99);
    console.log(`idle: bystander /v1/me p50 ${percentile(idle, 50).toFixed(1)} ms, p99 ${idleP99Ms.toFixed(1)} ms`);

    const results: CaseResult[] = [];
    for (const c of cases) {
      const result = await runCase(server, attacker, bystander, c);
      results.push(result);
      console.log(
        `${result.crashed ? "CRASH" : "ok   "} ${result.name}: ${result.status} ${result.type} in ${result.ms.toFixed(0)} ms; other tenant p99 ${percentile(result.otherLatencies, 99).toFixed(1)} ms (${result.otherLatencies.length} requests)`,
      );
    }
    const summary = {
      bench: "hostile",
      cases: results.length,
      worstMs: Math.round(Math.max(...results.map((r) => r.ms))),
      otherTenantP99Ms: Number(
        percentile(
          results.flatMap((r) => r.otherLatencies),
          99,
        ).toFixed(1),
      ),
      idleP99Ms: Number(idleP99Ms.toFixed(1)),
      crashes: results.filter((r) => r.crashed).length,
    };
    console.log(JSON.stringify(summary));
  } finally {
    server.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}
