/** A value SQLite can bind or return (Durable Object SQL and node:sqlite both fit). */
export type SqlValue = string | number | bigint | null | ArrayBuffer | Uint8Array;

export type SqlRow = Record<string, SqlValue>;

/**
 * The synchronous SQLite surface of the tenant's database: the Durable Object adapter
 * (`durable-objects/durable-object-sql-database.ts`) and the `node:sqlite` adapter for tests,
 * benchmarks and conformance runners (`test/support/node-sql-database.ts`) implement it.
 *
 * Transactions: `transaction(fn)` commits everything `fn` wrote, or nothing if it throws. A
 * `transaction` called inside another one joins it: there is one transaction, the outermost, and it
 * commits or rolls back as a whole. An inner failure that propagates undoes the outer transaction's
 * writes too; an inner failure the outer `fn` catches undoes nothing by itself, so code inside a
 * transaction lets errors propagate rather than catching and carrying on.
 */
export interface SqlDatabase {
  /** Runs a script of one or more `;`-separated statements without bindings (DDL). */
  execScript(script: string): void;
  /** Runs one statement with positional `?` bindings (`params`) and returns its rows as objects keyed by column. */
  query<T extends SqlRow = SqlRow>(sql: string, params?: readonly SqlValue[]): T[];
  /** Like `query`, rows as arrays in column order (hot paths: no object per row). */
  all(sql: string, params?: readonly SqlValue[]): unknown[][];
  /** Like `all`, row by row, for results too large to hold at once. */
  iterate(sql: string, params?: readonly SqlValue[]): Iterable<unknown[]>;
  /** Runs one write statement; `changes` counts the table rows it inserted, updated or deleted. */
  run(sql: string, params?: readonly SqlValue[]): { changes: number };
  /** Runs `fn` atomically (see the transaction rule above). */
  transaction<T>(fn: () => T): T;
}

/**
 * The outermost-transaction bookkeeping both adapters share: `begin` runs the body in a real
 * transaction, a nested call runs it inside the one already open.
 */
export function joiningTransactions(begin: <T>(fn: () => T) => T): <T>(fn: () => T) => T {
  let open = false;
  return <T>(fn: () => T): T => {
    if (open) return fn();
    open = true;
    try {
      return begin(fn);
    } finally {
      open = false;
    }
  };
}
