import type * as RDF from "@rdfjs/types";
import { Parser } from "n3";
import { nodeSqlDatabase } from "../../cli/node-sql-database";
import type { IncrementalHashFactory } from "../../shared/crypto/incremental-sha256";
import { type CommitResult, QuadStore, type TripleLimits } from "../../shared/rdf/store/quad-store";
import { quadStoreSchema } from "../../shared/rdf/store/quad-store-schema";
import { applySchemaMigrations } from "../../shared/sql/migrations";
import type { SqlDatabase } from "../../shared/sql/sql-database";

/** A quad store over `db` (default: a fresh in-memory node:sqlite database) with its schema applied. */
export function migratedQuadStore(db: SqlDatabase = nodeSqlDatabase()): QuadStore {
  applySchemaMigrations(db, [quadStoreSchema]);
  const store = new QuadStore(db);
  store.discardInterruptedWrites();
  return store;
}

/**
 * Replaces a graph's content through the upload path PUT /v1/graphs/{name} takes (begin, add, seal,
 * commit, close), minus the byte stream.
 */
export async function uploadTriples(
  store: QuadStore,
  name: string,
  triples: Iterable<RDF.Quad>,
  options: { createdAt: string; hash?: IncrementalHashFactory; limits?: TripleLimits; maxTriples?: number },
): Promise<CommitResult> {
  const upload = store.beginUpload(name, { maxTriples: options.maxTriples });
  try {
    for (const quad of triples) upload.add(quad);
    await upload.seal({ hash: options.hash });
    return upload.commit({ createdAt: options.createdAt, limits: options.limits });
  } finally {
    upload.close();
  }
}

/**
 * A fresh in-memory quad store (node:sqlite), optionally with graphs loaded from Turtle. Each graph is
 * written by the store's patch path (adding every triple to an empty graph), synchronously.
 */
export function memoryQuadStore(graphs: Record<string, string | Iterable<RDF.Quad>> = {}): QuadStore {
  const store = migratedQuadStore();
  for (const [name, content] of Object.entries(graphs)) {
    const triples = typeof content === "string" ? new Parser().parse(content) : content;
    store.applyPatch(name, { add: triples }, { createdAt: "2026-01-01T00:00:00Z" });
  }
  return store;
}
