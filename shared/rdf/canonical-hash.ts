import type { Quad } from "@rdfjs/types";
import { bytesToHex } from "../core/encoding";
import {
  CanonicalizationWork,
  canonicalizationStepLimit,
  canonizeCounted,
  STEPS_PER_DIGEST,
} from "./canonicalization-work";
import { CanonicalizationLimitError } from "./errors";
import { joinSortedLines, quadToNQuadsLine } from "./ntriples";

export type CanonicalHashAlgorithm = "sha256" | "sha384";

export interface CanonicalizeOptions {
  /** Hash function used inside RDFC-1.0 and for the final digest (RDFC-1.0 default: SHA-256). */
  hashAlgorithm?: CanonicalHashAlgorithm;
  /**
   * rdf-canonize's deep-iteration budget: (non-unique blank nodes) ^ maxWorkFactor runs of Hash N-Degree
   * Quads. 3 passes every W3C test (1 fails 18 of them) while the clique "poison" graph is still refused.
   */
  maxWorkFactor?: number;
  /**
   * Ceiling on hash computations for the whole run, independent of the clock (which does not advance during
   * CPU work in workerd). Default: 10,000 + 100 per quad, far above what non-adversarial graphs need.
   */
  maxHashOperations?: number;
  /**
   * Ceiling on labeling steps (characters hashed, digests, identifiers copied): WorkBudgetExceededError beyond it.
   * Default: canonicalizationStepLimit of the N-Quads size of the quads with blank nodes.
   */
  maxWorkSteps?: number;
}

export interface CanonicalDataset {
  /** Canonical N-Quads (RDFC-1.0): sorted lines, blank nodes labeled `c14n<k>`, each line LF-terminated. */
  canonical: string;
  /** Input blank-node label → canonical label (`c14n<k>`), in issue order. */
  issuedIdentifiers: Map<string, string>;
}

export interface CanonicalHash {
  canonical: string;
  /** `sha256:<hex>` (or `sha384:<hex>`) of the canonical N-Quads as UTF-8. */
  hash: string;
}

export const DEFAULT_MAX_WORK_FACTOR = 3;

const subtleNames: Record<CanonicalHashAlgorithm, "SHA-256" | "SHA-384"> = { sha256: "SHA-256", sha384: "SHA-384" };

class HashBudget {
  private remaining: number;
  constructor(private readonly limit: number) {
    this.remaining = limit;
  }
  spend(): void {
    if (this.remaining <= 0) {
      throw new CanonicalizationLimitError(
        `Canonicalization needs more than ${this.limit} hash operations; the blank-node structure is too symmetric`,
      );
    }
    this.remaining -= 1;
  }
}

// Web Crypto message digest for rdf-canonize: the same code in workerd and Node, every digest and every
// character hashed counted.
function webCryptoDigestFactory(algorithm: CanonicalHashAlgorithm, budget: HashBudget, work: CanonicalizationWork) {
  const encoder = new TextEncoder();
  return () => {
    let buffered = "";
    return {
      update(message: string) {
        buffered += message;
      },
      async digest(): Promise<string> {
        budget.spend();
        work.charge(STEPS_PER_DIGEST + buffered.length);
        await work.yieldIfDue();
        return bytesToHex(await crypto.subtle.digest(subtleNames[algorithm], encoder.encode(buffered)));
      },
    };
  };
}

function quadHasBlankNode(quad: Quad): boolean {
  return (
    quad.subject.termType === "BlankNode" || quad.object.termType === "BlankNode" || quad.graph.termType === "BlankNode"
  );
}

/** RDFC-1.0 canonical N-Quads of a dataset (rdf-canonize, the reference implementation). */
export async function canonicalizeQuads(
  quads: Iterable<Quad>,
  options: CanonicalizeOptions = {},
): Promise<CanonicalDataset> {
  // An RDF dataset is a set: duplicate quads (possible in a parsed document) must not reach the algorithm.
  const unique = new Map<string, Quad>();
  let hasBlankNodes = false;
  let nquadsBytes = 0;
  for (const quad of quads) {
    const line = quadToNQuadsLine(quad);
    const before = unique.size;
    unique.set(line, quad);
    if (unique.size > before) nquadsBytes += line.length;
    hasBlankNodes ||= quadHasBlankNode(quad);
  }
  // Without blank nodes RDFC-1.0 reduces to the sorted canonical N-Quads lines (same escaping, same
  // code-unit order as rdf-canonize; the differential tests hold both paths to it).
  if (!hasBlankNodes) return { canonical: joinSortedLines(unique.keys()), issuedIdentifiers: new Map() };
  const dataset = [...unique.values()];
  const algorithm = options.hashAlgorithm ?? "sha256";
  const budget = new HashBudget(options.maxHashOperations ?? 10_000 + 100 * dataset.length);
  const work = new CanonicalizationWork(options.maxWorkSteps ?? canonicalizationStepLimit(nquadsBytes));
  const issuedIdentifiers = new Map<string, string>();
  try {
    const canonical = await canonizeCounted(
      dataset,
      {
        maxWorkFactor: options.maxWorkFactor ?? DEFAULT_MAX_WORK_FACTOR,
        canonicalIdMap: issuedIdentifiers,
        createMessageDigest: webCryptoDigestFactory(algorithm, budget, work),
      },
      work,
    );
    return { canonical, issuedIdentifiers };
  } catch (error) {
    if (error instanceof CanonicalizationLimitError) throw error;
    if (error instanceof Error && /Maximum deep iterations exceeded/.test(error.message)) {
      throw new CanonicalizationLimitError(
        `Canonicalization gave up: ${error.message} The blank-node structure is too symmetric to label canonically within the work budget`,
        { cause: error },
      );
    }
    throw error;
  }
}

/** SHA-256 (or SHA-384) hex digest of a string's UTF-8 bytes. */
export async function digestHex(text: string, algorithm: CanonicalHashAlgorithm = "sha256"): Promise<string> {
  return bytesToHex(await crypto.subtle.digest(subtleNames[algorithm], new TextEncoder().encode(text)));
}

/**
 * Content address of a dataset: RDFC-1.0 canonical N-Quads and their hash. Reordered quads and relabeled blank
 * nodes give the same result. Throws CanonicalizationLimitError for pathological blank-node graphs (too
 * symmetric), WorkBudgetExceededError when labeling needs more steps than the size of the input allows.
 */
export async function canonicalHash(quads: Iterable<Quad>, options: CanonicalizeOptions = {}): Promise<CanonicalHash> {
  const algorithm = options.hashAlgorithm ?? "sha256";
  const { canonical } = await canonicalizeQuads(quads, options);
  return { canonical, hash: `${algorithm}:${await digestHex(canonical, algorithm)}` };
}
