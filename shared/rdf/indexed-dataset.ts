import type { DatasetCore, Quad, Term } from "@rdfjs/types";

// Cheap identity key for index buckets (no escaping work): kind letter, then the parts that make terms equal.
function termKey(term: Term): string {
  switch (term.termType) {
    case "NamedNode":
      return `I${term.value}`;
    case "BlankNode":
      return `B${term.value}`;
    case "Literal":
      return `L${term.language}\u0000${term.datatype.value}\u0000${term.value}`;
    case "DefaultGraph":
      return "D";
    default:
      return `${term.termType}\u0000${term.value}`;
  }
}

type Position = "subject" | "predicate" | "object" | "graph";
const positions: Position[] = ["subject", "predicate", "object", "graph"];

/**
 * A lean in-memory RDF/JS DatasetCore for validation: the quads in an array plus per-position hash indexes,
 * built on the first `match`. Much smaller than an N3.Store (which needs 275-417 MB for 100k triples), and
 * iteration order is insertion order, so results are deterministic.
 */
export class IndexedDataset implements DatasetCore<Quad, Quad> {
  private quads: Quad[] = [];
  private keySet: Set<string> | null = new Set();
  private indexes: Map<Position, Map<string, Quad[]>> | null = null;
  // Match results share their array with the parent's index bucket until they are first modified.
  private sharedQuads = false;

  constructor(quads: Iterable<Quad> = []) {
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
      this.ownQuads().push(quad);
      this.indexes = null;
    }
    return this;
  }

  delete(quad: Quad): this {
    const key = quadKey(quad);
    if (this.keys.delete(key)) {
      this.quads = this.quads.filter((candidate) => quadKey(candidate) !== key);
      this.sharedQuads = false;
      this.indexes = null;
    }
    return this;
  }

  has(quad: Quad): boolean {
    return this.keys.has(quadKey(quad));
  }

  match(subject?: Term | null, predicate?: Term | null, object?: Term | null, graph?: Term | null): IndexedDataset {
    const pattern: [Position, Term][] = [];
    const bound = { subject, predicate, object, graph };
    for (const position of positions) {
      const term = bound[position];
      if (term) pattern.push([position, term]);
    }
    // The parent keeps appending to its own array, so a full match gets a copy; index buckets are never
    // mutated (an add drops the indexes and the next match builds new buckets), so they can be shared.
    if (pattern.length === 0) return IndexedDataset.fromUnique(this.quads.slice());
    const indexes = this.buildIndexes();
    // Start from the smallest candidate list, then filter on the remaining bound positions.
    let smallest: Quad[] | undefined;
    for (const [position, term] of pattern) {
      const candidates = indexes.get(position)?.get(termKey(term)) ?? [];
      if (!smallest || candidates.length < smallest.length) smallest = candidates;
    }
    const matches =
      pattern.length === 1
        ? (smallest ?? [])
        : (smallest ?? []).filter((quad) => pattern.every(([position, term]) => quad[position].equals(term)));
    return IndexedDataset.fromUnique(matches);
  }

  [Symbol.iterator](): Iterator<Quad> {
    return this.quads[Symbol.iterator]();
  }

  private ownQuads(): Quad[] {
    if (this.sharedQuads) {
      this.quads = this.quads.slice();
      this.sharedQuads = false;
    }
    return this.quads;
  }

  private static fromUnique(quads: Quad[]): IndexedDataset {
    const dataset = new IndexedDataset();
    dataset.quads = quads;
    dataset.sharedQuads = true;
    dataset.keySet = null;
    return dataset;
  }

  private buildIndexes(): Map<Position, Map<string, Quad[]>> {
    if (this.indexes) return this.indexes;
    const indexes = new Map<Position, Map<string, Quad[]>>(positions.map((position) => [position, new Map()]));
    for (const quad of this.quads) {
      for (const position of positions) {
        const index = indexes.get(position) as Map<string, Quad[]>;
        const key = termKey(quad[position]);
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
  return `${termKey(quad.subject)}\u0001${termKey(quad.predicate)}\u0001${termKey(quad.object)}\u0001${termKey(quad.graph)}`;
}
