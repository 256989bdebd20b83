import { bytesToHex } from "../../core/encoding";
import { type IncrementalHashFactory, incrementalSha256 } from "../../crypto/incremental-sha256";
import { type CanonicalizeOptions, canonicalizeQuads } from "../canonical-hash";
import { compareCodeUnits, termToNTriples } from "../ntriples";
import { dataFactory, termFromKey } from "./term-key";

export interface CanonicalTriplesOptions {
  /** Incremental SHA-256 for the canonical document (default: DigestStream in workerd, else @noble/hashes). */
  hash?: IncrementalHashFactory;
  /** The stored blank-node labels already are this dataset's RDFC-1.0 labels (`c14n<k>`): skip relabeling. */
  canonicalBlankLabels?: boolean;
  canonicalize?: CanonicalizeOptions;
}

export interface CanonicalTriplesHash {
  /** `sha256:<hex>` of the RDFC-1.0 canonical N-Quads document. */
  hash: string;
  /** Distinct triples hashed. */
  triples: number;
}

/** Bytes of canonical N-Triples per piece (a longer line gets a piece of its own). */
const CHUNK_BYTES = 1 << 20;

const isBlankKey = (key: string) => key.charCodeAt(0) === 95; /* _ */

/**
 * The canonical N-Triples document of a set of dictionary-encoded triples (`triples` holds s, p, o ids in
 * turn; duplicates allowed), produced in pieces of about 1 MB without ever existing as one string: only the
 * distinct terms are sorted, then the triples by their terms' ranks.
 *
 * Sorting by ranks equals sorting the lines because each term's canonical token ends unambiguously (`>`, a
 * closing quote or a label followed by a space), so comparing lines compares subject, predicate and object
 * tokens in turn. Blank-node labels come from RDFC-1.0 run on the triples that contain blank nodes only:
 * ground triples take no part in labeling.
 */
export async function canonicalDocument(
  triples: Uint32Array,
  keysOf: (ids: number[]) => Map<number, string>,
  options: Omit<CanonicalTriplesOptions, "hash"> = {},
): Promise<CanonicalDocument> {
  const count = Math.floor(triples.length / 3);
  const ids = distinctIds(triples.subarray(0, count * 3));
  const keys = keysOf(ids);
  const keyOf = (id: number) => {
    const key = keys.get(id);
    if (key === undefined) throw new Error(`term ${id} is not in the dictionary`);
    return key;
  };

  let blankLabels: Map<string, string> | undefined;
  if (!options.canonicalBlankLabels && ids.some((id) => isBlankKey(keyOf(id)))) {
    const quads = [];
    for (let i = 0; i < count; i++) {
      const s = keyOf(triples[3 * i] as number);
      const o = keyOf(triples[3 * i + 2] as number);
      if (!isBlankKey(s) && !isBlankKey(o)) continue;
      const p = keyOf(triples[3 * i + 1] as number);
      quads.push(dataFactory.quad(termFromKey(s) as never, termFromKey(p) as never, termFromKey(o) as never));
    }
    blankLabels = (await canonicalizeQuads(quads, options.canonicalize)).issuedIdentifiers;
  }

  const entries = ids.map((id): [string, number] => {
    const key = keyOf(id);
    if (blankLabels && isBlankKey(key)) return [`_:${blankLabels.get(key.slice(2)) ?? key.slice(2)}`, id];
    return [canonicalToken(key), id];
  });
  keys.clear();
  entries.sort((a, b) => compareCodeUnits(a[0], b[0]));
  const rankOf = rankLookup(entries);
  const tokens = encodeTokens(entries);
  const { order, ranks } = sortByRanks(triples, count, rankOf, entries.length);
  return new CanonicalDocument(tokens, order, ranks);
}

/** The lines of a canonical document in order, as UTF-8 pieces; iterate once. */
export class CanonicalDocument implements CanonicalLines {
  /** Distinct triples (lines) produced so far. */
  lines = 0;

  constructor(
    private readonly tokens: TokenTable,
    private readonly order: Uint32Array,
    private readonly ranks: Uint32Array,
  ) {}

  *[Symbol.iterator](): Iterator<Uint8Array> {
    const { tokens, order, ranks } = this;
    // Lines are assembled as bytes from each term's encoded token: no per-line strings, no re-encoding.
    let buffer = new Uint8Array(CHUNK_BYTES);
    let used = 0;
    let previous = -1;
    const { bytes, offsets } = tokens;
    const put = (rank: number) => {
      const from = offsets[rank] as number;
      const to = offsets[rank + 1] as number;
      if (to - from < 32) {
        for (let i = from; i < to; i++) buffer[used++] = bytes[i] as number;
      } else {
        buffer.set(bytes.subarray(from, to), used);
        used += to - from;
      }
    };
    const size = (rank: number) => (offsets[rank + 1] as number) - (offsets[rank] as number);
    for (const index of order) {
      if (previous >= 0 && sameTriple(ranks, previous, index)) continue;
      previous = index;
      const s = ranks[3 * index] as number;
      const p = ranks[3 * index + 1] as number;
      const o = ranks[3 * index + 2] as number;
      const length = size(s) + size(p) + size(o) + 5;
      if (used + length > buffer.length) {
        yield buffer.subarray(0, used);
        // A fresh buffer each time: the consumer may still hold the previous piece.
        buffer = new Uint8Array(Math.max(CHUNK_BYTES, length));
        used = 0;
      }
      put(s);
      buffer[used++] = 32;
      put(p);
      buffer[used++] = 32;
      put(o);
      buffer[used++] = 32;
      buffer[used++] = 46;
      buffer[used++] = 10;
      this.lines += 1;
    }
    if (used > 0) yield buffer.subarray(0, used);
  }

  /** The document as a byte stream, produced piece by piece as the reader pulls. */
  stream(): ReadableStream<Uint8Array> {
    const pieces = this[Symbol.iterator]();
    return new ReadableStream({
      type: "bytes",
      pull(controller) {
        const next = pieces.next();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
    });
  }
}

/** A canonical N-Triples document produced piece by piece, held in memory or sorted by SQLite. */
export interface CanonicalLines extends Iterable<Uint8Array> {
  /** Distinct triples (lines) produced so far. */
  readonly lines: number;
  stream(): ReadableStream<Uint8Array>;
}

/** The RDFC-1.0 hash of a set of dictionary-encoded triples: SHA-256 of their canonical document. */
export async function canonicalHashOfTriples(
  triples: Uint32Array,
  keysOf: (ids: number[]) => Map<number, string>,
  options: CanonicalTriplesOptions = {},
): Promise<CanonicalTriplesHash> {
  return hashCanonicalLines(await canonicalDocument(triples, keysOf, options), options.hash);
}

/** SHA-256 of a canonical document, read once piece by piece. */
export async function hashCanonicalLines(
  document: CanonicalLines,
  hashFactory: IncrementalHashFactory = incrementalSha256,
): Promise<CanonicalTriplesHash> {
  const hash = hashFactory();
  for (const piece of document) await hash.update(piece);
  return { hash: `sha256:${bytesToHex(await hash.digest())}`, triples: document.lines };
}

/** Every term's canonical token as UTF-8, back to back in one buffer: token k is bytes[offsets[k]..offsets[k+1]). */
interface TokenTable {
  bytes: Uint8Array;
  offsets: Uint32Array;
}

// One buffer instead of a typed array per term: hundreds of thousands of small views would cost more
// memory than their bytes.
function encodeTokens(entries: [string, number][]): TokenTable {
  const encoder = new TextEncoder();
  let characters = 0;
  for (const [token] of entries) characters += token.length;
  let bytes = new Uint8Array(characters + 1024);
  const offsets = new Uint32Array(entries.length + 1);
  let used = 0;
  entries.forEach(([token], rank) => {
    for (;;) {
      const { read, written } = encoder.encodeInto(token, bytes.subarray(used));
      if (read === token.length) {
        used += written;
        break;
      }
      // Non-ASCII text takes more bytes than characters: grow and encode this token again.
      const grown = new Uint8Array(bytes.length * 2 + 4 * token.length);
      grown.set(bytes.subarray(0, used));
      bytes = grown;
    }
    offsets[rank + 1] = used;
  });
  return { bytes: bytes.subarray(0, used), offsets };
}

/** The distinct ids among `ids`, through a bit set over the id range rather than a Set of numbers. */
function distinctIds(ids: Uint32Array): number[] {
  let maxId = 0;
  for (const id of ids) if (id > maxId) maxId = id;
  const seen = new Uint32Array((maxId >>> 5) + 1);
  const distinct: number[] = [];
  for (const id of ids) {
    const word = id >>> 5;
    const bit = 1 << (id & 31);
    if (((seen[word] as number) & bit) === 0) {
      seen[word] = (seen[word] as number) | bit;
      distinct.push(id);
    }
  }
  return distinct;
}

/** id → rank: a typed array when ids are dense enough, else a Map. */
function rankLookup(entries: [string, number][]): (id: number) => number {
  let maxId = 0;
  for (const [, id] of entries) if (id > maxId) maxId = id;
  if (maxId <= 4 * entries.length + 1_000_000) {
    const ranks = new Uint32Array(maxId + 1);
    entries.forEach(([, id], rank) => {
      ranks[id] = rank;
    });
    return (id) => ranks[id] as number;
  }
  const ranks = new Map<number, number>();
  entries.forEach(([, id], rank) => {
    ranks.set(id, rank);
  });
  return (id) => ranks.get(id) as number;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: the characters canonical N-Triples escapes in IRIs
const IRI_ESCAPES = /[\u0000-\u0020<>"{}|^`\\]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the characters canonical N-Triples escapes in literals
const LITERAL_ESCAPES = /[\u0000-\u001F\u007F"\\]/;

/**
 * A term's canonical N-Triples token from its dictionary key. Most keys need no escaping and already are
 * the token (IRIs, blank nodes, plain and language-tagged literals): skip decoding them into terms.
 */
export function canonicalToken(key: string): string {
  const first = key.charCodeAt(0);
  if (first === 95 /* _ */ || (first === 60 /* < */ && !IRI_ESCAPES.test(key.slice(1, -1)))) return key;
  if (first === 34 /* " */) {
    const end = key.lastIndexOf('"');
    if (!LITERAL_ESCAPES.test(key.slice(1, end))) {
      if (end === key.length - 1 || key.charCodeAt(end + 1) === 64 /* @ */) return key;
      const datatype = key.slice(end + 3);
      if (!IRI_ESCAPES.test(datatype)) return `${key.slice(0, end + 3)}<${datatype}>`;
    }
  }
  return termToNTriples(termFromKey(key));
}

function sameTriple(ranks: Uint32Array, a: number, b: number): boolean {
  return (
    ranks[3 * a] === ranks[3 * b] && ranks[3 * a + 1] === ranks[3 * b + 1] && ranks[3 * a + 2] === ranks[3 * b + 2]
  );
}

/** Triple indexes ordered by (subject, predicate, object) rank: a counting sort on the subject, then small sorts. */
function sortByRanks(
  triples: Uint32Array,
  count: number,
  rankOf: (id: number) => number,
  terms: number,
): { order: Uint32Array; ranks: Uint32Array } {
  const ranks = new Uint32Array(count * 3);
  for (let i = 0; i < count * 3; i++) ranks[i] = rankOf(triples[i] as number);
  const starts = new Uint32Array(terms + 1);
  for (let i = 0; i < count; i++) {
    const next = (ranks[3 * i] as number) + 1;
    starts[next] = (starts[next] as number) + 1;
  }
  for (let r = 0; r < terms; r++) starts[r + 1] = (starts[r + 1] as number) + (starts[r] as number);
  const order = new Uint32Array(count);
  const fill = starts.slice(0, terms);
  for (let i = 0; i < count; i++) {
    const rank = ranks[3 * i] as number;
    order[fill[rank] as number] = i;
    fill[rank] = (fill[rank] as number) + 1;
  }
  const byPredicateObject = (a: number, b: number) =>
    (ranks[3 * a + 1] as number) - (ranks[3 * b + 1] as number) ||
    (ranks[3 * a + 2] as number) - (ranks[3 * b + 2] as number);
  for (let r = 0; r < terms; r++) {
    const from = starts[r] as number;
    const to = starts[r + 1] as number;
    if (to - from <= 1) continue;
    if (to - from <= 32) {
      // Insertion sort: most subjects have a handful of triples.
      for (let i = from + 1; i < to; i++) {
        const current = order[i] as number;
        let j = i - 1;
        while (j >= from && byPredicateObject(order[j] as number, current) > 0) {
          order[j + 1] = order[j] as number;
          j--;
        }
        order[j + 1] = current;
      }
    } else {
      order.set(Array.from(order.subarray(from, to)).sort(byPredicateObject), from);
    }
  }
  return { order, ranks };
}
