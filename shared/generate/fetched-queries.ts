import { type RowSemantics, type TermRow, templateRows } from "./row-values";
import type { QueryRows } from "./template-unit";

/**
 * Query results of a pinned graph version that live elsewhere (the tenant's Durable Object), read
 * into the renderer in rounds. The template engine reads `sparql()`/`label()` synchronously, so a
 * render that needs a result not here yet stops with QueryPendingError; the caller fetches what the
 * stopped renders asked for, in one batched call, and renders them again. Renders are pure functions
 * of their inputs and the pinned results, so the retried render is the one that counts, byte for byte.
 */

/** What the store answered for one query: its rows as terms, or the problem it raised. */
export type PinnedQueryOutcome = { ok: true; rows: TermRow[] } | { ok: false; failure: QueryFailure };

export interface QueryFailure {
  status: number;
  type: string;
  title: string;
  detail: string;
  extensions: Record<string, unknown>;
  /** The query was refused for its size or budget: the problem is the render's, not a template error. */
  refusal: boolean;
}

/** Answers a batch of queries over the pinned version, every one of them, in any number of calls. */
export type PinnedQuerySource = (queries: readonly string[]) => Promise<ReadonlyMap<string, PinnedQueryOutcome>>;

/** A render stopped: it needs the result of `query`, which has not been fetched yet. */
export class QueryPendingError extends Error {
  constructor(readonly query: string) {
    super("a query result is not fetched yet");
    this.name = "QueryPendingError";
  }
}

/** A query of the pinned version failed where it ran; carries that problem to the render. */
export class PinnedQueryError extends Error {
  constructor(readonly failure: QueryFailure) {
    super(failure.detail);
    this.name = "PinnedQueryError";
  }
}

/** The query a stopped render waits for, looking through the errors that wrap it. */
export function pendingQueryOf(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 8; depth++) {
    if (current instanceof QueryPendingError) return current.query;
    current = current.cause;
  }
  return undefined;
}

/** A fetched result: as the store answered it (terms), or as templates see it once a render asked for it. */
export type FetchedRows = { form: "terms"; rows: TermRow[] } | { form: "template"; rows: QueryRows };

export class FetchedQueryResults {
  /** Answers as fetched; a result is converted to template rows when first read, then kept only so. */
  private readonly results = new Map<string, FetchedRows | PinnedQueryError>();
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(readonly semantics: RowSemantics) {}

  /** The pipeline's runQuery: the fetched rows, the fetched failure, or QueryPendingError. */
  readonly runQuery = (sparql: string): QueryRows => {
    const result = this.fetched(sparql);
    if (result.form === "template") return result.rows;
    const rows = templateRows(result.rows, this.semantics);
    this.results.set(sparql, { form: "template", rows });
    return rows;
  };

  /** A fetched result in whichever form it is kept (comparisons need no conversion); throws as runQuery does. */
  fetched(sparql: string): FetchedRows {
    const result = this.results.get(sparql);
    if (result === undefined) throw new QueryPendingError(sparql);
    if (result instanceof PinnedQueryError) throw result;
    return result;
  }

  /**
   * Fetches the queries not here yet from `source` in one batch; queries another caller is fetching are
   * awaited, not asked twice. The source is the caller's (in Workers, a stub belongs to one invocation).
   */
  async fetch(queries: readonly string[], source: PinnedQuerySource): Promise<void> {
    const wanted = [...new Set(queries)].filter((query) => !this.results.has(query) && !this.inFlight.has(query));
    if (wanted.length > 0) {
      const fetching = source(wanted).then((outcomes) => {
        for (const query of wanted) {
          const outcome = outcomes.get(query);
          if (!outcome) throw new Error("the query source left a query unanswered");
          this.results.set(
            query,
            outcome.ok ? { form: "terms", rows: outcome.rows } : new PinnedQueryError(outcome.failure),
          );
        }
      });
      const settled = fetching.finally(() => {
        for (const query of wanted) this.inFlight.delete(query);
      });
      for (const query of wanted) this.inFlight.set(query, settled);
    }
    await Promise.all(queries.map((query) => this.inFlight.get(query)));
  }
}

/**
 * Runs `count` steps as a sequential run would, where a step may stop for a query result not fetched
 * yet: each round attempts the steps still open, in order, up to the first real error; fetches every
 * query the stopped ones asked for in one batch; and hands results to `accept` in step order. The
 * first error in step order is thrown, as the sequential run would throw it.
 */
export async function inOrderWithFetchedQueries<T>(
  count: number,
  attempt: (index: number) => Promise<T>,
  accept: (value: T, index: number) => void,
  results: FetchedQueryResults,
  source: PinnedQuerySource,
): Promise<void> {
  const settled: ({ value: T } | { error: unknown } | undefined)[] = new Array(count);
  let next = 0;
  while (next < count) {
    const missing = new Set<string>();
    for (let index = next; index < count; index++) {
      if (settled[index] !== undefined) continue;
      try {
        settled[index] = { value: await attempt(index) };
      } catch (error) {
        const query = pendingQueryOf(error);
        if (query === undefined) {
          settled[index] = { error };
          break;
        }
        missing.add(query);
      }
    }
    for (let done = settled[next]; done !== undefined; done = settled[next]) {
      if ("error" in done) throw done.error;
      accept(done.value, next);
      settled[next] = undefined;
      next++;
      if (next >= count) break;
    }
    if (next < count) {
      if (missing.size === 0) throw new Error("a step neither finished nor asked for a query");
      await results.fetch([...missing].sort(), source);
    }
  }
}

/**
 * A PinnedQuerySource over a bounded call that answers the first queries of a chunk (at least one):
 * asks again for the rest until every query has its answer.
 */
export function chunkedQuerySource(
  maxPerCall: number,
  call: (queries: string[]) => Promise<PinnedQueryOutcome[]> | PinnedQueryOutcome[],
): PinnedQuerySource {
  return async (queries) => {
    const answers = new Map<string, PinnedQueryOutcome>();
    let remaining = [...queries];
    while (remaining.length > 0) {
      const results = await call(remaining.slice(0, maxPerCall));
      if (results.length === 0) throw new Error("the query source answered none of the queries");
      for (const [index, outcome] of results.entries()) answers.set(remaining[index] as string, outcome);
      remaining = remaining.slice(results.length);
    }
    return answers;
  };
}
