import { describe, expect, it } from "vitest";
import { GraphService } from "../../../durable-objects/tenant/graph-service";
import { VersionTooLargeError } from "../../../shared/rdf/errors";
import { migrateQuadStore, QuadStore } from "../../../shared/rdf/store/quad-store";
import { nodeSqlDatabase } from "../../support/node-sql-database";

const triples = (count: number, from = 0) =>
  Array.from({ length: count }, (_, i) => `<http://e/s${i + from}> <http://e/p> "${i + from}" .`).join("\n");

function service(maxVersionTriples: number) {
  const db = nodeSqlDatabase();
  migrateQuadStore(db);
  return new GraphService(new QuadStore(db), { maxVersionTriples });
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
