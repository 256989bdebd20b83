import { describe, expect, it } from "vitest";
import { nodeSqlDatabase } from "../../../cli/node-sql-database";
import { GraphService } from "../../../durable-objects/tenant/graph-service";
import { JobService } from "../../../durable-objects/tenant/job-service";
import { TENANT_SCHEMA } from "../../../durable-objects/tenant/tenant-schema";
import { sha256Hex } from "../../../shared/core/sha256";
import {
  computeImpact,
  ImpactBudgetExceededError,
  type ImpactLimits,
  type ImpactSide,
} from "../../../shared/generate/impact";
import type { JobRequest } from "../../../shared/generate/job-renderer";
import { computeLock, deriveBuildTime } from "../../../shared/generate/lock";
import { applySchemaMigrations } from "../../../shared/sql/migrations";
import { ENGINE_VERSION } from "../../../shared/version";
import { problemFromDomainError } from "../../../workers/problems/domain-problems";

const EX = "http://example.org/";
const LABEL = "http://www.w3.org/2000/01/rdf-schema#label";
const PREFIXES = "PREFIX ex: <http://example.org/> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>";

const entity = (i: number, name = `entity ${i}`, size = i, category = i % 2) =>
  [
    `<${EX}E${i}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <${EX}Entity> .`,
    `<${EX}E${i}> <${LABEL}> "${name}" .`,
    `<${EX}E${i}> <${EX}size> "${size}"^^<http://www.w3.org/2001/XMLSchema#integer> .`,
    `<${EX}E${i}> <${EX}category> <${EX}C${category}> .`,
  ].join("\n");

const MODEL = [
  ...Array.from({ length: 6 }, (_, i) => entity(i)),
  `<${EX}C0> <${LABEL}> "even" .`,
  `<${EX}C1> <${LABEL}> "odd" .`,
  `<${EX}Config> <${EX}version> "1.0" .`,
  `<${EX}Other> <${EX}note> "unread" .`,
].join("\n");

// One file per entity (its row, and its category's label through label()), an index of names (the whole
// frontmatter result through `rows`), and a file that only a sparql() global reads.
const TEMPLATES: Record<string, string> = {
  "entity.njk": `---
to: "out/{{ e.name | kebabCase }}.ts"
sparql: "${PREFIXES} SELECT ?iri ?name ?size ?cat WHERE { ?iri a ex:Entity ; rdfs:label ?name ; ex:size ?size ; ex:category ?cat } ORDER BY ?name"
foreach: e
---
export const {{ e.name | camelCase }} = { size: {{ e.size }}, category: "{{ label(e.cat) }}" };`,
  "index.njk": `---
to: out/index.ts
sparql: "${PREFIXES} SELECT ?name WHERE { ?iri a ex:Entity ; rdfs:label ?name } ORDER BY ?name"
---
{% for row in rows %}export * from "./{{ row.name | kebabCase }}";
{% endfor %}`,
  "version.njk": `---
to: VERSION
---
{% for c in sparql("${PREFIXES} SELECT ?v WHERE { ex:Config ex:version ?v }") %}{{ c.v }}{% endfor %}`,
};

const ABOUT = `---
to: ABOUT
---
built from graph version {{ kgen.graph.version }}`;

const LIMITS: ImpactLimits = {
  maxArtifacts: 10_000,
  maxQueries: 1_000,
  maxRows: 100_000,
  query: { maxRows: 100_000, maxSteps: 1e9 },
};

async function templatesOf(sources: Record<string, string>) {
  return Promise.all(
    Object.entries(sources).map(async ([path, source]) => ({ path, source, hash: await sha256Hex(source) })),
  );
}

async function fixture(edit: { add?: string; remove?: string }, sources: Record<string, string> = TEMPLATES) {
  const db = nodeSqlDatabase();
  applySchemaMigrations(db, TENANT_SCHEMA);
  const graphs = new GraphService(db);
  await graphs.ingest({
    name: "model",
    mediaType: "application/n-triples",
    body: new Blob([MODEL]).stream(),
    createdAt: "2026-01-01T00:00:00.000Z",
    tripleLimit: 1_000_000,
    maxBytes: Number.POSITIVE_INFINITY,
  });
  await graphs.patch({
    name: "model",
    add: edit.add ?? "",
    remove: edit.remove ?? "",
    createdAt: "2026-02-01T00:00:00.000Z",
    tripleLimit: 1_000_000,
  });
  const templates = await templatesOf(sources);
  const jobs = new JobService(graphs);
  const requestAt = async (version: number, params: Record<string, unknown> = {}): Promise<JobRequest> => {
    const pinned = graphs.version("model", version);
    const lock = await computeLock({
      graph: { name: "model", version, hash: pinned.hash as string },
      generator: { name: "gen", templates: templates.map(({ path, hash }) => ({ path, hash })) },
      params,
      engineVersion: ENGINE_VERSION,
      buildTime: deriveBuildTime({ graphVersionCreatedAt: pinned.createdAt }),
    });
    return { lock, params, templates, limits: LIMITS.query, maxArtifacts: LIMITS.maxArtifacts };
  };
  const side = (request: JobRequest): ImpactSide => ({
    lock: request.lock,
    templates: request.templates,
    params: request.params,
    source: jobs.querySource(request),
  });
  return { graphs, jobs, requestAt, side };
}

/** Generates the job at both versions for real, predicts with computeImpact, and returns both. */
async function predictAndGenerate(edit: { add?: string; remove?: string }, sources?: Record<string, string>) {
  const { jobs, requestAt, side } = await fixture(edit, sources);
  const [old, current] = [await requestAt(1), await requestAt(2)];
  const before = await jobs.renderAll(old);
  const after = await jobs.renderAll(current);
  const report = await computeImpact({
    baseline: side(old),
    target: side(current),
    artifacts: before.artifacts.map((artifact) => ({
      path: artifact.path,
      templatePath: artifact.template.path,
      templateHash: artifact.template.hash,
      dependencies: artifact.dependencies,
    })),
    limits: LIMITS,
  });
  const oldBytes = new Map(before.artifacts.map((artifact) => [artifact.path, artifact.sha256]));
  const newBytes = new Map(after.artifacts.map((artifact) => [artifact.path, artifact.sha256]));
  const actual: Record<string, string> = {};
  for (const [path, sha] of oldBytes) {
    const now = newBytes.get(path);
    if (now === undefined) actual[path] = "removed";
    else if (now !== sha) actual[path] = "changed";
  }
  for (const path of newBytes.keys()) if (!oldBytes.has(path)) actual[path] = "added";
  const predicted: Record<string, string> = {};
  for (const impact of report.artifacts) if (impact.status !== "unchanged") predicted[impact.path] = impact.status;
  return { report, predicted, actual };
}

const CORPUS: { name: string; edit: { add?: string; remove?: string }; expected: Record<string, string> }[] = [
  {
    name: "change one literal of one entity",
    edit: { remove: entity(2), add: entity(2, "entity 2", 42) },
    expected: { "out/entity-2.ts": "changed" },
  },
  {
    name: "rename a label used in file paths",
    edit: { remove: entity(3), add: entity(3, "renamed") },
    expected: { "out/entity-3.ts": "removed", "out/renamed.ts": "added", "out/index.ts": "changed" },
  },
  {
    name: "add an entity that foreach fans out to",
    edit: { add: entity(9) },
    expected: { "out/entity-9.ts": "added", "out/index.ts": "changed" },
  },
  {
    name: "delete an entity",
    edit: { remove: entity(4) },
    expected: { "out/entity-4.ts": "removed", "out/index.ts": "changed" },
  },
  {
    name: "change a triple no template reads",
    edit: { remove: `<${EX}Other> <${EX}note> "unread" .`, add: `<${EX}Other> <${EX}note> "still unread" .` },
    expected: {},
  },
  {
    name: "change a triple only a sparql() global reads",
    edit: { remove: `<${EX}Config> <${EX}version> "1.0" .`, add: `<${EX}Config> <${EX}version> "2.0" .` },
    expected: { VERSION: "changed" },
  },
  {
    name: "change a label that label() reads for some entities",
    edit: { remove: `<${EX}C1> <${LABEL}> "odd" .`, add: `<${EX}C1> <${LABEL}> "uneven" .` },
    expected: { "out/entity-1.ts": "changed", "out/entity-3.ts": "changed", "out/entity-5.ts": "changed" },
  },
];

describe("computeImpact: predicted changes are exactly the bytes that change", () => {
  for (const { name, edit, expected } of CORPUS) {
    it(name, async () => {
      const { predicted, actual } = await predictAndGenerate(edit);
      expect(actual).toEqual(expected);
      expect(predicted).toEqual(actual);
    });
  }

  it("a template reading kgen changes with every version, and only it", async () => {
    const { predicted, actual, report } = await predictAndGenerate(
      { remove: `<${EX}Other> <${EX}note> "unread" .`, add: `<${EX}Other> <${EX}note> "x" .` },
      { ...TEMPLATES, "about.njk": ABOUT },
    );
    expect(actual).toEqual({ ABOUT: "changed" });
    expect(predicted).toEqual(actual);
    expect(report.artifacts.find((impact) => impact.path === "ABOUT")?.reasons).toEqual([
      { kind: "environment", reads: ["kgen"] },
    ]);
  });
});

describe("computeImpact: a foreach template that also reads the whole result", () => {
  // `to:` reads only the row, so only changed rows are re-planned; the body lists every name through `rows`.
  const SIBLINGS = `---
to: "siblings/{{ e.name | kebabCase }}.txt"
sparql: "${PREFIXES} SELECT ?name WHERE { ?iri a ex:Entity ; rdfs:label ?name } ORDER BY ?name"
foreach: e
---
{{ e.name }}:{% for r in rows %} {{ r.name }}{% endfor %}`;
  const sources = { "siblings.njk": SIBLINGS };

  it("an added entity changes every file that lists the names, and adds its own", async () => {
    const { predicted, actual, report } = await predictAndGenerate({ add: entity(9) }, sources);
    expect(Object.keys(actual)).toHaveLength(7);
    expect(actual["siblings/entity-9.txt"]).toBe("added");
    expect(predicted).toEqual(actual);
    expect(report.work.pathRenders).toBe(1);
  });

  it("a size change, which the query does not select, changes nothing", async () => {
    const { predicted, actual } = await predictAndGenerate(
      { remove: entity(2), add: entity(2, "entity 2", 42) },
      sources,
    );
    expect(actual).toEqual({});
    expect(predicted).toEqual({});
  });
});

describe("computeImpact: reasons and risk", () => {
  it("a changed literal names its row, before and after, and is breaking (the old row is gone)", async () => {
    const { report } = await predictAndGenerate(CORPUS[0]?.edit ?? {});
    const impact = report.artifacts.find((candidate) => candidate.path === "out/entity-2.ts");
    expect(impact?.risk).toBe("breaking");
    expect(impact?.reasons).toEqual([
      expect.objectContaining({
        kind: "row",
        binding: "e",
        before: expect.objectContaining({ name: "entity 2", size: "2" }),
        after: expect.objectContaining({ name: "entity 2", size: "42" }),
      }),
    ]);
    expect(report.summary).toMatchObject({ changed: 1, added: 0, removed: 0, breaking: 1, unchanged: 7 });
  });

  it("an added entity: the index's query gains a row (additive), the new file is added", async () => {
    const { report } = await predictAndGenerate(CORPUS[2]?.edit ?? {});
    const index = report.artifacts.find((candidate) => candidate.path === "out/index.ts");
    expect(index?.risk).toBe("additive");
    expect(index?.reasons).toEqual([
      expect.objectContaining({
        kind: "query",
        rowsAddedCount: 1,
        rowsRemovedCount: 0,
        rowsAdded: [{ name: "entity 9" }],
      }),
    ]);
    expect(report.summary).toMatchObject({ added: 1, changed: 1, additive: 2, breaking: 0 });
  });

  it("a deleted entity is a removed file, breaking", async () => {
    const { report } = await predictAndGenerate(CORPUS[3]?.edit ?? {});
    expect(report.artifacts.find((candidate) => candidate.path === "out/entity-4.ts")).toMatchObject({
      status: "removed",
      risk: "breaking",
    });
  });

  it("other params change every artifact, with a params reason", async () => {
    const { jobs, requestAt, side } = await fixture({});
    const old = await requestAt(1);
    const before = await jobs.renderAll(old);
    const report = await computeImpact({
      baseline: side(old),
      target: side(await requestAt(1, { flag: true })),
      artifacts: before.artifacts.map((artifact) => ({
        path: artifact.path,
        templatePath: artifact.template.path,
        templateHash: artifact.template.hash,
        dependencies: artifact.dependencies,
      })),
      limits: LIMITS,
    });
    expect(report.summary.changed).toBe(before.artifacts.length);
    expect(report.artifacts.every((impact) => impact.reasons.some((reason) => reason.kind === "params"))).toBe(true);
  });
});

describe("computeImpact: bounded", () => {
  async function reportWith(limits: Partial<ImpactLimits>) {
    const { jobs, requestAt, side } = await fixture({ add: entity(9) });
    const old = await requestAt(1);
    const before = await jobs.renderAll(old);
    return computeImpact({
      baseline: side(old),
      target: side(await requestAt(2)),
      artifacts: before.artifacts.map((artifact) => ({
        path: artifact.path,
        templatePath: artifact.template.path,
        templateHash: artifact.template.hash,
        dependencies: artifact.dependencies,
      })),
      limits: { ...LIMITS, ...limits },
    });
  }

  it("runs each distinct query once per version", async () => {
    const report = await reportWith({});
    // Frontmatter queries and the sparql() global at both versions, label() of both categories at the target.
    expect(report.work.queries).toBeLessThanOrEqual(2 * 3 + 2);
    expect(report.work.pathRenders).toBe(1 + 2 * 2);
  });

  it.each([
    ["queries", { maxQueries: 3 }],
    ["rows", { maxRows: 5 }],
    ["artifacts", { maxArtifacts: 3 }],
  ] as const)("refuses a job over its %s budget", async (budget, limits) => {
    const error = await reportWith(limits).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(ImpactBudgetExceededError);
    expect((error as ImpactBudgetExceededError).budget).toBe(budget);
    const problem = problemFromDomainError(error);
    expect(problem).toMatchObject({ status: 422, type: "impact-too-large" });
    expect(problem?.extensions).toMatchObject({ budget, limit: Object.values(limits)[0] });
  });
});
