import { describe, expect, it } from "vitest";
import { nodeSqlDatabase } from "../../../cli/node-sql-database";
import { GraphService } from "../../../durable-objects/tenant/graph-service";
import {
  JobService,
  MAX_QUERIES_PER_CALL,
  MAX_ROWS_PER_CALL,
  type PinnedQueries,
} from "../../../durable-objects/tenant/job-service";
import { TENANT_SCHEMA } from "../../../durable-objects/tenant/tenant-schema";
import { sha256Hex } from "../../../shared/core/sha256";
import {
  chunkedQuerySource,
  FetchedQueryResults,
  inOrderWithFetchedQueries,
  type PinnedQueryOutcome,
  QueryPendingError,
} from "../../../shared/generate/fetched-queries";
import { kgenContext } from "../../../shared/generate/generate";
import { JobRenderer, type JobRequest } from "../../../shared/generate/job-renderer";
import { kgenPlanDependencies } from "../../../shared/generate/kgen-dependencies";
import { computeLock, deriveBuildTime } from "../../../shared/generate/lock";
import { planTemplates } from "../../../shared/generate/plan";
import { rowSemanticsOf, templateRows } from "../../../shared/generate/row-values";
import { PlanError, TemplateUnitPipeline } from "../../../shared/generate/template-unit";
import { applySchemaMigrations } from "../../../shared/sql/migrations";
import { ENGINE_VERSION } from "../../../shared/version";

const PREFIXES = "PREFIX ex: <http://example.org/> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>";
const ENTITIES = 120;
const MODEL = `@prefix ex: <http://example.org/> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
${Array.from(
  { length: ENTITIES },
  (_, i) => `ex:E${i} a ex:Entity ; rdfs:label "entity ${i}" ; ex:size ${i % 5} ; ex:field ex:F${i % 3} .`,
).join("\n")}
ex:F0 rdfs:label "id" . ex:F1 rdfs:label "name" . ex:F2 rdfs:label "total" .
`;

// Frontmatter rows, then two queries per unit whose text depends on the row (sparql() and label()), an
// include that calls label() too, a skipIf and a patch mode: every way a render reads the graph.
const TEMPLATES: Record<string, string> = {
  "entity.njk": `---
to: "out/{{ e.name | kebabCase }}.ts"
sparql: "${PREFIXES} SELECT ?iri ?name ?size WHERE { ?iri a ex:Entity ; rdfs:label ?name ; ex:size ?size } ORDER BY ?name"
foreach: e
skipIf: "e.size==4"
---
{% include "header.njk" %}
// {{ label(e.iri) }} ({{ e.size }})
{% for f in sparql("${PREFIXES} SELECT ?label WHERE { <" + e.iri + "> ex:field ?f . ?f rdfs:label ?label }") %}{{ f.label }}: {{ RAND_HINT }}
{% endfor %}`,
  "header.njk": '// {{ kgen.generator }} {{ label("http://example.org/F1") }}',
  "index.njk": `---
to: out/index.ts
append: true
sparql: "${PREFIXES} SELECT (COUNT(?e) AS ?n) WHERE { ?e a ex:Entity }"
---
export const count = {{ rows[0].n }};`,
};

async function fixture() {
  const db = nodeSqlDatabase();
  applySchemaMigrations(db, TENANT_SCHEMA);
  const graphs = new GraphService(db);
  const { version } = await graphs.ingest({
    name: "model",
    mediaType: "text/turtle",
    body: new Blob([MODEL]).stream(),
    createdAt: "2026-01-01T00:00:00.000Z",
    tripleLimit: 1_000_000,
    maxBytes: Number.POSITIVE_INFINITY,
  });
  const templates = await Promise.all(
    Object.entries(TEMPLATES).map(async ([path, source]) => ({ path, source, hash: await sha256Hex(source) })),
  );
  const lock = await computeLock({
    graph: { name: "model", version: version.version, hash: version.hash as string },
    generator: { name: "gen", templates: templates.map(({ path, hash }) => ({ path, hash })) },
    params: { RAND_HINT: "x" },
    engineVersion: ENGINE_VERSION,
    buildTime: deriveBuildTime({ graphVersionCreatedAt: version.createdAt }),
  });
  const request: JobRequest = {
    lock,
    params: { RAND_HINT: "x" },
    templates,
    limits: { maxRows: 100_000, maxSteps: 1e9 },
    maxArtifacts: 100_000,
  };
  return { graphs, request };
}

/** The pipeline reading the store synchronously, as it ran inside the tenant object before rendering moved out. */
function inObjectPlan(graphs: GraphService, request: JobRequest) {
  const { lock } = request;
  const deps = kgenPlanDependencies({
    templates: request.templates,
    buildTime: lock.buildTime,
    params: request.params,
    runQuery: (sparql) =>
      templateRows(
        graphs.select(lock.graph.name, lock.graph.version as number, sparql, lock.buildTime, request.limits),
        rowSemanticsOf(lock.engineVersion),
      ),
  });
  const pipeline = new TemplateUnitPipeline(deps, { params: request.params, kgen: kgenContext(lock) });
  return planTemplates(pipeline, request.templates, request.maxArtifacts);
}

/** JobService.renderer, with every jobQueries call it makes recorded. */
function recordedRenderer(graphs: GraphService, request: JobRequest) {
  const jobs = new JobService(graphs);
  const calls: { asked: number; answered: number; rows: number }[] = [];
  const { lock, limits } = request;
  const pinned = { graph: lock.graph.name, version: lock.graph.version as number, buildTime: lock.buildTime, limits };
  const source = chunkedQuerySource(MAX_QUERIES_PER_CALL, (queries) => {
    const { results } = jobs.queries({ ...pinned, queries } satisfies PinnedQueries);
    const rows = results.reduce((sum, outcome) => sum + (outcome.ok ? outcome.rows.length : 0), 0);
    calls.push({ asked: queries.length, answered: results.length, rows });
    return results;
  });
  return { renderer: new JobRenderer(request), source, calls };
}

const fingerprint = (
  artifacts: { path: string; mode: string; sha256: string; content: string; dependencies: unknown }[],
) => artifacts.map(({ path, mode, sha256, content, dependencies }) => ({ path, mode, sha256, content, dependencies }));

describe("JobRenderer: rendering outside the tenant object", () => {
  it("writes byte for byte what the in-object pipeline wrote, with the same recorded dependencies", async () => {
    const { graphs, request } = await fixture();
    const expected = await inObjectPlan(graphs, request);
    const { renderer, source, calls } = recordedRenderer(graphs, request);
    const rendered = await renderer.renderAll(source);
    expect(rendered.artifacts.length).toBeGreaterThan(ENTITIES / 2);
    expect(fingerprint(rendered.artifacts)).toEqual(fingerprint(expected.artifacts));
    expect(rendered.skipped).toEqual(expected.skipped);
    // Every call stays within the bound; the queries of a round go together, not one call per query.
    for (const call of calls) expect(call.asked).toBeLessThanOrEqual(MAX_QUERIES_PER_CALL);
    const distinctQueries = new Set(rendered.artifacts.flatMap((a) => a.dependencies.map((d) => d.query))).size;
    expect(calls.length).toBeLessThan(distinctQueries / 4);
  });

  it("renders queue batches that together are the whole plan, counting units without rendering", async () => {
    const { graphs, request } = await fixture();
    const first = recordedRenderer(graphs, request);
    const whole = await first.renderer.renderAll(first.source);
    const { renderer, source, calls } = recordedRenderer(graphs, request);
    const { units, batches } = await renderer.count(50, source);
    expect(units).toBe(ENTITIES + 1);
    expect(batches.map((b) => [b.template, b.start, b.end])).toEqual([
      ["entity.njk", 0, 50],
      ["entity.njk", 50, 100],
      ["entity.njk", 100, 120],
      ["index.njk", 0, 1],
    ]);
    // Counting runs the frontmatter queries only, in one call.
    expect(calls).toHaveLength(1);
    const parts = [];
    for (const batch of [...batches].reverse()) parts.push(...(await renderer.renderBatch(batch, source)).artifacts);
    const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
    expect(fingerprint(parts.sort(byPath))).toEqual(fingerprint([...whole.artifacts].sort(byPath)));
  });

  it("hands control back between units when asked to, and renders the same bytes", async () => {
    const { graphs, request } = await fixture();
    const { source } = recordedRenderer(graphs, request);
    let turns = 0;
    const yielding = new JobRenderer(request, {
      betweenUnits: async () => {
        turns++;
      },
    });
    const batch = { template: "entity.njk", start: 0, end: 50 };
    const rendered = await yielding.renderBatch(batch, source);
    // Before each unit after the first, in every round (two rounds: the label() and sparql() results).
    expect(turns).toBeGreaterThanOrEqual(49);
    const plain = recordedRenderer(graphs, request);
    expect(fingerprint(rendered.artifacts)).toEqual(
      fingerprint((await plain.renderer.renderBatch(batch, plain.source)).artifacts),
    );
  });

  it("reports a failed query as the render's error, as the in-object pipeline did", async () => {
    const { graphs, request } = await fixture();
    const broken = {
      ...request,
      templates: [
        {
          path: "bad.njk",
          hash: "0".repeat(64),
          source: '---\nto: bad.txt\n---\n{{ sparql("SELECT ?x WHERE { ?x ?y }") | length }}',
        },
      ],
    };
    const expected = (await inObjectPlan(graphs, broken).catch((error: unknown) => error)) as PlanError;
    const { renderer, source } = recordedRenderer(graphs, broken);
    const actual = (await renderer.renderAll(source).catch((error: unknown) => error)) as PlanError;
    expect(expected).toBeInstanceOf(PlanError);
    expect(actual).toBeInstanceOf(PlanError);
    expect({ code: actual.code, template: actual.template }).toEqual({
      code: expected.code,
      template: expected.template,
    });
    expect(actual.message).toContain("bad.njk: rendering the body failed");
  });
});

describe("jobQueries: the bound of one call", () => {
  it("answers at most MAX_QUERIES_PER_CALL queries, stops once MAX_ROWS_PER_CALL rows are answered, and answers failures as data", async () => {
    const { graphs, request } = await fixture();
    const jobs = new JobService(graphs);
    const { lock, limits } = request;
    const pinned = { graph: "model", version: lock.graph.version as number, buildTime: lock.buildTime, limits };
    expect(() => jobs.queries({ ...pinned, queries: [] })).toThrow(RangeError);
    expect(() =>
      jobs.queries({ ...pinned, queries: Array.from({ length: MAX_QUERIES_PER_CALL + 1 }, () => "SELECT * {}") }),
    ).toThrow(RangeError);
    const all = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }";
    const triples = ENTITIES * 4 + 3;
    const perCall = Math.ceil(MAX_ROWS_PER_CALL / triples);
    const { results } = jobs.queries({
      ...pinned,
      queries: Array.from({ length: perCall + 3 }, (_, i) => `${all} LIMIT ${100_000 + i}`),
    });
    expect(results).toHaveLength(perCall);
    const tiny = jobs.queries({ ...pinned, queries: ["SELECT ?x WHERE { ?x ?y }", "SELECT (1 AS ?one) {}"] });
    expect(tiny.results[0]).toMatchObject({ ok: false, failure: { status: 400, refusal: false } });
    expect(tiny.results[1]).toMatchObject({ ok: true, rows: [{ one: { value: "1" } }] });
    const limited = new JobService(graphs).queries({
      ...pinned,
      limits: { maxRows: 10, maxSteps: 1e9 },
      queries: [all],
    });
    expect(limited.results[0]).toMatchObject({ ok: false, failure: { type: "query-result-limit", refusal: true } });
  });
});

describe("inOrderWithFetchedQueries", () => {
  const source = (answers: Record<string, number>, calls: string[][]) => async (queries: readonly string[]) => {
    calls.push([...queries]);
    const out = new Map<string, PinnedQueryOutcome>();
    for (const query of queries) {
      out.set(query, {
        ok: true,
        rows: [
          {
            n: {
              termType: "Literal",
              value: String(answers[query]),
              datatype: "http://www.w3.org/2001/XMLSchema#integer",
              language: "",
            },
          },
        ],
      });
    }
    return out;
  };

  it("fetches what a round's stopped steps asked for in one call, and accepts results in step order", async () => {
    const calls: string[][] = [];
    const fetchFrom = source({ a: 1, b: 2, c: 3 }, calls);
    const results = new FetchedQueryResults("typed");
    const accepted: [number, number][] = [];
    // Step i reads query "a", then (for odd i) "b", then (for i = 3) "c".
    await inOrderWithFetchedQueries(
      5,
      async (i) => {
        let sum = results.runQuery("a")[0]?.n as number;
        if (i % 2 === 1) sum += results.runQuery("b")[0]?.n as number;
        if (i === 3) sum += results.runQuery("c")[0]?.n as number;
        return sum;
      },
      (value, index) => accepted.push([index, value]),
      results,
      fetchFrom,
    );
    expect(accepted).toEqual([
      [0, 1],
      [1, 3],
      [2, 1],
      [3, 6],
      [4, 1],
    ]);
    expect(calls).toEqual([["a"], ["b"], ["c"]]);
  });

  it("throws the first error in step order, as a sequential run would, not the first one met", async () => {
    const calls: string[][] = [];
    const fetchFrom = source({ a: 1 }, calls);
    const results = new FetchedQueryResults("typed");
    const attempt = async (i: number) => {
      if (i === 0) results.runQuery("a");
      if (i === 0) throw new Error("step 0");
      throw new Error(`step ${i}`);
    };
    await expect(inOrderWithFetchedQueries(3, attempt, () => {}, results, fetchFrom)).rejects.toThrow("step 0");
    expect(calls).toEqual([["a"]]);
  });

  it("stops with QueryPendingError until a result is fetched, and never asks twice for one query", async () => {
    const calls: string[][] = [];
    const fetchFrom = source({ a: 1 }, calls);
    const results = new FetchedQueryResults("typed");
    expect(() => results.runQuery("a")).toThrow(QueryPendingError);
    await Promise.all([results.fetch(["a"], fetchFrom), results.fetch(["a"], fetchFrom)]);
    await results.fetch(["a"], fetchFrom);
    expect(results.runQuery("a")).toEqual([{ n: 1, $terms: expect.any(Object) }]);
    expect(calls).toEqual([["a"]]);
  });
});
