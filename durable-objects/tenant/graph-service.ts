import type * as RDF from "@rdfjs/types";
import type { Algebra } from "sparqlalgebrajs";
import type { IncrementalHashFactory } from "../../shared/crypto/incremental-sha256";
import { rowTermOf, type TermRow } from "../../shared/generate/row-values";
import { negotiateMediaType } from "../../shared/rdf/content-negotiation";
import { buildGraphDiff, graphDiffToJson, graphDiffToNTriples } from "../../shared/rdf/diff-format";
import { parseRdfSync, RDF_MEDIA_TYPES, serializeRdf } from "../../shared/rdf/formats";
import { parseRdfStream } from "../../shared/rdf/parse-stream";
import { planUpdate, runSparqlQuery } from "../../shared/rdf/sparql/engine";
import type { QueryDataset } from "../../shared/rdf/sparql/evaluate/dataset";
import { type SolutionResult, SPARQL_RESULT_SERIALIZERS } from "../../shared/rdf/sparql/execute/results";
import { parseQuery } from "../../shared/rdf/sparql/parse/parse";
import { answerDependsOnlyOnDefaultGraph } from "../../shared/rdf/sparql/parse/pinned-query";
import { sparqlPrefixDeclarations } from "../../shared/rdf/sparql-prefix-declarations";
import { MAX_VERSION_TRIPLES } from "../../shared/rdf/store/graph-upload";
import {
  type CommitResult,
  type GraphVersion,
  QuadStore,
  type QuadStoreOptions,
  type TripleLimits,
} from "../../shared/rdf/store/quad-store";
import type { SqlDatabase } from "../../shared/sql/sql-database";
import { SeededRandom } from "../../shared/template/kgen/seeded-random";
import { HttpError } from "../../workers/problems/http-error";
import { EventLog } from "./event-log";
import { type GraphPrefixes, mergePrefixes } from "./graph-prefixes";
import { WriteQueue } from "./write-queue";

/** A version-4-shaped UUID drawn from a seeded generator (deterministic, not unique across seeds). */
function seededUuid(random: SeededRandom): string {
  const hex = Array.from({ length: 4 }, () => random.nextUint32().toString(16).padStart(8, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${((Number.parseInt(hex[16] ?? "0", 16) & 3) | 8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** IRI under which a tenant's graph is visible to GRAPH / FROM NAMED in queries. */
export const graphIri = (name: string) => `urn:kgen:graph:${name}`;

export interface GraphVersionView {
  graph: string;
  version: number;
  hash: string | null;
  triples: number;
  added: number;
  removed: number;
  createdAt: string;
}

export interface CommitView {
  version: GraphVersionView;
  created: boolean;
}

export interface TextBody {
  contentType: string;
  body: string;
}

export interface QueryAnswer extends TextBody {
  /** The answer is fixed by a pinned version's content: it may be kept and served again. */
  immutable: boolean;
}

export interface IngestInput {
  name: string;
  /** Media type of the body (already known to be one we parse). */
  mediaType: string;
  body: ReadableStream<Uint8Array> | null;
  createdAt: string;
  /** The plan's triples for all graphs together. */
  tripleLimit: number;
  /** The plan's request body limit. */
  maxBytes: number;
}

export interface ContentBody {
  contentType: string;
  /** Streamed for N-Triples and N-Quads, whatever the graph's size. */
  body: string | ReadableStream<Uint8Array>;
}

/**
 * Turtle, TriG and JSON-LD output, SHACL validation and a diff from nothing hold the version's triples in
 * the isolate's memory (128 MB): above this many, they are refused with a clear problem instead.
 */
export const MAX_BUFFERED_TRIPLES = 100_000;

/** `what` (e.g. "SHACL validation") would hold `triples` triples in memory, over MAX_BUFFERED_TRIPLES. */
function tooLargeToBuffer(what: string, triples: number): HttpError {
  return new HttpError(
    422,
    "graph-too-large",
    "Graph version too large for this operation",
    `${what} holds its triples in memory: ${triples} here, and the limit is ${MAX_BUFFERED_TRIPLES}. N-Triples and N-Quads output are streamed at any size.`,
    { extensions: { triples, limit: MAX_BUFFERED_TRIPLES } },
  );
}

const versionLabel = (version: GraphVersion) => `version ${version.number} of "${version.graph}"`;

export interface QueryLimits {
  maxRows: number;
  /** Evaluation steps before the query is stopped (Date.now() does not advance during CPU work). */
  maxSteps: number;
}

const view = (version: GraphVersion): GraphVersionView => ({
  graph: version.graph,
  version: version.number,
  hash: version.hash,
  triples: version.tripleCount,
  added: version.added,
  removed: version.removed,
  createdAt: version.createdAt,
});

const RESULT_TYPES = Object.keys(SPARQL_RESULT_SERIALIZERS);
const GRAPH_RESULT_TYPES = [
  RDF_MEDIA_TYPES.turtle,
  RDF_MEDIA_TYPES.ntriples,
  RDF_MEDIA_TYPES.jsonld,
  RDF_MEDIA_TYPES.nquads,
  RDF_MEDIA_TYPES.trig,
] as const;

function notAcceptable(available: readonly string[]): HttpError {
  return new HttpError(406, "not-acceptable", "Not Acceptable", `Acceptable media types: ${available.join(", ")}.`);
}

/** Epoch ms of a version's `createdAt`, the time of its event. */
function eventTime(createdAt: string): number {
  const time = Date.parse(createdAt);
  if (!Number.isFinite(time)) throw new RangeError("createdAt must be an ISO 8601 date-time");
  return time;
}

/**
 * A tenant's versioned graphs and SPARQL over them, inside its Durable Object (synchronous SQLite). Every
 * write that makes a version or deletes a graph appends its event (`graph.version.created`,
 * `graph.deleted`) to the tenant's event log in the same transaction: the event exists exactly when the
 * change does.
 */
export class GraphService {
  /** Writes wait for each other: an upload streams over many turns of the event loop. */
  private readonly writes = new WriteQueue();

  private readonly store: QuadStore;
  private readonly events: EventLog;
  private readonly hash?: IncrementalHashFactory;
  private readonly maxVersionTriples: number;
  private readonly prefixes?: GraphPrefixes;
  private readonly storedVersion: (name: string, version: number) => number;

  /** `db` is the tenant's database with TENANT_SCHEMA applied (the quad store and the event log live there). */
  constructor(
    private readonly db: SqlDatabase,
    options: {
      /** Incremental SHA-256 for version hashes (default: DigestStream in workerd). */
      hash?: IncrementalHashFactory;
      /** Triples one version may hold (default MAX_VERSION_TRIPLES; tests lower it). */
      maxVersionTriples?: number;
      /** How large versions are canonicalized (tests force the SQLite-sorted path with tiny pages). */
      canonical?: QuadStoreOptions["canonical"];
      /** Where each version's prefix declarations are kept for Turtle and TriG output. */
      prefixes?: GraphPrefixes;
      /** The tenant object's event log, whose appends schedule the event fan-out (default: a bare one). */
      events?: EventLog;
      /**
       * The stored version that holds a version's triples (default: itself). The offline engine stores
       * one version and lets it stand for the platform version a lock pins, with the same content hash.
       */
      storedVersion?: (name: string, version: number) => number;
    } = {},
  ) {
    this.store = new QuadStore(db, { canonical: options.canonical });
    this.events = options.events ?? new EventLog(db);
    this.hash = options.hash;
    this.maxVersionTriples = options.maxVersionTriples ?? MAX_VERSION_TRIPLES;
    this.prefixes = options.prefixes;
    this.storedVersion = options.storedVersion ?? ((_name, version) => version);
  }

  /** Start-up recovery: removes what writes interrupted by an eviction or crash left behind. */
  discardInterruptedWrites(): void {
    this.store.discardInterruptedWrites();
  }

  list(): GraphVersionView[] {
    return this.store.listGraphs().flatMap((graph) => (graph.latest ? [view(graph.latest)] : []));
  }

  latest(name: string): GraphVersionView {
    return view(this.requireVersion(name));
  }

  versions(name: string): GraphVersionView[] {
    this.requireVersion(name);
    return this.store.listVersions(name).map(view);
  }

  version(name: string, number: number): GraphVersionView {
    this.requireVersion(name);
    const found = this.store.getVersion(name, number);
    if (!found) throw new HttpError(404, "not-found", "Not Found", `Graph "${name}" has no version ${number}.`);
    return view(found);
  }

  /**
   * Replaces the graph's content with the document streamed in `body`: parsed, stored and hashed (RDFC-1.0)
   * as it arrives, committed as one new version, or not at all.
   */
  ingest(input: IngestInput): Promise<CommitView> {
    return this.writes.run(async () => {
      const createdAtMs = eventTime(input.createdAt);
      const upload = this.store.beginUpload(input.name, { maxTriples: this.maxVersionTriples });
      const declared: [string, string][] = [];
      try {
        await parseRdfStream(input.body, input.mediaType, (quad) => upload.add(quad), {
          maxQuads: input.tripleLimit,
          maxBytes: input.maxBytes,
          onPrefix: (prefix, namespace) => declared.push([prefix, namespace]),
        });
        await upload.seal({ hash: this.hash });
        return this.db.transaction(() => {
          const committed = this.announced(
            upload.commit({ createdAt: input.createdAt, limits: this.limits(input.tripleLimit) }),
            createdAtMs,
          );
          if (committed.created) {
            this.prefixes?.record(input.name, committed.version.version, mergePrefixes({}, declared));
          }
          return committed;
        });
      } finally {
        upload.close();
      }
    });
  }

  /** Removes then adds triples (N-Triples text); the new version is hashed canonically. */
  async patch(input: {
    name: string;
    add: string;
    remove: string;
    createdAt: string;
    tripleLimit: number;
    /** Prefixes the patch declared, in order: the new version keeps the previous one's and adds these. */
    prefixes?: [prefix: string, namespace: string][];
  }): Promise<CommitView> {
    return this.writes.run(async () => {
      const previous = this.requireVersion(input.name);
      const add = parseRdfSync(input.add, RDF_MEDIA_TYPES.ntriples);
      const remove = parseRdfSync(input.remove, RDF_MEDIA_TYPES.ntriples);
      return this.commitPatch(input.name, add, remove, input.createdAt, input.tripleLimit, {
        previous,
        declared: input.prefixes ?? [],
      });
    });
  }

  /** SPARQL 1.1 Update against the graph's latest version. */
  async update(input: {
    name: string;
    update: string;
    createdAt: string;
    tripleLimit: number;
    now: string;
    /** The plan's query step budget, for the update's WHERE. */
    maxSteps: number;
  }): Promise<CommitView> {
    return this.writes.run(async () => {
      const previous = this.requireVersion(input.name);
      const plan = planUpdate(this.store, input.update, {
        dataset: this.dataset(input.name),
        now: new Date(input.now),
        maxSteps: input.maxSteps,
      });
      return this.commitPatch(input.name, plan.add, plan.remove, input.createdAt, input.tripleLimit, {
        previous,
        declared: sparqlPrefixDeclarations(input.update),
      });
    });
  }

  /** Deletes the graph and appends `graph.deleted` (at `deletedAt`, epoch ms) in one transaction. */
  delete(name: string, deletedAt: number): Promise<boolean> {
    return this.writes.run(() =>
      this.db.transaction(() => {
        const deleted = this.store.deleteGraph(name);
        if (deleted) {
          this.prefixes?.forget(name);
          this.events.append("graph.deleted", JSON.stringify({ graph: name }), deletedAt);
        }
        return deleted;
      }),
    );
  }

  /**
   * Version retention: in every graph, drops the versions older than its newest `keepNewest` that no job
   * pins (`pinned`: graph name → version numbers), and the rows only they held, at most `maxRows` rows in
   * all. Waits for the graph writes before it, like any write. `more` when rows are left for another call.
   */
  pruneVersions(policy: {
    keepNewest: number;
    pinned: ReadonlyMap<string, readonly number[]>;
    maxRows: number;
  }): Promise<{ versions: number; quads: number; more: boolean }> {
    return this.writes.run(() => {
      const total = { versions: 0, quads: 0, more: false };
      for (const graph of this.store.listGraphs()) {
        const keep = policy.pinned.get(graph.name) ?? [];
        const pruned = this.store.pruneVersions(graph.name, policy.keepNewest, keep, policy.maxRows - total.quads);
        if (graph.latest && pruned.versions > 0) {
          this.prefixes?.forgetBefore(graph.name, graph.latest.number - policy.keepNewest + 1, keep);
        }
        total.versions += pruned.versions;
        total.quads += pruned.quads;
        if (pruned.more || total.quads >= policy.maxRows) {
          total.more = true;
          break;
        }
      }
      return total;
    });
  }

  /**
   * A version's triples in `mediaType`: sorted canonical lines for N-Triples/N-Quads (streamed), else
   * buffered. With `expectedHash`, only a version with that content hash answers (see pinnedVersion).
   */
  async content(
    name: string,
    number: number | undefined,
    mediaType: string,
    expectedHash?: string,
  ): Promise<ContentBody> {
    const version = this.pinnedVersion(name, number, expectedHash);
    if (mediaType === RDF_MEDIA_TYPES.ntriples || mediaType === RDF_MEDIA_TYPES.nquads) {
      const document = await this.store.versionDocument(name, version.number);
      return { contentType: mediaType, body: document.stream() };
    }
    if (version.tripleCount > MAX_BUFFERED_TRIPLES) {
      throw tooLargeToBuffer(`Serializing ${versionLabel(version)} as ${mediaType}`, version.tripleCount);
    }
    const prefixes =
      mediaType === RDF_MEDIA_TYPES.turtle || mediaType === RDF_MEDIA_TYPES.trig
        ? this.prefixes?.of(name, version.number)
        : undefined;
    const body = await serializeRdf(this.store.readVersion(name, version.number), mediaType, { prefixes });
    return { contentType: mediaType, body };
  }

  diff(name: string, from: number, to: number, mediaType: "application/json" | "application/n-triples"): TextBody {
    this.requireVersion(name);
    const [low, high] = from <= to ? [from, to] : [to, from];
    const target = low === 0 ? this.store.getVersion(name, high) : null;
    if (target && target.tripleCount > MAX_BUFFERED_TRIPLES) {
      throw tooLargeToBuffer(`A diff from version 0 to ${versionLabel(target)}`, target.tripleCount);
    }
    // The versions in between bound how many triples the diff can hold.
    const versions = this.store.listVersions(name).filter((v) => v.number > low && v.number <= high);
    const changed = versions.reduce((sum, v) => sum + v.added + v.removed, 0);
    if (low > 0 && changed > MAX_BUFFERED_TRIPLES) {
      throw tooLargeToBuffer(`A diff between versions ${low} and ${high} of "${name}"`, changed);
    }
    const changes = this.store.diffVersions(name, from, to);
    const diff = buildGraphDiff(changes.added, changes.removed);
    if (mediaType === "application/n-triples")
      return { contentType: mediaType, body: graphDiffToNTriples(diff).document };
    return { contentType: mediaType, body: JSON.stringify({ graph: name, from, to, ...graphDiffToJson(diff) }) };
  }

  /**
   * A query's answer over the latest version or a pinned one. With `expectedHash` (and a version), only
   * a version with that content hash answers, and `immutable` tells whether the answer is fixed by that
   * content alone, so it can be kept and served again.
   */
  async query(input: {
    name: string;
    version?: number;
    expectedHash?: string;
    query: string;
    accept: string;
    limits: QueryLimits;
    now: string;
  }): Promise<QueryAnswer> {
    if (input.expectedHash !== undefined) this.pinnedVersion(input.name, input.version, input.expectedHash);
    const operation = parseQuery(input.query);
    const immutable =
      input.expectedHash !== undefined && input.version !== undefined && answerDependsOnlyOnDefaultGraph(operation);
    return { ...(await this.answer(input, operation)), immutable };
  }

  private async answer(
    input: { name: string; version?: number; accept: string; limits: QueryLimits; now: string },
    operation: Algebra.Operation,
  ): Promise<TextBody> {
    const result = runSparqlQuery(this.store, operation, {
      dataset: this.dataset(input.name, input.version),
      now: new Date(input.now),
      maxRows: input.limits.maxRows,
      maxSteps: input.limits.maxSteps,
    });
    if (result.type === "quads") {
      const mediaType = negotiateMediaType(input.accept, GRAPH_RESULT_TYPES);
      if (!mediaType) throw notAcceptable(GRAPH_RESULT_TYPES);
      return { contentType: mediaType, body: await serializeRdf(result.quads, mediaType) };
    }
    const mediaType = negotiateMediaType(input.accept, RESULT_TYPES);
    const serialize = mediaType ? SPARQL_RESULT_SERIALIZERS[mediaType] : undefined;
    if (!mediaType || !serialize) throw notAcceptable(RESULT_TYPES);
    return { contentType: mediaType, body: serialize(result as SolutionResult) };
  }

  /** Rows of a SELECT over one version, as generation reads them: variable → term, as plain data. */
  select(name: string, version: number, query: string, now: string, limits: QueryLimits): TermRow[] {
    // On the generation path even RAND(), UUID() and STRUUID() must repeat: seed them from the inputs.
    const random = new SeededRandom(`${name}\n${version}\n${now}\n${query}`);
    const result = runSparqlQuery(this.store, query, {
      dataset: this.dataset(name, version),
      now: new Date(now),
      maxRows: limits.maxRows,
      maxSteps: limits.maxSteps,
      random: () => random.next(),
      uuid: () => seededUuid(random),
    });
    if (result.type !== "bindings") {
      throw new HttpError(
        422,
        "generation-query-not-select",
        "Not a SELECT query",
        "Template queries must be SELECT queries.",
      );
    }
    return result.bindings.map((row) => {
      const out: TermRow = {};
      for (const variable of result.variables) {
        const term = row.get(variable);
        if (term) out[variable] = rowTermOf(term);
      }
      return out;
    });
  }

  /** All triples of a version (for SHACL validation in the Worker), as N-Triples. */
  async triples(name: string, version?: number): Promise<string> {
    const found = this.resolveVersion(name, version);
    if (found.tripleCount > MAX_BUFFERED_TRIPLES) {
      throw tooLargeToBuffer(`SHACL validation of ${versionLabel(found)}`, found.tripleCount);
    }
    return serializeRdf(this.store.readVersion(name, found.number), RDF_MEDIA_TYPES.ntriples);
  }

  private dataset(name: string, version?: number): QueryDataset {
    const defaultRef = this.store.graphRef(name, version === undefined ? undefined : this.storedVersion(name, version));
    const namedGraphs = this.store
      .listGraphs()
      .filter((graph) => graph.latest !== null)
      .map((graph) => ({
        iri: graphIri(graph.name),
        ref: graph.name === name ? defaultRef : this.store.graphRef(graph.name),
      }));
    return { defaultGraph: [defaultRef], namedGraphs };
  }

  /**
   * Records the patched version unpublished, hashes it, then publishes it with its hash: nobody ever sees
   * a version without its hash, and a failure (or eviction) before publishing leaves the graph as it was.
   */
  private async commitPatch(
    name: string,
    add: RDF.Quad[],
    remove: RDF.Quad[],
    createdAt: string,
    tripleLimit: number,
    prefixes: { previous: GraphVersion; declared: readonly [string, string][] },
  ): Promise<CommitView> {
    const createdAtMs = eventTime(createdAt);
    // A patch that breaks a limit is refused inside the store's transaction: nothing of it is stored.
    const result = this.store.applyPatch(
      name,
      { add, remove },
      { createdAt, publish: false, limits: this.limits(tripleLimit) },
    );
    if (!result.created && result.version.hash !== null) return { version: view(result.version), created: false };
    if (!result.created) {
      const hash = await this.store.versionHash(name, result.version.number, { hash: this.hash });
      this.store.setVersionHash(name, result.version.number, hash);
      return { version: { ...view(result.version), hash }, created: false };
    }
    const number = result.version.number;
    try {
      const hash = await this.store.versionHash(name, number, { hash: this.hash });
      // Published with its event and its prefixes, or not at all.
      return this.db.transaction(() => {
        const committed = this.announced(
          { version: this.store.publishVersion(name, number, hash), created: true },
          createdAtMs,
        );
        this.keepPrefixes(name, prefixes.previous, committed, prefixes.declared);
        return committed;
      });
    } catch (error) {
      // Hashing or publishing (with its event) failed: the recorded version must not stay for the next write.
      this.store.discardPendingVersions(name);
      throw error;
    }
  }

  private limits(tripleLimit: number): TripleLimits {
    return { maxVersionTriples: this.maxVersionTriples, maxTotalTriples: tripleLimit };
  }

  /** The commit's view; a new version's event is appended in the caller's transaction. */
  private announced(result: CommitResult, createdAtMs: number): CommitView {
    const version = view(result.version);
    if (result.created) this.events.append("graph.version.created", JSON.stringify(version), createdAtMs);
    return { version, created: result.created };
  }

  private keepPrefixes(
    name: string,
    previous: GraphVersion,
    committed: CommitView,
    declared: readonly [string, string][],
  ): void {
    if (!this.prefixes || !committed.created) return;
    const inherited = this.prefixes.of(name, previous.number);
    this.prefixes.record(name, committed.version.version, mergePrefixes(inherited, declared));
  }

  /**
   * The version `number` (the latest when undefined), which must have `expectedHash` when one is given:
   * numbers start again after a graph is deleted and created anew, so only the content hash pins content.
   */
  private pinnedVersion(name: string, number: number | undefined, expectedHash: string | undefined): GraphVersion {
    const version = this.resolveVersion(name, number);
    if (expectedHash !== undefined && version.hash !== expectedHash) {
      throw new HttpError(
        404,
        "not-found",
        "Not Found",
        `Version ${version.number} of "${name}" does not have content hash ${expectedHash}.`,
      );
    }
    return version;
  }

  private resolveVersion(name: string, number: number | undefined): GraphVersion {
    const latest = this.requireVersion(name);
    if (number === undefined) return latest;
    const found = this.store.getVersion(name, number);
    if (!found) throw new HttpError(404, "not-found", "Not Found", `Graph "${name}" has no version ${number}.`);
    return found;
  }

  private requireVersion(name: string): GraphVersion {
    const latest = this.store.graphId(name) === null ? null : this.store.latestVersion(name);
    if (!latest) throw new HttpError(404, "not-found", "Not Found", `Graph "${name}" does not exist.`);
    return latest;
  }
}
