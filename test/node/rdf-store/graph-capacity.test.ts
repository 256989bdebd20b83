import { describe, expect, it } from "vitest";
import { measureGraphCapacity } from "../../../bench/graph-capacity";
import {
  DO_BYTES_PER_TRIPLE,
  DO_STORAGE_BYTES,
  MAX_VERSION_TRIPLES,
  MEASURED_VERSION_TRIPLES,
  STORAGE_BOUND_TRIPLES,
  WRITE_SCRATCH_BYTES_PER_TRIPLE,
} from "../../../shared/rdf/store/graph-capacity";

describe("the stated graph capacity", () => {
  it("keeps its bytes per triple within 20% of a fresh measurement on the Durable Object stand-in", async () => {
    const measured = await measureGraphCapacity(20_000);
    expect(measured.triples).toBeGreaterThan(19_000);
    expect(Math.abs(measured.doBytesPerTriple - DO_BYTES_PER_TRIPLE) / DO_BYTES_PER_TRIPLE).toBeLessThan(0.2);
    expect(
      Math.abs(measured.scratchBytesPerTriple - WRITE_SCRATCH_BYTES_PER_TRIPLE) / WRITE_SCRATCH_BYTES_PER_TRIPLE,
    ).toBeLessThan(0.2);
    // The version limit stays inside what the measured layout lets one object store.
    expect(measured.maxTriplesPerVersion).toBeGreaterThan(MAX_VERSION_TRIPLES);
  }, 120_000);

  it("limits a version to what fits one object's storage with its write's scratch rows, and to what was measured", () => {
    expect(STORAGE_BOUND_TRIPLES * (DO_BYTES_PER_TRIPLE + WRITE_SCRATCH_BYTES_PER_TRIPLE)).toBeLessThanOrEqual(
      DO_STORAGE_BYTES,
    );
    expect(MAX_VERSION_TRIPLES).toBe(Math.min(STORAGE_BOUND_TRIPLES, MEASURED_VERSION_TRIPLES));
    expect(MAX_VERSION_TRIPLES).toBe(10_000_000);
  });
});
