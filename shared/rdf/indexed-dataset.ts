import type { DatasetCore, Quad, Term } from "@rdfjs/types";
import { termToNTriples } from "./ntriples";

type Position = "subject" | "predicate" | "object" | "graph";
const positions: Position[] = ["subject", "predicate", "object", "graph"];

/**
 * A lean in-memory RDF/JS DatasetCore for validation: the quads in an array plus per-position hash indexes,
 * built on the first `match`. Much smaller than an N3.Store (which needs 275-417 MB for 100k triples), and
 * iteration order is insertion order, so results are deterministic.
 */
export class IndexedDataset implements DatasetCore<Quad, Quad> {
  private quads: Quad[];
  private keySet: Set<string> | null = new Set();
  private indexes: Map<Position, Map<string, Quad[]>> | null = null;

  constructor(quads: Iterable<Quad> = []) {
    this.quads = [];
    for (const quad of quads) this.add(quad);
  }

  // Match results skip the duplicate check (their quads are already unique), so the key set is built lazily.
  private get keys(): Set<string> {
    if (!this.keySet) this.keySet = new Set(this.quads.map(quadKey));
    return this.keySet;
  }

  get size(): number {
    return this.quads.length;
  }

  add(quad: Quad): this {
    const key = quadKey(quad);
    if (!this.keys.has(key)) {
      this.keys.add(key);
      this.quads.push(quad);
      this.indexes = null;
    }
    return this;
  }

  delete(quad: Quad): this {
    const key = quadKey(quad);
    if (this.keys.delete(key)) {
      this.quads = this.quads.filter((candidate) => quadKey(candidate) !== key);
      this.indexes = null;
    }
    return this;
  }

  has(quad: Quad): boolean {
    return this.keys.has(quadKey(quad));
  }

  match(subject?: Term | null, predicate?: Term | null, object?: Term | null, graph?: Term | null): IndexedDataset {
    const pattern: [Position, string][] = [];
    const bound = { subject, predicate, object, graph };
    for (const position of positions) {
      const term = bound[position];
      if (term) pattern.push([position, termToNTriples(term)]);
    }
    if (pattern.length === 0) return IndexedDataset.fromUnique(this.quads);
    const indexes = this.buildIndexes();
    // Start from the smallest candidate list, then filter on the remaining bound positions.
    let smallest: Quad[] | undefined;
    for (const [position, key] of pattern) {
      const candidates = indexes.get(position)?.get(key) ?? [];
      if (!smallest || candidates.length < smallest.length) smallest = candidates;
    }
    const matches = (smallest ?? []).filter((quad) =>
      pattern.every(([position, key]) => termToNTriples(quad[position]) === key),
    );
    return IndexedDataset.fromUnique(matches);
  }

  [Symbol.iterator](): Iterator<Quad> {
    return this.quads[Symbol.iterator]();
  }

  private static fromUnique(quads: Quad[]): IndexedDataset {
    const dataset = new IndexedDataset();
    dataset.quads = quads.slice();
    dataset.keySet = null;
    return dataset;
  }

  private buildIndexes(): Map<Position, Map<string, Quad[]>> {
    if (this.indexes) return this.indexes;
    const indexes = new Map<Position, Map<string, Quad[]>>(positions.map((position) => [position, new Map()]));
    for (const quad of this.quads) {
      for (const position of positions) {
        const index = indexes.get(position) as Map<string, Quad[]>;
        const key = termToNTriples(quad[position]);
        const bucket = index.get(key);
        if (bucket) bucket.push(quad);
        else index.set(key, [quad]);
      }
    }
    this.indexes = indexes;
    return indexes;
  }
}

function quadKey(quad: Quad): string {
  return `${termToNTriples(quad.subject)} ${termToNTriples(quad.predicate)} ${termToNTriples(quad.object)} ${termToNTriples(quad.graph)}`;
}
