// The subset of jsonld (v9, CommonJS, no bundled types) that shared/rdf uses.
declare module "jsonld" {
  export interface RemoteDocument {
    contextUrl?: string | null;
    documentUrl: string;
    document: unknown;
  }
  export type DocumentLoader = (url: string) => Promise<RemoteDocument>;
  export interface JsonLdOptions {
    base?: string | null;
    documentLoader?: DocumentLoader;
    format?: "application/n-quads";
    safe?: boolean;
    [option: string]: unknown;
  }
  export interface JsonLdTerm {
    termType: "NamedNode" | "BlankNode" | "Literal" | "DefaultGraph";
    value: string;
    datatype?: { termType: "NamedNode"; value: string };
    language?: string;
    direction?: string;
  }
  export interface JsonLdQuad {
    subject: JsonLdTerm;
    predicate: JsonLdTerm;
    object: JsonLdTerm;
    graph: JsonLdTerm;
  }
  const jsonld: {
    toRDF(input: unknown, options?: JsonLdOptions): Promise<JsonLdQuad[]>;
    fromRDF(dataset: string | JsonLdQuad[], options?: JsonLdOptions): Promise<unknown[]>;
    compact(input: unknown, context: unknown, options?: JsonLdOptions): Promise<Record<string, unknown>>;
  };
  export default jsonld;
}
