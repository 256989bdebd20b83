import type * as RDF from "@rdfjs/types";
import type { SqlDatabase } from "../../sql/sql-database";
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
  private mostlyNew = false;

  constructor(
    private readonly db: SqlDatabase,
    private readonly knownOnly = false,
  ) {}

  /** s, p, o ids of each triple in turn. A chunk's JSON stays one bound parameter per statement. */
  encode(triples: readonly RDF.Quad[]): number[] {
    const keys: string[] = new Array(triples.length * 3);
    const unknown = new Set<string>();
    // Parsers hand out the same term object for a repeated subject (`;`) or predicate (`,`): skip its key.
    let lastSubject: RDF.Term | undefined;
    let lastPredicate: RDF.Term | undefined;
    let subjectKey = "";
    let predicateKey = "";
    for (let i = 0; i < triples.length; i++) {
      const quad = triples[i] as RDF.Quad;
      if (quad.subject !== lastSubject) {
        lastSubject = quad.subject;
        subjectKey = termKey(quad.subject);
        if (!this.ids.has(subjectKey)) unknown.add(subjectKey);
      }
      if (quad.predicate !== lastPredicate) {
        lastPredicate = quad.predicate;
        predicateKey = termKey(quad.predicate);
        if (!this.ids.has(predicateKey)) unknown.add(predicateKey);
      }
      const objectKey = termKey(quad.object);
      if (!this.ids.has(objectKey)) unknown.add(objectKey);
      keys[3 * i] = subjectKey;
      keys[3 * i + 1] = predicateKey;
      keys[3 * i + 2] = objectKey;
    }
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

  /** Drops the remembered ids (their memory is needed elsewhere once encoding is done). */
  forget(): void {
    this.ids.clear();
  }

  private resolve(unknown: Set<string>): void {
    if (this.ids.size > REMEMBERED_IDS) this.ids.clear();
    const total = unknown.size;
    // A bulk upload mostly meets new terms: then inserting first saves a lookup per term; otherwise look up first.
    if (!this.knownOnly && this.mostlyNew) this.insert(unknown);
    const found = this.lookup(unknown);
    if (!this.knownOnly && unknown.size > 0) this.insert(unknown);
    this.mostlyNew = 2 * found < total;
  }

  /** Adds the keys not yet in the dictionary; RETURNING hands back their new ids in the same statement. */
  private insert(unknown: Set<string>): void {
    for (const row of this.db.all(
      "INSERT INTO rdf_term (key) SELECT value FROM json_each(?) WHERE true ON CONFLICT (key) DO NOTHING RETURNING key, id",
      [JSON.stringify([...unknown])],
    )) {
      this.ids.set(String(row[0]), Number(row[1]));
      unknown.delete(String(row[0]));
    }
  }

  private lookup(unknown: Set<string>): number {
    if (unknown.size === 0) return 0;
    let found = 0;
    for (const row of this.db.all("SELECT key, id FROM rdf_term WHERE key IN (SELECT value FROM json_each(?))", [
      JSON.stringify([...unknown]),
    ])) {
      this.ids.set(String(row[0]), Number(row[1]));
      unknown.delete(String(row[0]));
      found += 1;
    }
    return found;
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
