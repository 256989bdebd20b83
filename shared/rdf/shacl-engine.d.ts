// The subset of shacl-engine (v1, JavaScript, no bundled types) that shared/rdf uses: the SHACL Core validator.
declare module "shacl-engine" {
  import type { DatasetCore, Quad, Term } from "@rdfjs/types";

  export class Validator {
    constructor(
      shapes: DatasetCore,
      options: {
        factory: unknown;
        debug?: boolean;
        details?: boolean;
        /** Constraint compilers by constraint parameter (e.g. sh:pattern), replacing the built-in ones. */
        validations?: Iterable<[Term, (shape: never) => unknown]>;
      },
    );
    validate(
      data: { dataset: DatasetCore; terms?: Iterable<Term> },
      shapes?: { terms: Iterable<Term> }[],
    ): Promise<unknown>;
  }
  export type { Quad };
}
