import { createHash } from "node:crypto";
import type * as RDF from "@rdfjs/types";
import { DataFactory } from "n3";
import canonize from "rdf-canonize";
import { describe, expect, it } from "vitest";
import type { IncrementalHash } from "../../../shared/crypto/incremental-sha256";
import { parseRdfSync } from "../../../shared/rdf/formats";
import { canonicalHashOfTriples } from "../../../shared/rdf/store/canonical-triples";
import { termKey } from "../../../shared/rdf/store/term-key";
import { randomDataset } from "../../support/random-rdf-dataset";

/** Dictionary-encodes quads the way the store does (one id per distinct term key), in memory. */
function encode(quads: RDF.Quad[]) {
  const idOf = new Map<string, number>();
  const keyOf = new Map<number, string>();
  const triples = new Uint32Array(quads.length * 3);
  quads.forEach((quad, i) => {
    [quad.subject, quad.predicate, quad.object].forEach((term, j) => {
      const key = termKey(term);
      let id = idOf.get(key);
      if (id === undefined) {
        id = idOf.size + 1;
        idOf.set(key, id);
        keyOf.set(id, key);
      }
      triples[3 * i + j] = id;
    });
  });
  const keysOf = (ids: number[]) => new Map(ids.map((id) => [id, keyOf.get(id) as string]));
  return { triples, keysOf };
}

/** The reference: rdf-canonize's canonical N-Quads document of the set of quads, hashed by Node. */
async function referenceHash(quads: RDF.Quad[]): Promise<string> {
  // An RDF dataset is a set; rdf-canonize keeps duplicates it is handed, so give it each quad once.
  const unique = [
    ...new Map(quads.map((q) => [[q.subject, q.predicate, q.object].map(termKey).join(" "), q])).values(),
  ];
  const canonical = await canonize.canonize(unique, { algorithm: "RDFC-1.0", maxWorkFactor: 3 });
  return `sha256:${createHash("sha256").update(canonical, "utf8").digest("hex")}`;
}

describe("canonicalHashOfTriples", () => {
  it("equals rdf-canonize's RDFC-1.0 hash on 200 random datasets (with and without blank nodes)", async () => {
    for (let seed = 1; seed <= 200; seed++) {
      const quads = randomDataset(seed, 1 + (seed % 40));
      const ground = quads.filter((q) => q.subject.termType !== "BlankNode" && q.object.termType !== "BlankNode");
      for (const dataset of [quads, ground]) {
        const { triples, keysOf } = encode(dataset);
        const ours = await canonicalHashOfTriples(triples, keysOf);
        expect(ours.hash, `seed ${seed}`).toBe(await referenceHash(dataset));
      }
    }
  });

  it("ignores duplicate triples and counts the distinct ones", async () => {
    const quads = parseRdfSync('<http://a> <http://p> "x" . <http://a> <http://p> "y" .', "application/n-triples");
    const { triples, keysOf } = encode([...quads, ...quads, quads[0] as RDF.Quad]);
    const result = await canonicalHashOfTriples(triples, keysOf);
    expect(result.triples).toBe(2);
    expect(result.hash).toBe(await referenceHash(quads));
  });

  it("hashes the empty dataset as SHA-256 of the empty document", async () => {
    const result = await canonicalHashOfTriples(new Uint32Array(0), () => new Map());
    expect(result).toEqual({ hash: `sha256:${createHash("sha256").digest("hex")}`, triples: 0 });
  });

  it("keeps stored labels when told they are already canonical", async () => {
    const quads = parseRdfSync("_:c14n0 <http://p> _:c14n1 . _:c14n1 <http://p> <http://o> .", "application/n-triples");
    const { triples, keysOf } = encode(quads);
    const relabeled = await canonicalHashOfTriples(triples, keysOf);
    const kept = await canonicalHashOfTriples(triples, keysOf, { canonicalBlankLabels: true });
    const document = quads
      .map(
        (q) =>
          `_:${q.subject.value} <http://p> ${q.object.termType === "BlankNode" ? `_:${q.object.value}` : "<http://o>"} .\n`,
      )
      .sort()
      .join("");
    expect(kept.hash).toBe(`sha256:${createHash("sha256").update(document).digest("hex")}`);
    expect(relabeled.hash).toBe(await referenceHash(quads));
  });

  it("streams through the given incremental hash in bounded pieces", async () => {
    const quads = Array.from({ length: 30_000 }, (_, i) =>
      DataFactory.quad(
        DataFactory.namedNode(`http://ex.org/s${i}`),
        DataFactory.namedNode("http://ex.org/p"),
        DataFactory.literal(`value ${i}`),
      ),
    );
    const { triples, keysOf } = encode(quads);
    const pieces: number[] = [];
    const node = createHash("sha256");
    const hash = (): IncrementalHash => ({
      update: (data) => {
        pieces.push(data.length);
        node.update(data);
      },
      digest: async () => new Uint8Array(node.digest()),
    });
    const result = await canonicalHashOfTriples(triples, keysOf, { hash });
    expect(pieces.length).toBeGreaterThan(1);
    expect(Math.max(...pieces)).toBeLessThan(2 * 1024 * 1024);
    expect(result.hash).toBe(await referenceHash(quads));
  });
});
