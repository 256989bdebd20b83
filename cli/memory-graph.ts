import type * as RDF from "@rdfjs/types";
import { type GraphVersion, QuadStore } from "../shared/rdf/store/quad-store";
import { quadStoreSchema } from "../shared/rdf/store/quad-store-schema";
import { applySchemaMigrations } from "../shared/sql/migrations";
import { nodeSqlDatabase } from "./node-sql-database";

// Versions of a local file have no meaningful creation time; a constant keeps the command free of the clock.
const CREATED_AT = "1970-01-01T00:00:00Z";

/** The graph name local files are loaded under. */
export const LOCAL_GRAPH = "local";

/** A fresh quad store in memory (node:sqlite), with the platform's schema. */
export function memoryStore(): QuadStore {
  const db = nodeSqlDatabase();
  applySchemaMigrations(db, [quadStoreSchema]);
  return new QuadStore(db);
}

/**
 * Replaces the graph's content with these triples through the platform's upload path (begin, add, seal,
 * commit): blank nodes get their RDFC-1.0 labels and the version its hash exactly as a PUT would. Graph names
 * of quads are dropped, as the upload drops them.
 */
export async function uploadToStore(
  store: QuadStore,
  triples: Iterable<RDF.Quad>,
  name = LOCAL_GRAPH,
): Promise<GraphVersion> {
  const upload = store.beginUpload(name);
  try {
    for (const quad of triples) upload.add(quad);
    await upload.seal();
    return upload.commit({ createdAt: CREATED_AT }).version;
  } finally {
    upload.close();
  }
}
