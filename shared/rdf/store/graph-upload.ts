import type * as RDF from "@rdfjs/types";
import type { IncrementalHashFactory } from "../../crypto/incremental-sha256";
import { canonicalizeQuads } from "../canonical-hash";
import { CanonicalizationLimitError, VersionTooLargeError } from "../errors";
import { canonicalHashOfTriples } from "./canonical-triples";
import { type CommitResult, type QuadStore, QuadStoreError } from "./quad-store";
import { dataFactory } from "./term-key";
import { TripleEncoder, TripleIdBuffer } from "./triple-encoder";

/** Triples per encoded chunk: one `json_each` parameter per statement. */
const CHUNK_ROWS = 5000;
/** Characters of term text per chunk, well under the 2 MB limit on one bound value. */
const CHUNK_CHARS = 600_000;
/**
 * Triples of one version: hashing a version holds all its ids and distinct terms in memory at once, and
 * 1.5 million LUBM triples were measured to fit a 96 MB V8 heap (2 million did not fit 100 MB).
 */
export const MAX_VERSION_TRIPLES = 1_500_000;
/** Triples with blank nodes are held in memory until RDFC-1.0 has labeled them; beyond this, refuse. */
export const MAX_BLANK_NODE_TRIPLES = 200_000;

export interface UploadCommitOptions {
  createdAt: string;
  hash?: IncrementalHashFactory;
  /** Runs inside the commit transaction after the new version is recorded; throwing undoes everything. */
  check?: () => void;
}

const hasBlankNode = (quad: RDF.Quad) => quad.subject.termType === "BlankNode" || quad.object.termType === "BlankNode";

/**
 * A streamed replacement of a graph's content. Triples reach SQLite in chunks as they arrive, as rows of
 * the next version (for a graph with no content yet) or in the staging table, so they are invisible to
 * readers until `commit` records the version in one transaction. `abort` removes every trace.
 *
 * Callers serialize writes to the store while an upload is open (the tenant's Durable Object does):
 * abort deletes the dictionary terms allocated since the upload began.
 */
export class GraphUpload {
  private readonly encoder: TripleEncoder;
  private readonly triples = new TripleIdBuffer();
  private readonly blankNodeTriples: RDF.Quad[] = [];
  private batch: RDF.Quad[] = [];
  private batchChars = 0;
  private added = 0;
  private received = 0;
  private finished = false;

  private constructor(
    private readonly store: QuadStore,
    private readonly name: string,
    private readonly graphId: number,
    private readonly createdGraph: boolean,
    private readonly latest: number,
    /** The graph has no triples yet: rows go straight into `rdf_quad` as the next version. */
    private readonly direct: boolean,
    private readonly termsBefore: number,
    private readonly maxTriples: number,
  ) {
    this.encoder = new TripleEncoder(store.db);
  }

  static begin(store: QuadStore, name: string, options: { maxTriples?: number } = {}): GraphUpload {
    const db = store.db;
    const createdGraph = store.graphId(name) === null;
    const graphId = store.ensureGraph(name);
    const current = store.latestVersion(name);
    const latest = current?.number ?? 0;
    const direct = !current || current.tripleCount === 0;
    const termsBefore = Number(db.all("SELECT coalesce(max(id), 0) FROM rdf_term")[0]?.[0] ?? 0);
    const maxTriples = options.maxTriples ?? MAX_VERSION_TRIPLES;
    return new GraphUpload(store, name, graphId, createdGraph, latest, direct, termsBefore, maxTriples);
  }

  add(quad: RDF.Quad): void {
    if ((quad.subject?.termType as string) === "Literal" || quad.predicate?.termType !== "NamedNode") {
      throw new QuadStoreError("invalid-term", "triples need an IRI or blank node subject and an IRI predicate");
    }
    this.received += 1;
    if (this.received > this.maxTriples) throw new VersionTooLargeError(this.maxTriples);
    if (hasBlankNode(quad)) {
      if (this.blankNodeTriples.length >= MAX_BLANK_NODE_TRIPLES) {
        throw new CanonicalizationLimitError(
          `More than ${MAX_BLANK_NODE_TRIPLES} triples with blank nodes in one upload; give the nodes IRIs or split the graph`,
        );
      }
      this.blankNodeTriples.push(quad);
      return;
    }
    this.batch.push(quad);
    this.batchChars += quad.subject.value.length + quad.predicate.value.length + quad.object.value.length;
    if (this.batch.length >= CHUNK_ROWS || this.batchChars >= CHUNK_CHARS) this.flush();
  }

  /** Labels blank nodes (RDFC-1.0), hashes the content and records the new version, or returns the unchanged one. */
  async commit(options: UploadCommitOptions): Promise<CommitResult> {
    try {
      this.flush();
      if (this.blankNodeTriples.length > 0) {
        // Stored labels are the canonical ones, so versions of the same graph diff meaningfully.
        const { issuedIdentifiers } = await canonicalizeQuads(this.blankNodeTriples);
        const relabel = <T extends RDF.Term>(term: T): T =>
          term.termType === "BlankNode"
            ? (dataFactory.blankNode(issuedIdentifiers.get(term.value) ?? term.value) as unknown as T)
            : term;
        for (const quad of this.blankNodeTriples) {
          this.batch.push(dataFactory.quad(relabel(quad.subject), quad.predicate, relabel(quad.object)));
          if (this.batch.length >= CHUNK_ROWS) this.flush();
        }
        this.blankNodeTriples.length = 0;
        this.flush();
      }
      this.encoder.forget();
      const { hash } = await canonicalHashOfTriples(this.triples.view(), (ids) => this.store.termKeys(ids), {
        hash: options.hash,
        canonicalBlankLabels: true,
      });
      const result = this.store.db.transaction(() => {
        const committed = this.record(hash, options.createdAt);
        if (committed.created) options.check?.();
        return committed;
      });
      if (!result.created) this.abort();
      this.finished = true;
      if (!this.direct) this.store.db.run("DELETE FROM rdf_staging");
      return result;
    } catch (error) {
      this.abort();
      throw error;
    }
  }

  /** Removes the upload's rows, staged triples, new dictionary terms and (if it made it) the graph. Idempotent. */
  abort(): void {
    if (this.finished) return;
    this.finished = true;
    const db = this.store.db;
    db.transaction(() => {
      this.store.discardPendingVersions(this.name);
      db.run("DELETE FROM rdf_staging");
      db.run("DELETE FROM rdf_term WHERE id > ?", [this.termsBefore]);
      if (this.createdGraph) {
        db.run("DELETE FROM rdf_graph WHERE id = ? AND NOT EXISTS (SELECT 1 FROM rdf_graph_version WHERE graph = ?)", [
          this.graphId,
          this.graphId,
        ]);
      }
    });
    this.store.clearTermCache();
  }

  private record(hash: string, createdAt: string): CommitResult {
    const store = this.store;
    const next = this.latest + 1;
    if (this.direct)
      return store.commitVersion(this.name, this.graphId, this.latest, this.added, 0, { createdAt, hash });
    const current = store.getVersion(this.name, this.latest);
    // Same canonical hash = same graph up to blank-node labels: keep the existing version.
    if (current && current.hash === hash) return { version: current, created: false };
    const removed = store.removeUnstaged(this.graphId, next);
    const added = store.addStaged(this.graphId, next);
    return store.commitVersion(this.name, this.graphId, this.latest, added, removed, { createdAt, hash });
  }

  private flush(): void {
    if (this.batch.length === 0) return;
    const ids = this.encoder.encode(this.batch);
    this.triples.push(ids);
    const target = this.direct ? { graphId: this.graphId, version: this.latest + 1 } : "rdf_staging";
    this.added += this.store.insertEncoded(ids, target);
    this.batch = [];
    this.batchChars = 0;
  }
}
