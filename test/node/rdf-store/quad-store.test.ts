import type * as RDF from "@rdfjs/types";
import { Parser } from "n3";
import { beforeEach, describe, expect, it } from "vitest";
import { nodeSqlDatabase } from "../../../cli/node-sql-database";
import { QuotaExceededError } from "../../../shared/quota-errors";
import { VersionTooLargeError } from "../../../shared/rdf/errors";
import { type QuadStore, STILL_PRESENT } from "../../../shared/rdf/store/quad-store";
import { termFromKey, termKey } from "../../../shared/rdf/store/term-key";
import { migratedQuadStore, uploadTriples } from "../../support/sparql-store";

const PREFIX = "@prefix : <http://example.org/> . ";
const triples = (turtle: string): RDF.Quad[] => new Parser({ blankNodePrefix: "" }).parse(PREFIX + turtle);
const nt = (quads: Iterable<RDF.Quad>) =>
  [...quads].map((quad) => `${termKey(quad.subject)} ${termKey(quad.predicate)} ${termKey(quad.object)}`).sort();

describe("term keys", () => {
  it("round-trips IRIs, blank nodes and every literal shape", () => {
    for (const turtle of [
      ':a :p "x" .',
      ':a :p "x"@en-GB .',
      ":a :p 1 .",
      ':a :p "a \\"q\\" b"^^:dt .',
      ":a :p _:b .",
    ]) {
      const object = (triples(turtle)[0] as RDF.Quad).object;
      expect(termFromKey(termKey(object)).equals(object)).toBe(true);
    }
  });
});

describe("QuadStore", () => {
  let store: QuadStore;
  beforeEach(() => {
    store = migratedQuadStore();
  });

  it("versions uploads and returns the existing version for unchanged content", async () => {
    const first = await uploadTriples(store, "g", triples(":a :p 1, 2 . :b :p :c ."), { createdAt: "t1" });
    expect(first).toMatchObject({ created: true, version: { number: 1, tripleCount: 3, added: 3, removed: 0 } });
    expect(first.version.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    const same = await uploadTriples(store, "g", triples(":b :p :c . :a :p 2, 1 ."), { createdAt: "t2" });
    expect(same).toMatchObject({ created: false, version: { number: 1, createdAt: "t1", hash: first.version.hash } });
    const second = await uploadTriples(store, "g", triples(":a :p 1, 3 ."), { createdAt: "t4" });
    expect(second.version).toMatchObject({ number: 2, tripleCount: 2, added: 1, removed: 2 });
    expect(nt(store.readVersion("g", 1))).toEqual(nt(triples(":a :p 1, 2 . :b :p :c .")));
    expect(nt(store.readVersion("g"))).toEqual(nt(triples(":a :p 1, 3 .")));
    expect(store.listVersions("g").map((version) => version.number)).toEqual([1, 2]);
  });

  it("keeps one version for documents equal up to blank-node labels, stored with canonical labels", async () => {
    const first = await uploadTriples(store, "g", triples("_:x :knows _:y . _:y :name 1 ."), { createdAt: "t1" });
    const relabeled = await uploadTriples(store, "g", triples("_:q :knows _:r . _:r :name 1 ."), { createdAt: "t2" });
    expect(relabeled).toMatchObject({ created: false, version: { number: 1, hash: first.version.hash } });
    expect(nt(store.readVersion("g")).join("\n")).toMatch(/_:c14n0/);
  });

  it("applies patches (remove, then add) and diffs versions from range scans", async () => {
    await uploadTriples(store, "g", triples(":a :p 1 . :b :p 2 ."), { createdAt: "t1" });
    store.applyPatch("g", { remove: triples(":a :p 1 . :x :y :z ."), add: triples(":c :p 3 .") }, { createdAt: "t2" });
    store.applyPatch("g", { add: triples(":a :p 1 ."), remove: triples(":b :p 2 .") }, { createdAt: "t3" });
    const unchanged = store.applyPatch(
      "g",
      { add: triples(":a :p 1 ."), remove: triples(":q :q :q .") },
      { createdAt: "t4" },
    );
    expect(unchanged).toMatchObject({ created: false, version: { number: 3 } });
    expect(nt(store.readVersion("g", 2))).toEqual(nt(triples(":b :p 2 . :c :p 3 .")));
    const diff = store.diffVersions("g", 1, 3);
    // :a :p 1 was removed in 2 and re-added in 3: no net change.
    expect(nt(diff.added)).toEqual(nt(triples(":c :p 3 .")));
    expect(nt(diff.removed)).toEqual(nt(triples(":b :p 2 .")));
    expect(diff.changedSubjects.map((term) => term.value)).toEqual(["http://example.org/b", "http://example.org/c"]);
    const back = store.diffVersions("g", 3, 1);
    expect(nt(back.added)).toEqual(nt(diff.removed));
    expect(() => store.diffVersions("g", 1, 9)).toThrow(/no version 9/);
  });

  it("streams large versions in pages and deletes graphs", async () => {
    const many: RDF.Quad[] = [];
    for (let i = 0; i < 12_000; i++) many.push(...triples(`:s${i % 100} :p "${i}" .`));
    await uploadTriples(store, "big", many, { createdAt: "t" });
    let count = 0;
    for (const _ of store.readVersion("big")) count++;
    expect(count).toBe(12_000);
    expect(store.listGraphs().map((graph) => [graph.name, graph.latest?.tripleCount])).toEqual([["big", 12_000]]);
    expect(store.deleteGraph("big")).toBe(true);
    expect(store.deleteGraph("big")).toBe(false);
    expect(store.listGraphs()).toEqual([]);
  });

  it("rolls back a failing upload completely", async () => {
    await uploadTriples(store, "g", triples(":a :p 1 ."), { createdAt: "t1" });
    const counts = () =>
      ["rdf_term", "rdf_quad", "rdf_staging", "rdf_graph", "rdf_graph_version"].map((table) =>
        Number(store.db.all(`SELECT count(*) FROM ${table}`)[0]?.[0]),
      );
    const before = counts();
    const bad = [...triples(":a :p 2 ."), { ...(triples(":a :p 3 .")[0] as RDF.Quad), subject: termFromKey('"lit"') }];
    await expect(uploadTriples(store, "g", bad as RDF.Quad[], { createdAt: "t2" })).rejects.toThrow(/subject/);
    await expect(uploadTriples(store, "new", bad as RDF.Quad[], { createdAt: "t2" })).rejects.toThrow(/subject/);
    expect(store.latestVersion("g")?.number).toBe(1);
    expect(nt(store.readVersion("g"))).toEqual(nt(triples(":a :p 1 .")));
    expect(store.graphId("new")).toBeNull();
    expect(counts()).toEqual(before);
  });
});

describe("QuadStore triple limits", () => {
  const limits = (maxTotalTriples: number, maxVersionTriples = 1_000) => ({ maxTotalTriples, maxVersionTriples });
  const rows = (store: QuadStore) =>
    ["rdf_term", "rdf_quad", "rdf_staging", "rdf_staging_remove", "rdf_graph", "rdf_graph_version"].map((table) =>
      Number(store.db.all(`SELECT count(*) FROM ${table}`)[0]?.[0]),
    );

  it("refuses an upload over the triple quota with QuotaExceededError, writing nothing", async () => {
    const store = migratedQuadStore();
    await uploadTriples(store, "a", triples(":a :p 1, 2, 3 ."), { createdAt: "t1", limits: limits(5) });
    const before = rows(store);
    const refused = uploadTriples(store, "b", triples(":b :p 1, 2, 3 ."), { createdAt: "t2", limits: limits(5) });
    await expect(refused).rejects.toBeInstanceOf(QuotaExceededError);
    await expect(refused).rejects.toMatchObject({ counter: "triples", limit: 5, used: 6 });
    expect(rows(store)).toEqual(before);
    expect(store.listGraphs().map((graph) => graph.name)).toEqual(["a"]);
    // Replacing a graph counts its new content instead of its latest version.
    const replaced = await uploadTriples(store, "a", triples(":a :p 1, 2, 3, 4, 5 ."), {
      createdAt: "t3",
      limits: limits(5),
    });
    expect(replaced.version).toMatchObject({ number: 2, tripleCount: 5 });
  });

  it("refuses a patch over the quota or the version size inside its transaction", () => {
    const store = migratedQuadStore();
    store.applyPatch("g", { add: triples(":a :p 1, 2 .") }, { createdAt: "t1", limits: limits(3) });
    const before = rows(store);
    expect(() =>
      store.applyPatch("g", { add: triples(":a :p 3, 4 .") }, { createdAt: "t2", limits: limits(3) }),
    ).toThrow(QuotaExceededError);
    expect(() =>
      store.applyPatch("g", { add: triples(":a :p 3, 4 .") }, { createdAt: "t2", limits: limits(100, 3) }),
    ).toThrow(VersionTooLargeError);
    expect(rows(store)).toEqual(before);
    expect(store.latestVersion("g")).toMatchObject({ number: 1, tripleCount: 2 });
    // Unchanged content makes no version, so it is not checked against the limits.
    const same = store.applyPatch("g", { add: triples(":a :p 1 .") }, { createdAt: "t3", limits: limits(1) });
    expect(same).toMatchObject({ created: false, version: { number: 1 } });
  });
});

describe("QuadStore version retention", () => {
  const contents = [":a :p 1 .", ":a :p 2 . :b :p 1 .", ":a :p 3 . :b :p 1 .", ":a :p 3 . :c :p 4 .", ":a :p 5 ."];

  async function fiveVersions() {
    const store = migratedQuadStore();
    for (const [index, turtle] of contents.entries())
      await uploadTriples(store, "g", triples(turtle), { createdAt: `t${index + 1}` });
    return store;
  }

  const quadRows = (store: QuadStore) => Number(store.db.all("SELECT count(*) FROM rdf_quad")[0]?.[0]);

  it("drops versions before the newest ones except those kept, and the rows only they held", async () => {
    const store = await fiveVersions();
    const before = {
      reads: [2, 4, 5].map((number) => nt(store.readVersion("g", number))),
      diff: store.diffVersions("g", 2, 4),
      hash: store.getVersion("g", 2)?.hash,
    };
    const rows = quadRows(store);
    const pruned = store.pruneVersions("g", 2, [2], 1000);
    expect(pruned).toMatchObject({ versions: 2, more: false });
    expect(pruned.quads).toBeGreaterThan(0);
    expect(quadRows(store)).toBe(rows - pruned.quads);
    expect(store.listVersions("g").map((version) => version.number)).toEqual([2, 4, 5]);
    expect([1, 3].map((number) => store.getVersion("g", number))).toEqual([null, null]);
    expect([2, 4, 5].map((number) => nt(store.readVersion("g", number)))).toEqual(before.reads);
    expect(nt(store.readVersion("g", 2))).toEqual(nt(triples(contents[1] as string)));
    const diff = store.diffVersions("g", 2, 4);
    expect({ added: nt(diff.added), removed: nt(diff.removed) }).toEqual({
      added: nt(before.diff.added),
      removed: nt(before.diff.removed),
    });
    expect(await store.versionHash("g", 2)).toBe(before.hash);
    expect(() => store.diffVersions("g", 1, 5)).toThrow(/no version 1/);
    // Applied again, nothing changes; the latest version is always kept.
    expect(store.pruneVersions("g", 2, [2], 1000)).toEqual({ versions: 0, quads: 0, more: false });
    expect(store.pruneVersions("g", 1, [], 1000).versions).toBe(2);
    expect(store.listVersions("g").map((version) => version.number)).toEqual([5]);
    expect(nt(store.readVersion("g"))).toEqual(nt(triples(":a :p 5 .")));
    expect(quadRows(store)).toBe(1);
    expect(() => store.pruneVersions("g", 0, [], 1000)).toThrow(RangeError);
  });

  it("deletes at most maxRows rows per call and says when more are left", async () => {
    const store = await fiveVersions();
    let outcome = store.pruneVersions("g", 1, [], 1);
    let calls = 1;
    while (outcome.more) {
      expect(outcome.quads).toBe(1);
      outcome = store.pruneVersions("g", 1, [], 1);
      calls++;
    }
    expect(calls).toBeGreaterThan(2);
    expect(quadRows(store)).toBe(1);
    expect(nt(store.readVersion("g"))).toEqual(nt(triples(":a :p 5 .")));
  });

  it("leaves graphs with no more versions than asked, and unknown graphs, alone", async () => {
    const store = await fiveVersions();
    expect(store.pruneVersions("g", 5, [], 1000)).toEqual({ versions: 0, quads: 0, more: false });
    expect(store.pruneVersions("missing", 1, [], 1000)).toEqual({ versions: 0, quads: 0, more: false });
    expect(store.listVersions("g")).toHaveLength(5);
  });
});

describe("QuadStore chunking", () => {
  it("splits uploads with long literals into statements under the bound-value size limit", async () => {
    const db = nodeSqlDatabase();
    const largest: number[] = [];
    const record = (params: readonly unknown[] | undefined) => {
      for (const param of params ?? []) if (typeof param === "string") largest.push(param.length);
    };
    const { run, all } = db;
    db.run = (sql, params) => {
      record(params);
      return run(sql, params);
    };
    db.all = (sql, params) => {
      record(params);
      return all(sql, params);
    };
    const store = migratedQuadStore(db);
    const long = "x".repeat(100_000);
    const quads = Array.from({ length: 40 }, (_, i) => triples(`:s${i} :p "${long}${i}" .`)[0] as RDF.Quad);
    expect((await uploadTriples(store, "g", quads, { createdAt: "t" })).version.tripleCount).toBe(40);
    expect(nt(store.readVersion("g"))).toEqual(nt(quads));
    // The patch path chunks the same way.
    const more = Array.from({ length: 40 }, (_, i) => triples(`:t${i} :p "${long}${i}" .`)[0] as RDF.Quad);
    expect(store.applyPatch("g", { add: more }, { createdAt: "t2" }).version.tripleCount).toBe(80);
    expect(Math.max(...largest)).toBeLessThan(2_000_000);
  });
});

describe("an upload interrupted by an eviction", () => {
  it("leaves nothing a later write could commit: uncommitted rows and staged triples go at the next start", async () => {
    const db = nodeSqlDatabase();
    const store = migratedQuadStore(db);
    await uploadTriples(store, "g", triples(":a :p 1 ."), { createdAt: "t1" });
    // What a crash half-way through uploads leaves: rows of version 2 of "g", a graph with no version yet,
    // and staged triples.
    db.run("INSERT INTO rdf_term (key) VALUES ('<http://example.org/half>')");
    const half = Number(db.all("SELECT id FROM rdf_term WHERE key = '<http://example.org/half>'")[0]?.[0]);
    db.run(`INSERT INTO rdf_quad VALUES (1, ${half}, ${half}, ${half}, 2, ${STILL_PRESENT})`);
    db.run("INSERT INTO rdf_graph (name, latest) VALUES ('fresh', 0)");
    db.run(`INSERT INTO rdf_quad VALUES (2, ${half}, ${half}, ${half}, 1, ${STILL_PRESENT})`);
    db.run(`INSERT INTO rdf_staging VALUES (${half}, ${half}, ${half})`);

    const restarted = migratedQuadStore(db); // what the next start of the object does
    expect(db.all("SELECT count(*) FROM rdf_quad")[0]?.[0]).toBe(1);
    expect(db.all("SELECT count(*) FROM rdf_staging")[0]?.[0]).toBe(0);
    expect(restarted.graphId("fresh")).toBeNull();
    const patched = restarted.applyPatch("g", { add: triples(":b :p 2 .") }, { createdAt: "t2" });
    expect(patched.version).toMatchObject({ number: 2, tripleCount: 2, added: 1 });
    expect(nt(restarted.readVersion("g", 2))).toEqual(nt(triples(":a :p 1 . :b :p 2 .")));
  });
});

describe("an unpublished version", () => {
  it("stays invisible until published, and an eviction before that undoes its rows and removals", async () => {
    const db = nodeSqlDatabase();
    const store = migratedQuadStore(db);
    await uploadTriples(store, "g", triples(":a :p 1 . :b :p 2 ."), { createdAt: "t1" });
    const pending = store.applyPatch(
      "g",
      { add: triples(":c :p 3 ."), remove: triples(":a :p 1 .") },
      { createdAt: "t2", publish: false },
    );
    expect(pending.version).toMatchObject({ number: 2, tripleCount: 2, hash: null });
    expect(store.latestVersion("g")?.number).toBe(1);
    expect(store.getVersion("g", 2)).toBeNull();
    expect(store.listVersions("g").map((v) => v.number)).toEqual([1]);
    expect(nt(store.readVersion("g"))).toEqual(nt(triples(":a :p 1 . :b :p 2 .")));

    store.discardInterruptedWrites(); // what the next start of the object does
    expect(db.all("SELECT count(*) FROM rdf_graph_version")[0]?.[0]).toBe(1);
    expect(db.all(`SELECT count(*) FROM rdf_quad WHERE removed_in < ${STILL_PRESENT}`)[0]?.[0]).toBe(0);
    const again = store.applyPatch("g", { add: triples(":c :p 3 .") }, { createdAt: "t3", publish: false });
    const published = store.publishVersion("g", again.version.number, "h2");
    expect(published).toMatchObject({ number: 2, hash: "h2", tripleCount: 3 });
    expect(nt(store.readVersion("g"))).toEqual(nt(triples(":a :p 1 . :b :p 2 . :c :p 3 .")));
  });
});
