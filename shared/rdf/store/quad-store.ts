import type * as RDF from "@rdfjs/types";
import { QuotaExceededError } from "../../quota-errors";
import type { SqlDatabase } from "../../sql/sql-database";
import { VersionTooLargeError } from "../errors";
import {
  type CanonicalLines,
  type CanonicalTriplesOptions,
  canonicalDocument,
  canonicalHashOfTriples,
  hashCanonicalLines,
} from "./canonical-triples";
import {
  type ExternalCanonicalDocument,
  type ExternalCanonicalOptions,
  externalCanonicalDocument,
  type TripleSource,
} from "./external-canonical-document";
import { GraphUpload, type UploadOptions } from "./graph-upload";
import { QuadStoreError } from "./quad-store-error";
import { STILL_PRESENT } from "./quad-store-schema";
import { dataFactory, type StoredTerm, termFromKey, termKey } from "./term-key";
import { TripleEncoder, TripleIdBuffer } from "./triple-encoder";

export { STILL_PRESENT } from "./quad-store-schema";

/** Rows per `json_each(?)` parameter: one bound parameter per statement, bounded JSON size. */
const CHUNK_ROWS = 5000;
// Bounded for the 128 MB isolate: ~100k decoded terms stay well under 30 MB.
const TERM_CACHE_LIMIT = 100_000;
/** Characters of term text per chunk, well under the 2 MB limit on one bound value (JSON escapes add some). */
const CHUNK_CHARS = 600_000;

export { QuadStoreError } from "./quad-store-error";

/**
 * Versions up to this many triples are canonicalized in the heap (1.5 million LUBM triples fitted a 96 MB
 * heap, and it is faster); larger ones are sorted by SQLite (external-canonical-document.ts), in memory
 * bounded by a page.
 */
export const IN_MEMORY_CANONICAL_TRIPLES = 500_000;

export interface QuadStoreOptions {
  /** How large versions are canonicalized (tests force the SQLite-sorted path with tiny pages). */
  canonical?: Pick<ExternalCanonicalOptions, "pageRows" | "maxBlankNodeTriples"> & {
    /** Versions above this many triples are sorted by SQLite (default IN_MEMORY_CANONICAL_TRIPLES). */
    inMemoryTriples?: number;
  };
}

export interface GraphVersion {
  id: number;
  graph: string;
  number: number;
  /** Canonical hash as given by the caller (RDFC-1.0), or null until `setVersionHash`. */
  hash: string | null;
  tripleCount: number;
  added: number;
  removed: number;
  createdAt: string;
}

export interface GraphSummary {
  name: string;
  latest: GraphVersion | null;
}

/**
 * Limits a new version must keep; checked inside the write's transaction, so a version that breaks one is
 * never stored (VersionTooLargeError, QuotaExceededError on the `triples` counter).
 */
export interface TripleLimits {
  /** Triples one version may hold. */
  maxVersionTriples: number;
  /** Triples the latest versions of all graphs may hold together (the plan's quota). */
  maxTotalTriples: number;
}

export interface CommitOptions {
  /** Creation time, supplied by the caller (shared code reads no clock). */
  createdAt: string;
  hash?: string | null;
  limits?: TripleLimits;
  /**
   * false: record the version without making it the latest; it stays invisible until `publishVersion`
   * (used to hash a patched version before anyone can see it). Default true.
   */
  publish?: boolean;
}

export interface CommitResult {
  version: GraphVersion;
  /** False when the content was unchanged and the existing latest version is returned. */
  created: boolean;
}

export interface VersionDiff {
  from: number;
  to: number;
  added: RDF.Quad[];
  removed: RDF.Quad[];
  changedSubjects: StoredTerm[];
}

/** A graph at one version, as the query engine addresses it. */
export interface GraphRef {
  graphId: number;
  version: number;
}

/** Rows, removals and version rows of one graph's versions after `latest` (never published). */
function discardGraphUncommitted(db: SqlDatabase, graphId: number, latest: number): void {
  if (latest === 0) db.run("DELETE FROM rdf_quad WHERE g = ?", [graphId]);
  // `added_in > 1` / `removed_in < max` let SQLite use the partial indexes instead of reading the whole graph.
  else db.run("DELETE FROM rdf_quad WHERE g = ? AND added_in > 1 AND added_in > ?", [graphId, latest]);
  db.run(
    `UPDATE rdf_quad SET removed_in = ${STILL_PRESENT} WHERE g = ? AND removed_in < ${STILL_PRESENT} AND removed_in > ?`,
    [graphId, latest],
  );
  db.run("DELETE FROM rdf_graph_version WHERE graph = ? AND number > ?", [graphId, latest]);
}

function versionFromRow(row: unknown[], graph: string): GraphVersion {
  return {
    id: Number(row[0]),
    graph,
    number: Number(row[1]),
    hash: row[2] === null ? null : String(row[2]),
    tripleCount: Number(row[3]),
    added: Number(row[4]),
    removed: Number(row[5]),
    createdAt: String(row[6]),
  };
}

const VERSION_COLUMNS = "id, number, hash, triple_count, added, removed, created_at";

/**
 * Versioned, dictionary-encoded triple store over SQLite. Each graph's version `v` is the quads
 * with `added_in <= v < removed_in`; every write makes a new immutable version.
 */
export class QuadStore {
  /** id → term; ids are never reassigned once committed (a failed write clears the cache). */
  private readonly termCache = new Map<number, StoredTerm>();
  /** Per graph id: its version recorded with `publish: false` and the largest term id before that write. */
  private readonly unpublished = new Map<number, { number: number; termsBefore: number }>();

  /** The last `rdf_canonical_line` run handed out: documents read at the same time keep their lines apart. */
  private canonicalRun = 0;
  private readonly inMemoryTriples: number;

  /** `db` must have the `quad-store` schema component applied (see quad-store-schema.ts). */
  constructor(
    readonly db: SqlDatabase,
    private readonly options: QuadStoreOptions = {},
  ) {
    this.inMemoryTriples = options.canonical?.inMemoryTriples ?? IN_MEMORY_CANONICAL_TRIPLES;
  }

  /**
   * Deletes what a write interrupted by an eviction or crash left behind: rows, removals and version rows of
   * versions that were never published (a later write would otherwise commit that version number with
   * them) and staged triples. Call at every start of the store, before any request.
   */
  discardInterruptedWrites(): void {
    this.db.transaction(() => {
      for (const [id, latest] of this.db.all("SELECT id, latest FROM rdf_graph")) {
        discardGraphUncommitted(this.db, Number(id), Number(latest));
      }
      this.db.run(
        "DELETE FROM rdf_graph WHERE latest = 0 AND NOT EXISTS (SELECT 1 FROM rdf_quad WHERE g = rdf_graph.id)",
      );
      this.db.run("DELETE FROM rdf_staging");
      this.db.run("DELETE FROM rdf_staging_remove");
      this.db.run("DELETE FROM rdf_canonical_line");
    });
  }

  /**
   * Starts a streamed replacement of the graph's content (see GraphUpload). The caller holds every other
   * write to the store until the upload is closed.
   */
  beginUpload(name: string, options: UploadOptions = {}): GraphUpload {
    const createdGraph = this.graphId(name) === null;
    const graphId = this.ensureGraph(name);
    const current = this.latestVersion(name);
    const latest = current?.number ?? 0;
    const termsBefore = this.maxTermId();
    // A graph with no triples yet has nothing to diff against: rows go straight in as the next version.
    const direct = !current || current.tripleCount === 0;
    return new GraphUpload(
      {
        db: this.db,
        inMemoryTriples: this.inMemoryTriples,
        termKeys: (ids) => this.termKeys(ids),
        // Labels were made canonical as the upload stored them.
        hashStored: async (hash) =>
          (
            await hashCanonicalLines(
              await this.externalDocument(direct ? { graphId, version: latest + 1 } : "rdf_staging", {
                canonicalBlankLabels: true,
              }),
              hash,
            )
          ).hash,
        insert: (ids) => this.insertEncoded(ids, direct ? { graphId, version: latest + 1 } : "rdf_staging"),
        commit: (hash, createdAt, added, limits) =>
          this.commitUpload(name, graphId, latest, hash, createdAt, limits, direct ? added : null),
        discard: () => this.discardUpload(graphId, createdGraph, latest, termsBefore),
      },
      options,
    );
  }

  /** Graph id by name, or null. */
  graphId(name: string): number | null {
    const row = this.db.all("SELECT id FROM rdf_graph WHERE name = ?", [name])[0];
    return row ? Number(row[0]) : null;
  }

  listGraphs(): GraphSummary[] {
    const rows = this.db.all(
      `SELECT g.name, v.id, v.number, v.hash, v.triple_count, v.added, v.removed, v.created_at
       FROM rdf_graph g LEFT JOIN rdf_graph_version v ON v.graph = g.id AND v.number = g.latest ORDER BY g.name`,
    );
    return rows.map((row) => {
      const name = String(row[0]);
      return { name, latest: row[1] === null ? null : versionFromRow(row.slice(1), name) };
    });
  }

  latestVersion(name: string): GraphVersion | null {
    const id = this.graphId(name);
    if (id === null) return null;
    const row = this.db.all(
      `SELECT ${VERSION_COLUMNS} FROM rdf_graph_version WHERE graph = ? AND number = (SELECT latest FROM rdf_graph WHERE id = ?)`,
      [id, id],
    )[0];
    return row ? versionFromRow(row, name) : null;
  }

  /** A published version (one not after the graph's latest), or null. */
  getVersion(name: string, number: number): GraphVersion | null {
    const id = this.graphId(name);
    if (id === null) return null;
    const row = this.db.all(
      `SELECT ${VERSION_COLUMNS} FROM rdf_graph_version WHERE graph = ?1 AND number = ?2
       AND number <= (SELECT latest FROM rdf_graph WHERE id = ?1)`,
      [id, number],
    )[0];
    return row ? versionFromRow(row, name) : null;
  }

  listVersions(name: string): GraphVersion[] {
    const id = this.requireGraph(name);
    return this.db
      .all(
        `SELECT ${VERSION_COLUMNS} FROM rdf_graph_version WHERE graph = ?1
         AND number <= (SELECT latest FROM rdf_graph WHERE id = ?1) ORDER BY number`,
        [id],
      )
      .map((row) => versionFromRow(row, name));
  }

  /**
   * Makes a version recorded with `publish: false` the graph's latest, with its hash. Throws when it is not
   * the next version (writers are serialized, so that means a bug in the caller).
   */
  publishVersion(name: string, number: number, hash: string): GraphVersion {
    const id = this.requireGraph(name);
    return this.db.transaction(() => {
      this.db.run("UPDATE rdf_graph_version SET hash = ? WHERE graph = ? AND number = ?", [hash, id, number]);
      const moved = this.db.run("UPDATE rdf_graph SET latest = ? WHERE id = ? AND latest = ?", [
        number,
        id,
        number - 1,
      ]);
      if (moved.changes !== 1) throw new Error(`version ${number} of ${name} is not the next version`);
      return this.getVersion(name, number) as GraphVersion;
    });
  }

  /**
   * Undoes whatever lies after the graph's latest version: a version recorded with `publish: false`, or an
   * upload's uncommitted rows (rows, removals and version rows).
   */
  discardPendingVersions(name: string): void {
    const id = this.requireGraph(name);
    const pending = this.unpublished.get(id);
    this.unpublished.delete(id);
    try {
      this.db.transaction(() => {
        const latest = this.latest(id);
        discardGraphUncommitted(this.db, id, latest);
        // Writes are serialized while a version waits to be published, so newer terms are that version's alone.
        if (pending && latest < pending.number) {
          this.db.run("DELETE FROM rdf_term WHERE id > ?", [pending.termsBefore]);
        }
      });
    } finally {
      this.termCache.clear();
    }
  }

  /** Resolves a graph name and optional version number (default: latest) to what the query engine needs. */
  graphRef(name: string, version?: number): GraphRef {
    const id = this.requireGraph(name);
    const found = version === undefined ? this.latestVersion(name) : this.getVersion(name, version);
    if (!found) throw new QuadStoreError("version-not-found", `graph ${name} has no version ${version ?? "yet"}`);
    return { graphId: id, version: found.number };
  }

  setVersionHash(name: string, number: number, hash: string): void {
    const id = this.requireGraph(name);
    this.db.run("UPDATE rdf_graph_version SET hash = ? WHERE graph = ? AND number = ?", [hash, id, number]);
  }

  /** Applies a patch: `remove` then `add` (a triple in both stays). Unchanged content returns the latest version. */
  applyPatch(
    name: string,
    patch: { add?: Iterable<RDF.Quad>; remove?: Iterable<RDF.Quad> },
    options: CommitOptions,
  ): CommitResult {
    return this.write(() => {
      const graphId = this.ensureGraph(name);
      const termsBefore = this.maxTermId();
      this.db.run("DELETE FROM rdf_staging");
      this.db.run("DELETE FROM rdf_staging_remove");
      if (patch.add) this.stage(patch.add, "rdf_staging");
      if (patch.remove) this.stage(patch.remove, "rdf_staging_remove", true);
      const latest = this.latest(graphId);
      const next = latest + 1;
      const removed = this.db.run(
        `UPDATE rdf_quad SET removed_in = ? WHERE g = ? AND removed_in = ${STILL_PRESENT}
         AND EXISTS (SELECT 1 FROM rdf_staging_remove r WHERE r.s = rdf_quad.s AND r.p = rdf_quad.p AND r.o = rdf_quad.o)
         AND NOT EXISTS (SELECT 1 FROM rdf_staging st WHERE st.s = rdf_quad.s AND st.p = rdf_quad.p AND st.o = rdf_quad.o)`,
        [next, graphId],
      ).changes;
      const added = this.addStaged(graphId, next);
      this.db.run("DELETE FROM rdf_staging");
      this.db.run("DELETE FROM rdf_staging_remove");
      const result = this.commitVersion(name, graphId, latest, added, removed, options);
      if (result.created && options.publish === false) {
        this.unpublished.set(graphId, { number: result.version.number, termsBefore });
      }
      return result;
    });
  }

  /** Removes the graph, all its versions and quads. Returns false when it did not exist. */
  deleteGraph(name: string): boolean {
    return this.db.transaction(() => {
      const id = this.graphId(name);
      if (id === null) return false;
      this.db.run("DELETE FROM rdf_quad WHERE g = ?", [id]);
      this.db.run("DELETE FROM rdf_graph_version WHERE graph = ?", [id]);
      this.db.run("DELETE FROM rdf_graph WHERE id = ?", [id]);
      return true;
    });
  }

  /**
   * Retention: removes every version of `name` older than its newest `keepNewest`, except those in `keep`,
   * then at most `maxRows` quad rows no remaining version holds (a row is held by version k when
   * `added_in <= k < removed_in`). Remaining versions read, hash and diff exactly as before: a diff
   * between two remaining versions never involves a row that neither of them holds. `more` is true when
   * rows are left for another call (they belong to no version, so they are invisible meanwhile).
   */
  pruneVersions(
    name: string,
    keepNewest: number,
    keep: readonly number[],
    maxRows: number,
  ): { versions: number; quads: number; more: boolean } {
    if (keepNewest < 1) throw new RangeError("keepNewest must be at least 1");
    return this.write(() => {
      const id = this.graphId(name);
      if (id === null) return { versions: 0, quads: 0, more: false };
      const floor = this.latest(id) - keepNewest + 1;
      if (floor <= 1) return { versions: 0, quads: 0, more: false };
      const kept = JSON.stringify([...new Set(keep)].filter((number) => number < floor));
      const versions = this.db.run(
        `DELETE FROM rdf_graph_version WHERE graph = ?1 AND number < ?2
         AND number NOT IN (SELECT value FROM json_each(?3))`,
        [id, floor, kept],
      ).changes;
      // The literal `removed_in < max` lets SQLite use the partial index rdf_quad_removed.
      const unheld = `FROM rdf_quad q WHERE q.g = ?1 AND q.removed_in < ${STILL_PRESENT} AND q.removed_in <= ?2
        AND NOT EXISTS (SELECT 1 FROM json_each(?3) k WHERE k.value >= q.added_in AND k.value < q.removed_in)`;
      const quads = this.db.run(
        `DELETE FROM rdf_quad WHERE (g, s, p, o, added_in) IN (SELECT q.g, q.s, q.p, q.o, q.added_in ${unheld} LIMIT ?4)`,
        [id, floor, kept, maxRows],
      ).changes;
      const more = this.db.all(`SELECT 1 ${unheld} LIMIT 1`, [id, floor, kept]).length > 0;
      return { versions, quads, more };
    });
  }

  /** Streams a version's triples (default graph quads), ordered by subject, predicate, object id. */
  *readVersion(name: string, number?: number): Generator<RDF.Quad> {
    const ref = this.graphRef(name, number);
    let last: [number, number, number] = [-1, -1, -1];
    // Keyset pages keep memory bounded without holding one cursor across the caller's work.
    for (;;) {
      const rows = this.db.all(
        `SELECT q.s, q.p, q.o, ts.key, tp.key, tob.key FROM rdf_quad q
         JOIN rdf_term ts ON ts.id = q.s JOIN rdf_term tp ON tp.id = q.p JOIN rdf_term tob ON tob.id = q.o
         WHERE q.g = ?1 AND q.added_in <= ?2 AND q.removed_in > ?2 AND (q.s, q.p, q.o) > (?3, ?4, ?5)
         ORDER BY q.s, q.p, q.o LIMIT ${CHUNK_ROWS}`,
        [ref.graphId, ref.version, ...last],
      );
      for (const row of rows) yield this.quadFromKeys(row[3], row[4], row[5]);
      const tail = rows[rows.length - 1];
      if (!tail || rows.length < CHUNK_ROWS) return;
      last = [Number(tail[0]), Number(tail[1]), Number(tail[2])];
    }
  }

  /** Triples added and removed between two versions, from range scans over `added_in`/`removed_in`. */
  diffVersions(name: string, from: number, to: number): VersionDiff {
    const id = this.requireGraph(name);
    for (const number of [from, to]) {
      if (number !== 0 && !this.getVersion(name, number)) {
        throw new QuadStoreError("version-not-found", `graph ${name} has no version ${number}`);
      }
    }
    if (from > to) {
      const reverse = this.diffVersions(name, to, from);
      return { from, to, added: reverse.removed, removed: reverse.added, changedSubjects: reverse.changedSubjects };
    }
    const select = (where: string) =>
      this.db
        .all(
          `SELECT ts.key, tp.key, tob.key FROM rdf_quad q
           JOIN rdf_term ts ON ts.id = q.s JOIN rdf_term tp ON tp.id = q.p JOIN rdf_term tob ON tob.id = q.o
           WHERE ${where} ORDER BY ts.key, tp.key, tob.key`,
          [id, from, to],
        )
        .map((row) => this.quadFromKeys(row[0], row[1], row[2]));
    const presentAtFrom = `EXISTS (SELECT 1 FROM rdf_quad x WHERE x.g = ?1 AND x.s = q.s AND x.p = q.p AND x.o = q.o
      AND x.added_in <= ?2 AND x.removed_in > ?2)`;
    const presentAtTo = `EXISTS (SELECT 1 FROM rdf_quad x WHERE x.g = ?1 AND x.s = q.s AND x.p = q.p AND x.o = q.o
      AND x.added_in <= ?3 AND x.removed_in > ?3)`;
    if (from === 0) {
      // From the empty graph: everything in `to` is added.
      const added = [...this.readVersion(name, to)];
      const subjects = new Map<string, StoredTerm>();
      for (const quad of added) subjects.set(termKey(quad.subject), quad.subject as StoredTerm);
      const changedSubjects = [...subjects.keys()].sort().map((key) => subjects.get(key) as StoredTerm);
      return { from, to, added, removed: [], changedSubjects };
    }
    // The literal `added_in > 1` / `removed_in < max` terms let SQLite use the partial indexes.
    const added = select(
      `q.g = ?1 AND q.added_in > 1 AND q.added_in > ?2 AND q.added_in <= ?3 AND q.removed_in > ?3 AND NOT ${presentAtFrom}`,
    );
    const removed = select(
      `q.g = ?1 AND q.removed_in < ${STILL_PRESENT} AND q.removed_in > ?2 AND q.removed_in <= ?3 AND q.added_in <= ?2
       AND NOT ${presentAtTo}`,
    );
    const subjects = new Map<string, StoredTerm>();
    for (const quad of [...added, ...removed]) subjects.set(termKey(quad.subject), quad.subject as StoredTerm);
    const changedSubjects = [...subjects.keys()].sort().map((key) => subjects.get(key) as StoredTerm);
    return { from, to, added, removed, changedSubjects };
  }

  /** Dictionary id of a term, or null when the store has never seen it. */
  termId(term: RDF.Term): number | null {
    if (term.termType !== "NamedNode" && term.termType !== "BlankNode" && term.termType !== "Literal") return null;
    const row = this.db.all("SELECT id FROM rdf_term WHERE key = ?", [termKey(term)])[0];
    return row ? Number(row[0]) : null;
  }

  /** Makes sure the terms of these ids are decoded into the store's term cache (one batched query). */
  loadTerms(ids: Iterable<number>): void {
    const missing: number[] = [];
    for (const id of ids) if (id > 0 && !this.termCache.has(id)) missing.push(id);
    if (missing.length === 0) return;
    if (this.termCache.size + missing.length > TERM_CACHE_LIMIT) this.termCache.clear();
    for (let start = 0; start < missing.length; start += CHUNK_ROWS) {
      const chunk = JSON.stringify(missing.slice(start, start + CHUNK_ROWS));
      for (const row of this.db.all("SELECT id, key FROM rdf_term WHERE id IN (SELECT value FROM json_each(?))", [
        chunk,
      ])) {
        this.termCache.set(Number(row[0]), termFromKey(String(row[1])));
      }
    }
  }

  /** The term of a dictionary id (decoded and cached on first use), or undefined for an unknown id. */
  term(id: number): StoredTerm | undefined {
    let term = this.termCache.get(id);
    if (term === undefined && id > 0) {
      this.loadTerms([id]);
      term = this.termCache.get(id);
    }
    return term;
  }

  private quadFromKeys(s: unknown, p: unknown, o: unknown): RDF.Quad {
    return dataFactory.quad(
      termFromKey(String(s)) as RDF.Quad_Subject,
      termFromKey(String(p)) as RDF.Quad_Predicate,
      termFromKey(String(o)) as RDF.Quad_Object,
    );
  }

  /** Adds the staged triples not already present to version `next`; returns how many were added. */
  private addStaged(graphId: number, next: number): number {
    return this.db.run(
      `INSERT INTO rdf_quad (g, s, p, o, added_in, removed_in)
       SELECT ?1, st.s, st.p, st.o, ?2, ${STILL_PRESENT} FROM rdf_staging st WHERE NOT EXISTS
       (SELECT 1 FROM rdf_quad q WHERE q.g = ?1 AND q.s = st.s AND q.p = st.p AND q.o = st.o AND q.removed_in = ${STILL_PRESENT})`,
      [graphId, next],
    ).changes;
  }

  /**
   * Marks the present triples missing from `rdf_staging` as removed in version `next`; returns how many.
   */
  private removeUnstaged(graphId: number, next: number): number {
    return this.db.run(
      `UPDATE rdf_quad SET removed_in = ? WHERE g = ? AND removed_in = ${STILL_PRESENT} AND NOT EXISTS
       (SELECT 1 FROM rdf_staging st WHERE st.s = rdf_quad.s AND st.p = rdf_quad.p AND st.o = rdf_quad.o)`,
      [next, graphId],
    ).changes;
  }

  /** A write transaction; if it fails, term ids it allocated are rolled back, so cached ids may be stale. */
  private write<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn);
    } catch (error) {
      this.termCache.clear();
      throw error;
    }
  }

  private requireGraph(name: string): number {
    const id = this.graphId(name);
    if (id === null) throw new QuadStoreError("graph-not-found", `graph ${name} does not exist`);
    return id;
  }

  private ensureGraph(name: string): number {
    const existing = this.graphId(name);
    if (existing !== null) return existing;
    this.db.run("INSERT INTO rdf_graph (name, latest) VALUES (?, 0)", [name]);
    return this.graphId(name) as number;
  }

  private maxTermId(): number {
    return Number(this.db.all("SELECT coalesce(max(id), 0) FROM rdf_term")[0]?.[0] ?? 0);
  }

  private latest(graphId: number): number {
    return Number(this.db.all("SELECT latest FROM rdf_graph WHERE id = ?", [graphId])[0]?.[0] ?? 0);
  }

  /**
   * Records version `latest + 1` (unless nothing changed) and, unless `publish: false`, makes it the graph's
   * latest. Throws when it breaks `options.limits`; the caller's transaction then stores none of it.
   */
  private commitVersion(
    name: string,
    graphId: number,
    latest: number,
    added: number,
    removed: number,
    options: CommitOptions,
  ): CommitResult {
    if (latest > 0 && added === 0 && removed === 0) {
      return { version: this.getVersion(name, latest) as GraphVersion, created: false };
    }
    const previous = latest > 0 ? (this.getVersion(name, latest) as GraphVersion).tripleCount : 0;
    const next = latest + 1;
    if (options.limits) this.checkLimits(graphId, previous + added - removed, options.limits);
    this.db.run(
      `INSERT INTO rdf_graph_version (graph, number, hash, triple_count, added, removed, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
      [graphId, next, options.hash ?? null, previous + added - removed, added, removed, options.createdAt],
    );
    if (options.publish !== false) this.db.run("UPDATE rdf_graph SET latest = ? WHERE id = ?", [next, graphId]);
    const row = this.db.all(`SELECT ${VERSION_COLUMNS} FROM rdf_graph_version WHERE graph = ? AND number = ?`, [
      graphId,
      next,
    ])[0] as unknown[];
    return { version: versionFromRow(row, name), created: true };
  }

  /** Throws when a graph holding `triples` in its next version would break a limit. */
  private checkLimits(graphId: number, triples: number, limits: TripleLimits): void {
    if (triples > limits.maxVersionTriples) throw new VersionTooLargeError(limits.maxVersionTriples);
    const others = Number(
      this.db.all(
        `SELECT coalesce(sum(v.triple_count), 0) FROM rdf_graph g
         JOIN rdf_graph_version v ON v.graph = g.id AND v.number = g.latest WHERE g.id <> ?`,
        [graphId],
      )[0]?.[0] ?? 0,
    );
    const total = others + triples;
    if (total > limits.maxTotalTriples) {
      throw new QuotaExceededError(
        "triples",
        limits.maxTotalTriples,
        total,
        `The plan allows ${limits.maxTotalTriples} triples in all graphs.`,
      );
    }
  }

  /**
   * Records an upload's version in one transaction: the content was staged (or, for a graph with no
   * content yet, written as rows of the next version) and hashed by the upload.
   */
  private commitUpload(
    name: string,
    graphId: number,
    latest: number,
    hash: string,
    createdAt: string,
    limits: TripleLimits | undefined,
    directlyAdded: number | null,
  ): CommitResult {
    return this.write(() => {
      if (directlyAdded !== null) {
        return this.commitVersion(name, graphId, latest, directlyAdded, 0, { createdAt, hash, limits });
      }
      const current = this.getVersion(name, latest);
      // Same canonical hash = same graph up to blank-node labels: keep the existing version.
      if (current && current.hash === hash) return { version: current, created: false };
      const next = latest + 1;
      const removed = this.removeUnstaged(graphId, next);
      const added = this.addStaged(graphId, next);
      const result = this.commitVersion(name, graphId, latest, added, removed, { createdAt, hash, limits });
      this.db.run("DELETE FROM rdf_staging");
      return result;
    });
  }

  /**
   * Removes an upload's uncommitted rows, staged triples and, unless it published a version, the dictionary
   * terms allocated since it began and the graph if the upload made it. Uploads hold the store's writes, so
   * no other write owns those terms.
   */
  private discardUpload(graphId: number, createdGraph: boolean, latestAtBegin: number, termsBefore: number): void {
    try {
      this.db.transaction(() => {
        const latest = this.latest(graphId);
        discardGraphUncommitted(this.db, graphId, latest);
        this.db.run("DELETE FROM rdf_staging");
        if (latest === latestAtBegin) this.db.run("DELETE FROM rdf_term WHERE id > ?", [termsBefore]);
        if (createdGraph) {
          this.db.run(
            "DELETE FROM rdf_graph WHERE id = ? AND NOT EXISTS (SELECT 1 FROM rdf_graph_version WHERE graph = ?)",
            [graphId, graphId],
          );
        }
      });
    } finally {
      this.termCache.clear();
    }
  }

  /**
   * Inserts encoded triples (s, p, o ids in turn) into a staging table, or into `rdf_quad` as rows of one
   * version; duplicates collapse. Returns the number of rows added.
   */
  private insertEncoded(
    ids: readonly number[],
    target: "rdf_staging" | "rdf_staging_remove" | { graphId: number; version: number },
  ): number {
    if (ids.length === 0) return 0;
    const rows: number[][] = [];
    for (let i = 0; i < ids.length; i += 3) rows.push([ids[i] as number, ids[i + 1] as number, ids[i + 2] as number]);
    // In key order, each row lands next to the previous one in the primary-key tree.
    rows.sort(
      (a, b) =>
        (a[0] as number) - (b[0] as number) ||
        (a[1] as number) - (b[1] as number) ||
        (a[2] as number) - (b[2] as number),
    );
    const json = JSON.stringify(rows);
    if (typeof target === "object") {
      return this.db.run(
        `INSERT OR IGNORE INTO rdf_quad (g, s, p, o, added_in, removed_in)
         SELECT ${target.graphId | 0}, value ->> 0, value ->> 1, value ->> 2, ${target.version | 0}, ${STILL_PRESENT}
         FROM json_each(?)`,
        [json],
      ).changes;
    }
    return this.db.run(
      `INSERT OR IGNORE INTO ${target} (s, p, o) SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?)`,
      [json],
    ).changes;
  }

  /** Dictionary keys of term ids (batched lookups); ids not in the dictionary are absent from the map. */
  private termKeys(ids: readonly number[]): Map<number, string> {
    const keys = new Map<number, string>();
    for (let start = 0; start < ids.length; start += CHUNK_ROWS) {
      for (const row of this.db.all("SELECT id, key FROM rdf_term WHERE id IN (SELECT value FROM json_each(?))", [
        JSON.stringify(ids.slice(start, start + CHUNK_ROWS)),
      ])) {
        keys.set(Number(row[0]), String(row[1]));
      }
    }
    return keys;
  }

  private tripleIds(graphId: number, version: number): Uint32Array {
    const buffer = new TripleIdBuffer();
    let chunk: number[] = [];
    for (const row of this.db.iterate(
      "SELECT s, p, o FROM rdf_quad WHERE g = ?1 AND added_in <= ?2 AND removed_in > ?2",
      [graphId, version],
    )) {
      chunk.push(Number(row[0]), Number(row[1]), Number(row[2]));
      if (chunk.length >= 3 * CHUNK_ROWS) {
        buffer.push(chunk);
        chunk = [];
      }
    }
    buffer.push(chunk);
    return buffer.view();
  }

  /**
   * A version's triples as sorted canonical N-Triples with their stored blank-node labels, in pieces: the
   * bytes `serializeRdf(readVersion(…), "application/n-triples")` gives, without the whole text in memory.
   */
  async versionDocument(name: string, number: number): Promise<CanonicalLines> {
    const ref = this.graphRef(name, number);
    if (this.versionTriples(ref.graphId, ref.version) > this.inMemoryTriples) {
      return this.externalDocument(ref, { canonicalBlankLabels: true });
    }
    return canonicalDocument(this.tripleIds(ref.graphId, ref.version), (ids) => this.termKeys(ids), {
      canonicalBlankLabels: true,
    });
  }

  /** RDFC-1.0 hash of a stored version, computed from its rows (blank nodes relabeled canonically). */
  async versionHash(name: string, number: number, options: CanonicalTriplesOptions = {}): Promise<string> {
    // Also for a version recorded with `publish: false`: it is hashed before it is published.
    const graphId = this.requireGraph(name);
    if (this.versionTriples(graphId, number) > this.inMemoryTriples) {
      const document = await this.externalDocument(
        { graphId, version: number },
        { canonicalBlankLabels: options.canonicalBlankLabels, canonicalize: options.canonicalize },
      );
      return (await hashCanonicalLines(document, options.hash)).hash;
    }
    const triples = this.tripleIds(graphId, number);
    return (await canonicalHashOfTriples(triples, (ids) => this.termKeys(ids), options)).hash;
  }

  /** Triples of a recorded version (published or not), from its version row. */
  private versionTriples(graphId: number, number: number): number {
    const row = this.db.all("SELECT triple_count FROM rdf_graph_version WHERE graph = ? AND number = ?", [
      graphId,
      number,
    ])[0];
    return Number(row?.[0] ?? 0);
  }

  /** A canonical document sorted by SQLite under a run of its own (see external-canonical-document.ts). */
  private externalDocument(
    source: TripleSource,
    options: Pick<ExternalCanonicalOptions, "canonicalBlankLabels" | "canonicalize">,
  ): Promise<ExternalCanonicalDocument> {
    const stored = Number(this.db.all("SELECT coalesce(max(run), 0) FROM rdf_canonical_line")[0]?.[0] ?? 0);
    this.canonicalRun = Math.max(this.canonicalRun, stored) + 1;
    return externalCanonicalDocument(this.db, source, this.canonicalRun, { ...this.options.canonical, ...options });
  }

  /**
   * Encodes triples to term ids in chunks (one `json_each` parameter per statement) and inserts them
   * into a staging table (duplicates collapse).
   */
  private stage(triples: Iterable<RDF.Quad>, table: "rdf_staging" | "rdf_staging_remove", knownOnly = false): number {
    const encoder = new TripleEncoder(this.db, knownOnly);
    let written = 0;
    let batch: RDF.Quad[] = [];
    const flush = () => {
      if (batch.length === 0) return;
      written += this.insertEncoded(encoder.encode(batch), table);
      batch = [];
    };
    let batchChars = 0;
    for (const quad of triples) {
      if ((quad.subject?.termType as string) === "Literal" || quad.predicate?.termType !== "NamedNode") {
        throw new QuadStoreError("invalid-term", "triples need an IRI or blank node subject and an IRI predicate");
      }
      batch.push(quad);
      batchChars += quad.subject.value.length + quad.predicate.value.length + quad.object.value.length;
      // Durable Object SQLite caps a bound string at 2 MB: long literals make smaller chunks.
      if (batch.length >= CHUNK_ROWS || batchChars >= CHUNK_CHARS) {
        flush();
        batchChars = 0;
      }
    }
    flush();
    return written;
  }
}
