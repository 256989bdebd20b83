import type { Quad } from "@rdfjs/types";
import RDFC10, { type IdentifierIssuer, type RDFC10Options } from "rdf-canonize/lib/RDFC10.js";
import { WorkBudgetExceededError } from "../core/budget-errors";
import { CanonicalizationLimitError } from "./errors";

/**
 * Steps of blank-node labeling allowed per byte of the N-Quads being labeled, on top of
 * CANONICALIZATION_BASE_STEPS. Graphs whose blank nodes are told apart by their own triples need under 10
 * steps per byte; chains of look-alike blank nodes need steps that grow with the cube of their length.
 */
export const CANONICALIZATION_STEPS_PER_BYTE = 16;
/** Steps any canonicalization may take: one chain of look-alike blank nodes as deep as nesting allows fits. */
export const CANONICALIZATION_BASE_STEPS = 12_000_000;
/** A character hashed is one step; a message digest costs this many on top (its fixed cost dominates). */
export const STEPS_PER_DIGEST = 256;
/** Steps per blank-node identifier copied (the algorithm copies its identifier issuer for every path it explores). */
export const STEPS_PER_IDENTIFIER_COPY = 8;

/** Steps one canonicalization may take before WorkBudgetExceededError. */
export function canonicalizationStepLimit(nquadsBytes: number): number {
  return CANONICALIZATION_BASE_STEPS + CANONICALIZATION_STEPS_PER_BYTE * nquadsBytes;
}

/**
 * Steps between two yields to the event loop (about 20 ms of labeling): a long canonicalization lets the
 * requests that share its thread (other tenants' objects in local development, the same tenant's in
 * production) be answered meanwhile, instead of holding the thread for its whole budget.
 */
export const STEPS_PER_YIELD = 250_000;

/** A count of steps that throws WorkBudgetExceededError once it passes its limit. */
export class CanonicalizationWork {
  private spent = 0;
  private nextYield = STEPS_PER_YIELD;
  constructor(readonly limit: number) {}

  charge(steps: number): void {
    this.spent += steps;
    if (this.spent > this.limit) throw new WorkBudgetExceededError("canonicalization", this.limit, "steps");
  }

  /** Resolves at once, or after other queued work ran when STEPS_PER_YIELD steps passed since the last yield. */
  async yieldIfDue(): Promise<void> {
    if (this.spent < this.nextYield) return;
    this.nextYield = this.spent + STEPS_PER_YIELD;
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
  }
}

/** Orderings a group of `size` look-alike related nodes is explored in (size!), or Infinity past 20. */
function permutations(size: number): number {
  if (size > 20) return Number.POSITIVE_INFINITY;
  let count = 1;
  for (let k = 2; k <= size; k++) count *= k;
  return count;
}

/** RDFC-1.0 (rdf-canonize) charging every Hash N-Degree Quads run, and the orderings it will explore, to `work`. */
class CountedRDFC10 extends RDFC10 {
  constructor(
    options: RDFC10Options,
    private readonly work: CanonicalizationWork,
  ) {
    super(options);
  }

  override hashNDegreeQuads(id: string, issuer: IdentifierIssuer) {
    this.work.charge(STEPS_PER_IDENTIFIER_COPY * (1 + issuer._existing.size));
    return super.hashNDegreeQuads(id, issuer);
  }

  override async createHashToRelated(id: string, issuer: IdentifierIssuer) {
    const hashToRelated = await super.createHashToRelated(id, issuer);
    // Each ordering of a group copies the issuer and builds a path through the group.
    for (const related of hashToRelated.values()) {
      const orderings = permutations(related.length);
      const steps = orderings * STEPS_PER_IDENTIFIER_COPY * (issuer._existing.size + related.length);
      if (orderings === 1) this.work.charge(steps);
      else this.chargeOrderings(steps);
    }
    return hashToRelated;
  }

  // Running out on the orderings of look-alike neighbours is the symmetric structure RDFC-1.0's own
  // work factor refuses too: the same refusal.
  private chargeOrderings(steps: number): void {
    try {
      this.work.charge(steps);
    } catch (error) {
      if (!(error instanceof WorkBudgetExceededError)) throw error;
      throw new CanonicalizationLimitError(
        `Canonicalization needs more than ${error.limit} steps; the blank-node structure is too symmetric`,
        { cause: error },
      );
    }
  }
}

/** Canonical N-Quads of `dataset` (RDFC-1.0), every step charged to `work`; message digests charge their own. */
export function canonizeCounted(dataset: Quad[], options: RDFC10Options, work: CanonicalizationWork): Promise<string> {
  return new CountedRDFC10(options, work).main(dataset);
}
