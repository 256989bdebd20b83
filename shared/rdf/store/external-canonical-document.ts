import type * as RDF from "@rdfjs/types";
import type { SqlDatabase, SqlValue } from "../../sql/sql-database";
import { type CanonicalizeOptions, canonicalizeQuads } from "../canonical-hash";
import { CanonicalizationLimitError } from "../errors";
import { canonicalToken } from "./canonical-triples";
import { codeUnitOrderKeyHex, sortsAsUtf8, utf8FromCodeUnitOrderKey } from "./code-unit-order-key";
import { dataFactory, termFromKey } from "./term-key";

/** Triples read from SQLite per page, and canonical lines written or read back per page. */
export const CANONICAL_PAGE_ROWS = 5000;
/**
 * Triples with blank nodes held in memory for RDFC-1.0 labeling, the only part of a version that is (the
 * same bound an upload holds them to): beyond this, 422 `canonicalization-limit`.
 */
export const MAX_BLANK_NODE_TRIPLES = 200_000;
/** Characters of one insert's JSON parameter, well under the 2 MB limit on one bound value (a longer line goes alone). */
const INSERT_CHARS = 900_000;
/** Bytes of canonical N-Triples per piece handed to the reader (a longer line gets a piece of its own). */
const PIECE_BYTES = 1 << 20;

/** Where the triples to canonicalize are stored: a version of a graph, or an upload's staging table. */
export type TripleSource = { graphId: number; version: number } | "rdf_staging";

export interface ExternalCanonicalOptions {
  /** Rows per page (tests make it tiny to prove that no more than a page is ever held). */
  pageRows?: number;
  /** Triples with blank nodes that may be held for labeling (default MAX_BLANK_NODE_TRIPLES). */
  maxBlankNodeTriples?: number;
  /** The stored blank-node labels already are RDFC-1.0's (`c14n<k>`): skip labeling. */
  canonicalBlankLabels?: boolean;
  canonicalize?: CanonicalizeOptions;
}

/** What a canonical document held in memory at most, and how much it read: how the memory bound is tested. */
export interface CanonicalDocumentUsage {
  /** Pages of triples read to write the canonical lines. */
  triplePages: number;
  /** Pages of sorted lines read back. */
  linePages: number;
  /** Most rows (triples or lines) held at once. */
  mostRowsHeld: number;
  /** Triples with blank nodes held for labeling. */
  blankNodeTriples: number;
}

/** SQL of the source's triples (s, p, o ids) after a keyset position, in primary-key order, with their keys. */
function pageQuery(source: TripleSource, after: readonly number[] | null, pageRows: number) {
  const inVersion = typeof source === "object";
  const from = inVersion ? "rdf_quad" : "rdf_staging";
  const conditions = inVersion ? ["g = ?", "added_in <= ?", "removed_in > ?"] : [];
  const params: SqlValue[] = inVersion ? [source.graphId, source.version, source.version] : [];
  if (after) {
    conditions.push("(s, p, o) > (?, ?, ?)");
    params.push(...after);
  }
  params.push(pageRows);
  const where = conditions.length > 0 ? `WHERE ${conditions.join(" AND ")}` : "";
  return {
    sql: `SELECT q.s, q.p, q.o, ts.key, tp.key, tob.key
          FROM (SELECT s, p, o FROM ${from} ${where} ORDER BY s, p, o LIMIT ?) q
          JOIN rdf_term ts ON ts.id = q.s JOIN rdf_term tp ON tp.id = q.p JOIN rdf_term tob ON tob.id = q.o`,
    params,
  };
}

/** The triples of the source that have a blank node, as quads (at most `limit + 1`, to detect the excess). */
function blankNodeTriples(db: SqlDatabase, source: TripleSource, limit: number): RDF.Quad[] {
  const inVersion = typeof source === "object";
  const sql = `SELECT ts.key, tp.key, tob.key FROM ${inVersion ? "rdf_quad" : "rdf_staging"} q
    JOIN rdf_term ts ON ts.id = q.s JOIN rdf_term tp ON tp.id = q.p JOIN rdf_term tob ON tob.id = q.o
    WHERE ${inVersion ? "q.g = ? AND q.added_in <= ? AND q.removed_in > ? AND" : ""}
    (substr(ts.key, 1, 1) = '_' OR substr(tob.key, 1, 1) = '_') LIMIT ?`;
  const params: SqlValue[] = inVersion ? [source.graphId, source.version, source.version, limit + 1] : [limit + 1];
  return db
    .all(sql, params)
    .map((row) =>
      dataFactory.quad(
        termFromKey(String(row[0])) as RDF.Quad_Subject,
        termFromKey(String(row[1])) as RDF.Quad_Predicate,
        termFromKey(String(row[2])) as RDF.Quad_Object,
      ),
    );
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * The canonical N-Triples document of stored triples, sorted by SQLite instead of in the heap: each page of
 * triples becomes canonical lines written to `rdf_canonical_line` under a key whose byte order is the lines'
 * code-unit order (so the primary key sorts them), then the lines are read back page by page. Only the
 * triples with blank nodes are held in memory at once, for RDFC-1.0 labeling; ground triples never take
 * part in labeling. The lines' rows belong to `run` and are deleted when the document has been read.
 *
 * Not to be called inside a transaction: it yields to the event loop between pages.
 */
export async function externalCanonicalDocument(
  db: SqlDatabase,
  source: TripleSource,
  run: number,
  options: ExternalCanonicalOptions = {},
): Promise<ExternalCanonicalDocument> {
  const pageRows = options.pageRows ?? CANONICAL_PAGE_ROWS;
  const usage: CanonicalDocumentUsage = { triplePages: 0, linePages: 0, mostRowsHeld: 0, blankNodeTriples: 0 };
  let labels: Map<string, string> | null = null;
  if (!options.canonicalBlankLabels) {
    const limit = options.maxBlankNodeTriples ?? MAX_BLANK_NODE_TRIPLES;
    const quads = blankNodeTriples(db, source, limit);
    if (quads.length > limit) {
      throw new CanonicalizationLimitError(
        `More than ${limit} triples with blank nodes in one version; give the nodes IRIs or split the graph`,
      );
    }
    usage.blankNodeTriples = quads.length;
    if (quads.length > 0) labels = (await canonicalizeQuads(quads, options.canonicalize)).issuedIdentifiers;
  }
  const token = (key: string) =>
    labels && key.charCodeAt(0) === 95 /* _ */ ? `_:${labels.get(key.slice(2)) ?? key.slice(2)}` : canonicalToken(key);

  const document = new ExternalCanonicalDocument(db, run, pageRows, usage);
  try {
    db.run("DELETE FROM rdf_canonical_line WHERE run = ?", [run]);
    let after: number[] | null = null;
    let rowsSinceYield = 0;
    for (;;) {
      const { sql, params } = pageQuery(source, after, pageRows);
      const rows = db.all(sql, params);
      if (rows.length === 0) break;
      usage.triplePages += 1;
      usage.mostRowsHeld = Math.max(usage.mostRowsHeld, rows.length);
      let batch: string[] = [];
      let batchChars = 0;
      for (const row of rows) {
        const line = `${token(String(row[3]))} ${token(String(row[4]))} ${token(String(row[5]))} .\n`;
        // Most lines are stored as text (SQLite's UTF-8 is their order key); the rest go as hex of their key.
        const item = JSON.stringify(sortsAsUtf8(line) ? line : [codeUnitOrderKeyHex(line)]);
        batch.push(item);
        batchChars += item.length + 1;
        if (batchChars >= INSERT_CHARS) {
          insertLines(db, run, batch);
          batch = [];
          batchChars = 0;
        }
        if (after === null || compareIds(row, after) > 0) after = [Number(row[0]), Number(row[1]), Number(row[2])];
      }
      insertLines(db, run, batch);
      if (rows.length < pageRows) break;
      rowsSinceYield += rows.length;
      if (rowsSinceYield >= CANONICAL_PAGE_ROWS) {
        // Lets the requests that share the thread be answered during a long write.
        rowsSinceYield = 0;
        await yieldToEventLoop();
      }
    }
  } catch (error) {
    document.release();
    throw error;
  }
  return document;
}

function compareIds(row: unknown[], ids: readonly number[]): number {
  return (
    Number(row[0]) - (ids[0] as number) || Number(row[1]) - (ids[1] as number) || Number(row[2]) - (ids[2] as number)
  );
}

/** Inserts lines given as JSON items: a string is the line, `["<hex>"]` the order key of one. */
function insertLines(db: SqlDatabase, run: number, batch: string[]): void {
  if (batch.length === 0) return;
  db.run(
    `INSERT OR IGNORE INTO rdf_canonical_line (run, line)
     SELECT ?, CASE type WHEN 'array' THEN unhex(value ->> 0) ELSE CAST(value AS BLOB) END FROM json_each(?)`,
    [run, `[${batch.join(",")}]`],
  );
}

const asBytes = (value: unknown): Uint8Array =>
  value instanceof Uint8Array ? value : new Uint8Array(value as ArrayBuffer);

/** The sorted lines of an external canonical document, as UTF-8 pieces; iterate once. */
export class ExternalCanonicalDocument implements Iterable<Uint8Array> {
  /** Distinct triples (lines) produced so far. */
  lines = 0;
  private released = false;

  constructor(
    private readonly db: SqlDatabase,
    private readonly run: number,
    private readonly pageRows: number,
    readonly usage: CanonicalDocumentUsage,
  ) {}

  *[Symbol.iterator](): Iterator<Uint8Array> {
    if (this.released) throw new Error("the canonical document was already read");
    try {
      let piece = new Uint8Array(PIECE_BYTES);
      let used = 0;
      let after: Uint8Array | null = null;
      for (;;) {
        const rows = after
          ? this.db.all("SELECT line FROM rdf_canonical_line WHERE run = ? AND line > ? ORDER BY line LIMIT ?", [
              this.run,
              after,
              this.pageRows,
            ])
          : this.db.all("SELECT line FROM rdf_canonical_line WHERE run = ? ORDER BY line LIMIT ?", [
              this.run,
              this.pageRows,
            ]);
        if (rows.length === 0) break;
        this.usage.linePages += 1;
        this.usage.mostRowsHeld = Math.max(this.usage.mostRowsHeld, rows.length);
        for (const row of rows) {
          const key = asBytes(row[0]);
          after = key.slice();
          const line = utf8FromCodeUnitOrderKey(key.slice());
          if (used + line.length > piece.length) {
            if (used > 0) yield piece.subarray(0, used);
            // A fresh buffer each time: the consumer may still hold the previous piece.
            piece = new Uint8Array(Math.max(PIECE_BYTES, line.length));
            used = 0;
          }
          piece.set(line, used);
          used += line.length;
          this.lines += 1;
        }
        if (rows.length < this.pageRows) break;
      }
      if (used > 0) yield piece.subarray(0, used);
    } finally {
      this.release();
    }
  }

  /** The document as a byte stream, produced piece by piece as the reader pulls; cancelling releases it. */
  stream(): ReadableStream<Uint8Array> {
    const pieces = this[Symbol.iterator]();
    return new ReadableStream({
      type: "bytes",
      pull(controller) {
        const next = pieces.next();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
      cancel: () => {
        pieces.return?.();
        this.release();
      },
    });
  }

  /** Deletes the document's lines (done by itself once read to the end). Idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.db.run("DELETE FROM rdf_canonical_line WHERE run = ?", [this.run]);
  }
}
