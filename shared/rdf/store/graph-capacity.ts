/** Storage of one SQLite-backed Durable Object, the tenant's: 10 GB. */
export const DO_STORAGE_BYTES = 10_000_000_000;
/**
 * Bytes one stored triple takes in the quad store: its row in the quad table and its three indexes, and its
 * share of the term dictionary. Measured on LUBM-like data (`bench/graph-capacity.ts`, 200,000 triples); a
 * test keeps the figure within reach of a fresh measurement.
 */
export const DO_BYTES_PER_TRIPLE = 113;
/**
 * Bytes per triple a write needs on top of the version's rows while it lasts: the upload's staging row and
 * the canonical line the hash is sorted by (deleted once hashed). Measured with DO_BYTES_PER_TRIPLE.
 */
export const WRITE_SCRATCH_BYTES_PER_TRIPLE = 206;
/** Triples of the largest version that, with the scratch rows of the write that makes it, fits one object. */
export const STORAGE_BOUND_TRIPLES = Math.floor(
  DO_STORAGE_BYTES / (DO_BYTES_PER_TRIPLE + WRITE_SCRATCH_BYTES_PER_TRIPLE),
);
/** The largest version uploaded, hashed, streamed and queried end to end (`npm run bench -- sparql 10000000`). */
export const MEASURED_VERSION_TRIPLES = 10_000_000;
/**
 * Triples one version may hold: what the object's storage allows (about 31 million), capped at the size
 * measured end to end. Memory does not bound it: hashing and streaming hold a page of rows at a time.
 */
export const MAX_VERSION_TRIPLES = Math.min(STORAGE_BOUND_TRIPLES, MEASURED_VERSION_TRIPLES);
