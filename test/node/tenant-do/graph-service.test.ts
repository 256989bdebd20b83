import { describe, expect, it } from "vitest";
import { nodeSqlDatabase } from "../../../cli/node-sql-database";
import { EventLog } from "../../../durable-objects/tenant/event-log";
import { GraphPrefixes } from "../../../durable-objects/tenant/graph-prefixes";
import { GraphService } from "../../../durable-objects/tenant/graph-service";
import { TENANT_SCHEMA } from "../../../durable-objects/tenant/tenant-schema";
import { QuotaExceededError } from "../../../shared/quota-errors";
import { CanonicalizationLimitError, VersionTooLargeError } from "../../../shared/rdf/errors";
import { applySchemaMigrations } from "../../../shared/sql/migrations";
import { rdfErrorToHttpError } from "../../../workers/problems/rdf-problems";

const triples = (count: number, from = 0) =>
  Array.from({ length: count }, (_, i) => `<http://e/s${i + from}> <http://e/p> "${i + from}" .`).join("\n");

function service(maxVersionTriples: number) {
  const db = nodeSqlDatabase();
  applySchemaMigrations(db, TENANT_SCHEMA);
  return new GraphService(db, { maxVersionTriples });
}

const upload = (graphs: GraphService, text: string) =>
  graphs.ingest({
    name: "g",
    mediaType: "application/n-triples",
    body: new Blob([text]).stream(),
    createdAt: "2026-01-01T00:00:00Z",
    tripleLimit: 1_000_000,
    maxBytes: 1_000_000,
  });

describe("GraphService version size limit", () => {
  it("refuses an upload over the limit as soon as it is passed, storing nothing", async () => {
    const graphs = service(10);
    await expect(upload(graphs, triples(11))).rejects.toBeInstanceOf(VersionTooLargeError);
    expect(graphs.list()).toEqual([]);
    expect((await upload(graphs, triples(10))).version).toMatchObject({ version: 1, triples: 10 });
  });

  it("refuses a patch whose result is over the limit, keeping the latest version", async () => {
    const graphs = service(10);
    await upload(graphs, triples(10));
    const patch = { name: "g", remove: "", createdAt: "2026-01-02T00:00:00Z", tripleLimit: 1_000_000 };
    await expect(graphs.patch({ ...patch, add: triples(1, 10) })).rejects.toBeInstanceOf(VersionTooLargeError);
    expect(graphs.versions("g").map((v) => v.version)).toEqual([1]);
    const swapped = await graphs.patch({ ...patch, add: triples(1, 10), remove: triples(1) });
    expect(swapped.version).toMatchObject({ version: 2, triples: 10 });
    expect(swapped.version.hash).toMatch(/^sha256:/);
  });
});

describe("GraphService patches", () => {
  const clique = (size: number) => {
    const lines: string[] = [];
    for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) lines.push(`_:e${i} <http://e/p> _:e${j} .`);
    return lines.join("\n");
  };
  const patch = { name: "g", remove: "", createdAt: "2026-01-02T00:00:00Z", tripleLimit: 1_000_000 };

  it("publishes a patched version only with its hash; when hashing fails the graph stays as it was", async () => {
    const graphs = service(1_000_000);
    const first = (await upload(graphs, triples(5))).version;
    const patched = await graphs.patch({ ...patch, add: triples(1, 5), remove: triples(1) });
    expect(patched.version).toMatchObject({ version: 2, triples: 5 });
    expect(patched.version.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(graphs.latest("g")).toEqual(patched.version);

    // A blank-node clique is refused by canonicalization: nothing of the patch may remain.
    await expect(graphs.patch({ ...patch, add: clique(10), remove: triples(2, 1) })).rejects.toThrow(/canonical/i);
    expect(graphs.versions("g").map((v) => v.version)).toEqual([1, 2]);
    expect(graphs.latest("g")).toEqual(patched.version);
    const content = await graphs.content("g", undefined, "application/n-triples");
    const text = await new Response(content.body).text();
    expect(text.trim().split("\n")).toHaveLength(5);
    expect(text).toContain('<http://e/s1> <http://e/p> "1" .');
    expect(first.hash).not.toBe(patched.version.hash);
    // The next patch gets the next number: the refused one left no version behind.
    const next = await graphs.patch({ ...patch, add: triples(1, 100) });
    expect(next.version).toMatchObject({ version: 3, triples: 6 });
  });
});

describe("GraphService events", () => {
  function tenant() {
    const db = nodeSqlDatabase();
    applySchemaMigrations(db, TENANT_SCHEMA);
    return { db, graphs: new GraphService(db), events: () => new EventLog(db).read(0, 100).events };
  }
  const counts = (db: ReturnType<typeof nodeSqlDatabase>) =>
    ["rdf_term", "rdf_quad", "rdf_staging", "rdf_graph", "rdf_graph_version", "event_log"].map((table) =>
      Number(db.all(`SELECT count(*) FROM ${table}`)[0]?.[0]),
    );
  const ingest = (graphs: GraphService, text: string, tripleLimit = 1_000_000, name = "g") =>
    graphs.ingest({
      name,
      mediaType: "application/n-triples",
      body: new Blob([text]).stream(),
      createdAt: "2026-01-01T00:00:00Z",
      tripleLimit,
      maxBytes: 1_000_000,
    });
  const patch = { name: "g", remove: "", createdAt: "2026-01-02T00:00:00Z", tripleLimit: 1_000_000 };
  /** Makes every append to the event log fail, as a full or broken log would. */
  const breakEventLog = (db: ReturnType<typeof nodeSqlDatabase>) =>
    db.execScript(
      "CREATE TRIGGER event_log_broken BEFORE INSERT ON event_log BEGIN SELECT RAISE(ABORT, 'event log broken'); END",
    );

  it("appends graph.version.created with each new version, and nothing for unchanged content", async () => {
    const { graphs, events } = tenant();
    const first = await ingest(graphs, triples(3));
    expect(events()).toEqual([
      {
        id: 1,
        type: "graph.version.created",
        data: { ...first.version },
        createdAt: Date.parse("2026-01-01T00:00:00Z"),
      },
    ]);
    expect((await ingest(graphs, triples(3))).created).toBe(false);
    const patched = await graphs.patch({ ...patch, add: triples(1, 3) });
    const updated = await graphs.update({
      name: "g",
      update: "INSERT DATA { <http://e/x> <http://e/p> 1 }",
      createdAt: "2026-01-03T00:00:00Z",
      tripleLimit: 1_000_000,
      now: "2026-01-03T00:00:00Z",
      maxSteps: 100_000,
    });
    expect(events().map((event) => [event.type, event.data])).toEqual([
      ["graph.version.created", { ...first.version }],
      ["graph.version.created", { ...patched.version }],
      ["graph.version.created", { ...updated.version }],
    ]);
    expect(graphs.versions("g").map((v) => v.version)).toEqual([1, 2, 3]);
  });

  it("appends graph.deleted when a graph is deleted, and nothing for a graph that does not exist", async () => {
    const { graphs, events } = tenant();
    await ingest(graphs, triples(2));
    expect(await graphs.delete("g", 1_767_225_600_000)).toBe(true);
    expect(await graphs.delete("g", 1_767_225_600_001)).toBe(false);
    expect(events().slice(1)).toEqual([
      { id: 2, type: "graph.deleted", data: { graph: "g" }, createdAt: 1_767_225_600_000 },
    ]);
  });

  it("appends no event for a write refused by the triple quota", async () => {
    const { db, graphs, events } = tenant();
    await ingest(graphs, triples(3), 5, "other");
    const before = counts(db);
    await expect(ingest(graphs, triples(3), 5)).rejects.toBeInstanceOf(QuotaExceededError);
    expect(counts(db)).toEqual(before);
    await ingest(graphs, triples(2), 5);
    const afterUpload = counts(db);
    await expect(graphs.patch({ ...patch, add: triples(1, 4), tripleLimit: 5 })).rejects.toBeInstanceOf(
      QuotaExceededError,
    );
    expect(counts(db)).toEqual(afterUpload);
    expect(events().map((event) => (event.data as { graph: string }).graph)).toEqual(["other", "g"]);
  });

  it("stores no version when its event cannot be appended: the commit and the event are one transaction", async () => {
    const { db, graphs, events } = tenant();
    await ingest(graphs, triples(3));
    breakEventLog(db);
    const before = counts(db);
    await expect(ingest(graphs, triples(5))).rejects.toThrow(/event log broken/);
    expect(counts(db)).toEqual(before);
    await expect(graphs.patch({ ...patch, add: triples(1, 3) })).rejects.toThrow(/event log broken/);
    expect(counts(db)).toEqual(before);
    await expect(graphs.delete("g", 1)).rejects.toThrow(/event log broken/);
    expect(counts(db)).toEqual(before);
    expect(graphs.versions("g").map((v) => v.version)).toEqual([1]);

    db.execScript("DROP TRIGGER event_log_broken");
    // The refused writes left no version number behind: the next one is version 2, with its event.
    const next = await graphs.patch({ ...patch, add: triples(1, 3) });
    expect(next.version).toMatchObject({ version: 2, triples: 4 });
    expect(events().map((event) => (event.data as { version: number }).version)).toEqual([1, 2]);
  });

  it("stores no version when its prefixes cannot be recorded: version, event and prefixes are one transaction", async () => {
    const db = nodeSqlDatabase();
    applySchemaMigrations(db, TENANT_SCHEMA);
    const prefixes = new GraphPrefixes(db);
    const graphs = new GraphService(db, { prefixes });
    await ingest(graphs, triples(3));
    db.execScript(
      "CREATE TRIGGER prefixes_broken BEFORE INSERT ON graph_version_prefix BEGIN SELECT RAISE(ABORT, 'prefixes broken'); END",
    );
    const before = counts(db);
    const declared: [string, string][] = [["ex", "http://e/"]];
    await expect(graphs.patch({ ...patch, add: triples(1, 3), prefixes: declared })).rejects.toThrow(/prefixes broken/);
    expect(counts(db)).toEqual(before);
    expect(graphs.versions("g").map((v) => v.version)).toEqual([1]);

    db.execScript("DROP TRIGGER prefixes_broken");
    const next = await graphs.patch({ ...patch, add: triples(1, 3), prefixes: declared });
    expect(next.version.version).toBe(2);
    expect(prefixes.of("g", 2)).toEqual({ ex: "http://e/" });
  });
});

describe("GraphService versions sorted by SQLite", () => {
  const sqliteSorted = (maxBlankNodeTriples: number) => {
    const db = nodeSqlDatabase();
    applySchemaMigrations(db, TENANT_SCHEMA);
    const heap = new GraphService(db, {});
    const sorted = new GraphService(nodeSqlDatabaseWithSchema(), {
      canonical: { inMemoryTriples: 0, pageRows: 4, maxBlankNodeTriples },
    });
    return { heap, sorted };
  };
  const nodeSqlDatabaseWithSchema = () => {
    const db = nodeSqlDatabase();
    applySchemaMigrations(db, TENANT_SCHEMA);
    return db;
  };
  const patch = { name: "g", remove: "", createdAt: "2026-01-02T00:00:00Z", tripleLimit: 1_000_000 };

  it("hash uploads and patches as the in-memory path does, and stream the same N-Triples", async () => {
    const { heap, sorted } = sqliteSorted(100);
    const add = '_:x <http://e/p> _:y . _:y <http://e/p> "\u{1F600}" . <http://e/s> <http://e/p> "\uE000" .';
    for (const graphs of [heap, sorted]) {
      await upload(graphs, `${triples(20)}\n_:a <http://e/p> _:b .`);
      await graphs.patch({ ...patch, add });
    }
    expect(sorted.versions("g").map((v) => v.hash)).toEqual(heap.versions("g").map((v) => v.hash));
    const text = async (graphs: GraphService) =>
      new Response((await graphs.content("g", 2, "application/n-triples")).body).text();
    expect(await text(sorted)).toBe(await text(heap));
  });

  it("refuses a patch whose blank-node part passes the budget with 422 canonicalization-limit, keeping the graph", async () => {
    const { sorted } = sqliteSorted(2);
    await upload(sorted, triples(5));
    const refused = sorted.patch({
      ...patch,
      add: "_:a <http://e/p> _:b . _:b <http://e/p> _:c . _:c <http://e/p> _:a .",
    });
    const error = await refused.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CanonicalizationLimitError);
    expect(rdfErrorToHttpError(error)).toMatchObject({ status: 422, type: "canonicalization-limit" });
    expect(sorted.versions("g").map((v) => v.version)).toEqual([1]);
  });
});
