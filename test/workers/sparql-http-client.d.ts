// The parts of sparql-http-client (which ships no types) that the Protocol tests use.
declare module "sparql-http-client" {
  import type { Readable } from "node:stream";
  import type { DatasetCore, Quad, Term } from "@rdfjs/types";

  interface ClientOptions {
    endpointUrl?: string;
    updateUrl?: string;
    storeUrl?: string;
    fetch?: typeof fetch;
  }

  export class ParsingClient {
    constructor(options: ClientOptions);
    query: {
      select(query: string): Promise<Record<string, Term>[]>;
      ask(query: string): Promise<boolean>;
      construct(query: string): Promise<DatasetCore>;
      update(query: string): Promise<void>;
    };
  }

  export class StreamClient {
    constructor(options: ClientOptions);
    store: {
      get(graph?: Term): Readable & AsyncIterable<Quad>;
      put(stream: Readable, options?: { graph?: Term }): Promise<void>;
      post(stream: Readable, options?: { graph?: Term }): Promise<void>;
    };
  }
}
