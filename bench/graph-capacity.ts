// `npm run bench -- graph-capacity [triples]`: bytes one triple takes in the quad store (node:sqlite, the Durable
// Object stand-in) and the largest version that fits one object's storage with the scratch rows of its write.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nodeSqlDatabase } from "../cli/node-sql-database";
import { hashCanonicalLines } from "../shared/rdf/store/canonical-triples";
import { DO_STORAGE_BYTES } from "../shared/rdf/store/graph-capacity";
import { QuadStore } from "../shared/rdf/store/quad-store";
import { quadStoreSchema } from "../shared/rdf/store/quad-store-schema";
import { applySchemaMigrations } from "../shared/sql/migrations";
import type { SqlDatabase } from "../shared/sql/sql-database";
import { generateLubm } from "../test/support/lubm";
import { nodeSha256 } from "../test/support/node-sha256";
import { uploadTriples } from "../test/support/sparql-store";

export interface GraphCapacity {
  /** Triples the measurement stored. */
  triples: number;
  /** Bytes per stored triple: quad row, its indexes and its share of the term dictionary. */
  doBytesPerTriple: number;
  /** Bytes per triple a write needs while it lasts: staging row and canonical line. */
  scratchBytesPerTriple: number;
  /** DO_STORAGE_BYTES over the two together. */
  maxTriplesPerVersion: number;
}

/** Bytes of the database's pages in use (free pages left by deleted rows do not count). */
function usedBytes(db: SqlDatabase): number {
  const [pages, free, size] = ["page_count", "freelist_count", "page_size"].map((pragma) =>
    Number(db.all(`PRAGMA ${pragma}`)[0]?.[0] ?? 0),
  );
  return ((pages as number) - (free as number)) * (size as number);
}

/** Measures on a fresh file-backed database with `triples` LUBM-like triples (default 200,000). */
export async function measureGraphCapacity(triples = 200_000): Promise<GraphCapacity> {
  const directory = mkdtempSync(join(tmpdir(), "kgen-graph-capacity-"));
  const db = nodeSqlDatabase(join(directory, "tenant.sqlite"));
  try {
    applySchemaMigrations(db, [quadStoreSchema]);
    // Every hash goes through the SQLite-sorted path, so its canonical lines can be measured.
    const store = new QuadStore(db, { canonical: { inMemoryTriples: 0 } });
    const empty = usedBytes(db);
    const stored = await uploadTriples(store, "lubm", generateLubm(triples), {
      createdAt: "2026-01-01T00:00:00Z",
      hash: nodeSha256,
    });
    const count = stored.version.tripleCount;
    const withVersion = usedBytes(db);

    const document = await store.versionDocument("lubm", 1);
    const lineBytes = usedBytes(db) - withVersion;
    await hashCanonicalLines(document, nodeSha256);

    // Replacing the content with itself stages every triple before the diff.
    const upload = store.beginUpload("lubm");
    let stagingBytes: number;
    try {
      for (const quad of generateLubm(triples)) upload.add(quad);
      await upload.seal({ hash: nodeSha256 });
      stagingBytes = usedBytes(db) - withVersion;
      upload.commit({ createdAt: "2026-01-01T00:00:01Z" });
    } finally {
      upload.close();
    }
    const doBytesPerTriple = (withVersion - empty) / count;
    const scratchBytesPerTriple = (lineBytes + stagingBytes) / count;
    return {
      triples: count,
      doBytesPerTriple: Math.round(doBytesPerTriple),
      scratchBytesPerTriple: Math.round(scratchBytesPerTriple),
      maxTriplesPerVersion: Math.floor(DO_STORAGE_BYTES / (doBytesPerTriple + scratchBytesPerTriple)),
    };
  } finally {
    db.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

export default async function (args: string[]): Promise<void> {
  const size = args.find((arg) => /^\d+$/.test(arg));
  console.log(
    JSON.stringify({ bench: "graph-capacity", ...(await measureGraphCapacity(size ? Number(size) : undefined)) }),
  );
}
