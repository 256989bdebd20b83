import type * as RDF from "@rdfjs/types";
import type { IncrementalHashFactory } from "../../crypto/incremental-sha256";
import type { SqlDatabase } from "../../sql/sql-database";
import { canonicalizeQuads } from "../canonical-hash";
import { CanonicalizationLimitError, VersionTooLargeError } from "../errors";
import { canonicalHashOfTriples } from "./canonical-triples";
import { MAX_BLANK_NODE_TRIPLES } from "./external-canonical-document";
import { MAX_VERSION_TRIPLES } from "./graph-capacity";
import type { CommitResult, TripleLimits } from "./quad-store";
import { QuadStoreError } from "./quad-store-error";
import { dataFactory } from "./term-key";
import { TripleEncoder, TripleIdBuffer } from "./triple-encoder";

/** Triples per encoded chunk: one `json_each` parameter per statement. */
const CHUNK_ROWS = 5000;
/** Characters of term text per chunk, well under the 2 MB limit on one bound value. */
const CHUNK_CHARS = 600_000;

export { MAX_BLANK_NODE_TRIPLES } from "./external-canonical-document";
export { MAX_VERSION_TRIPLES } from "./graph-capacity";

export interface UploadOptions {
  /** Triples the upload may hold: one more is refused as it arrives (default MAX_VERSION_TRIPLES). */
  maxTriples?: number;
}

export interface UploadCommitOptions {
  createdAt: string;
  /** Checked inside the commit's transaction: a version that breaks one is not stored. */
  limits?: TripleLimits;
}

/** What an upload may do to the store: handed out by `QuadStore.beginUpload` only. */
export interface UploadAccess {
  db: SqlDatabase;
  /** Uploads up to this many triples are hashed from their ids in memory; larger ones from the stored rows. */
  inMemoryTriples: number;
  /** RDFC-1.0 hash of what the upload stored, sorted by SQLite in bounded memory. */
  hashStored(hash: IncrementalHashFactory | undefined): Promise<string>;
  termKeys(ids: readonly number[]): Map<number, string>;
  /** Writes encoded triples where this upload's content goes; returns the rows added. */
  insert(ids: readonly number[]): number;
  commit(hash: string, createdAt: string, added: number, limits: TripleLimits | undefined): CommitResult;
  /** Removes whatever the upload wrote that no published version holds. */
  discard(): void;
}

const hasBlankNode = (quad: RDF.Quad) => quad.subject.termType === "BlankNode" || quad.object.termType === "BlankNode";

/**
 * A streamed replacement of a graph's content, made by `QuadStore.beginUpload`. Triples reach SQLite in
 * chunks as they arrive (as rows of the next version for a graph with no content yet, otherwise in the
 * staging table), invisible to readers until `commit` records the version in one transaction:
 * `add` each triple, `seal` (labels blank nodes with RDFC-1.0 and hashes), `commit`, and in every case
 * `close` (in a `finally`, outside any transaction) to remove what no published version holds.
 *
 * Callers serialize writes to the store while an upload is open (the tenant's Durable Object does):
 * `close` deletes the dictionary terms allocated since the upload began unless a version was published.
 */
export class GraphUpload {
  private readonly encoder: TripleEncoder;
  /** The ids written so far, until there are more than `inMemoryTriples` of them (then dropped). */
  private triples: TripleIdBuffer | null = new TripleIdBuffer();
  private encodedTriples = 0;
  private readonly blankNodeTriples: RDF.Quad[] = [];
  private readonly maxTriples: number;
  private batch: RDF.Quad[] = [];
  private batchChars = 0;
  private added = 0;
  private received = 0;
  private hash: string | null = null;
  private closed = false;

  constructor(
    private readonly access: UploadAccess,
    options: UploadOptions = {},
  ) {
    this.encoder = new TripleEncoder(access.db);
    this.maxTriples = options.maxTriples ?? MAX_VERSION_TRIPLES;
  }

  add(quad: RDF.Quad): void {
    if (this.closed || this.hash !== null) throw new Error("the upload is sealed or closed");
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

  /** Ends the content: labels blank nodes (RDFC-1.0), stores the last chunks and hashes the whole. */
  async seal(options: { hash?: IncrementalHashFactory } = {}): Promise<void> {
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
    if (this.triples) {
      const { hash } = await canonicalHashOfTriples(this.triples.view(), (ids) => this.access.termKeys(ids), {
        hash: options.hash,
        canonicalBlankLabels: true,
      });
      this.hash = hash;
    } else {
      this.hash = await this.access.hashStored(options.hash);
    }
  }

  /**
   * Records the new version in one transaction (joining the caller's, if one is open), or returns the
   * latest version when the content is unchanged. Synchronous, so the caller can write more in the same
   * transaction (the tenant appends its event).
   */
  commit(options: UploadCommitOptions): CommitResult {
    if (this.closed || this.hash === null) throw new Error("seal the upload before committing it");
    return this.access.commit(this.hash, options.createdAt, this.added, options.limits);
  }

  /** Removes the upload's rows, staged triples and new terms that no published version holds. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.access.discard();
  }

  private flush(): void {
    if (this.batch.length === 0) return;
    const ids = this.encoder.encode(this.batch);
    this.encodedTriples += ids.length / 3;
    if (this.encodedTriples > this.access.inMemoryTriples) this.triples = null;
    this.triples?.push(ids);
    this.added += this.access.insert(ids);
    this.batch = [];
    this.batchChars = 0;
  }
}
