import type * as RDF from "@rdfjs/types";
import type { SqlDatabase } from "./sql-database";
import { termKey } from "./term-key";

/** Term ids remembered per encoder before the map is dropped (bounded memory for very large uploads). */
const REMEMBERED_IDS = 500_000;

/**
 * Turns triples into dictionary ids, adding unknown terms to `rdf_term` (or, with `knownOnly`, dropping
 * triples that name a term the store has never seen: such a triple cannot match anything). Ids of terms
 * already met are remembered, so predicates and classes cost one lookup per upload, not per chunk.
 */
export class TripleEncoder {
  private readonly ids = new Map<string, number>();

  constructor(
    private readonly db: SqlDatabase,
    private readonly knownOnly = false,
  ) {}

  /** s, p, o ids of each triple in turn. A chunk's JSON stays one bound parameter per statement. */
  encode(triples: readonly RDF.Quad[]): number[] {
    const unknown = new Set<string>();
    const keys: string[] = new Array(triples.length * 3);
    triples.forEach((quad, i) => {
      keys[3 * i] = termKey(quad.subject);
      keys[3 * i + 1] = termKey(quad.predicate);
      keys[3 * i + 2] = termKey(quad.object);
    });
    for (const key of keys) if (!this.ids.has(key)) unknown.add(key);
    if (unknown.size > 0) this.resolve(unknown);
    const encoded: number[] = [];
    for (let i = 0; i < keys.length; i += 3) {
      const s = this.ids.get(keys[i] as string);
      const p = this.ids.get(keys[i + 1] as string);
      const o = this.ids.get(keys[i + 2] as string);
      if (s && p && o) encoded.push(s, p, o);
    }
    return encoded;
  }

  private resolve(unknown: Set<string>): void {
    if (this.ids.size > REMEMBERED_IDS) this.ids.clear();
    for (const row of this.db.all("SELECT key, id FROM rdf_term WHERE key IN (SELECT value FROM json_each(?))", [
      JSON.stringify([...unknown]),
    ])) {
      this.ids.set(String(row[0]), Number(row[1]));
      unknown.delete(String(row[0]));
    }
    if (this.knownOnly || unknown.size === 0) return;
    // Only keys not in the dictionary remain; RETURNING hands back their new ids in the same statement.
    for (const row of this.db.all(
      "INSERT INTO rdf_term (key) SELECT value FROM json_each(?) WHERE true ON CONFLICT (key) DO NOTHING RETURNING key, id",
      [JSON.stringify([...unknown])],
    )) {
      this.ids.set(String(row[0]), Number(row[1]));
    }
  }
}

/** Flat triples of ids that grow without copying on every append (3 × 4 bytes per triple). */
export class TripleIdBuffer {
  private data = new Uint32Array(3 * 4096);
  private length = 0;

  push(ids: readonly number[]): void {
    if (this.length + ids.length > this.data.length) {
      const grown = new Uint32Array(Math.max(this.data.length * 2, this.length + ids.length));
      grown.set(this.data.subarray(0, this.length));
      this.data = grown;
    }
    for (let i = 0; i < ids.length; i++) this.data[this.length + i] = ids[i] as number;
    this.length += ids.length;
  }

  view(): Uint32Array {
    return this.data.subarray(0, this.length);
  }
}
