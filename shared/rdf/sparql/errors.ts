/** Base class of every error the SPARQL engine throws on purpose. */
export class SparqlError extends Error {
  override name = "SparqlError";
}

/** The query text does not parse (sparqljs message, with the line when it gives one). */
export class SparqlSyntaxError extends SparqlError {
  override name = "SparqlSyntaxError";
  constructor(
    message: string,
    readonly line: number | null,
    readonly column: number | null,
  ) {
    super(message);
  }
}

/** A valid query uses a feature this engine does not run (SERVICE, updates given to the query entry point). */
export class SparqlNotSupportedError extends SparqlError {
  override name = "SparqlNotSupportedError";
  constructor(readonly feature: string) {
    super(`${feature} is not supported`);
  }
}

/** The caller's time/step budget ran out. */
export class QueryBudgetExceededError extends SparqlError {
  override name = "QueryBudgetExceededError";
  constructor(readonly reason: "deadline" | "steps") {
    super(reason === "deadline" ? "query deadline passed" : "query step budget exhausted");
  }
}

/** The result has more rows (or triples) than the caller allows. */
export class ResultLimitExceededError extends SparqlError {
  override name = "ResultLimitExceededError";
  constructor(readonly limit: number) {
    super(`query result exceeds ${limit} rows`);
  }
}
