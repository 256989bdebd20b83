// rdf-canonize's RDFC-1.0 class (v5, CommonJS), subclassed to count the work of blank-node labeling.
declare module "rdf-canonize/lib/RDFC10.js" {
  import type { Quad } from "@rdfjs/types";

  export interface IdentifierIssuer {
    readonly _existing: Map<string, string>;
  }

  export interface RDFC10Options {
    createMessageDigest?: () => { update(message: string): void; digest(): Promise<string> };
    canonicalIdMap?: Map<string, string>;
    maxWorkFactor?: number;
  }

  export default class RDFC10 {
    constructor(options: RDFC10Options);
    main(dataset: Quad[]): Promise<string>;
    hashNDegreeQuads(id: string, issuer: IdentifierIssuer): Promise<{ hash: string; issuer: IdentifierIssuer }>;
    createHashToRelated(id: string, issuer: IdentifierIssuer): Promise<Map<string, string[]>>;
  }
}
