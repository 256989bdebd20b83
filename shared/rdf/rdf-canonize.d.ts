// The subset of rdf-canonize (v5, CommonJS, no bundled types) that shared/rdf and its tests use.
declare module "rdf-canonize" {
  import type { Quad } from "@rdfjs/types";

  export interface CanonizeOptions {
    algorithm: "RDFC-1.0";
    messageDigestAlgorithm?: "sha256" | "sha384" | "sha512" | "SHA-256" | "SHA-384" | "SHA-512";
    canonicalIdMap?: Map<string, string>;
    inputFormat?: "application/n-quads";
    format?: "application/n-quads";
    maxWorkFactor?: number;
    maxDeepIterations?: number;
    signal?: AbortSignal;
    rejectURDNA2015?: boolean;
    createMessageDigest?: () => { update(message: string): void; digest(): string | Promise<string> };
  }
  export function canonize(input: Quad[] | string, options: CanonizeOptions): Promise<string>;
  export const NQuads: {
    parse(input: string): Quad[];
    serialize(dataset: Quad[]): string;
    serializeQuad(quad: Quad): string;
  };
  const rdfCanonize: { canonize: typeof canonize; NQuads: typeof NQuads };
  export default rdfCanonize;
}
