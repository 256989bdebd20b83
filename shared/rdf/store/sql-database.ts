/** Parameter values accepted by both Durable Object SQLite and node:sqlite. */
export type SqlValue = string | number | bigint | null | Uint8Array;

/**
 * The synchronous SQLite surface the quad store needs. Rows come back as arrays in column order.
 * Implemented over Durable Object storage below and over `node:sqlite` for tests and tools.
 */
export interface SqlDatabase {
  all(sql: string, params?: readonly SqlValue[]): unknown[][];
  iterate(sql: string, params?: readonly SqlValue[]): Iterable<unknown[]>;
  run(sql: string, params?: readonly SqlValue[]): { changes: number };
  /** Runs `fn` atomically: every write commits or none does. */
  transaction<T>(fn: () => T): T;
}

/** Structural view of a Durable Object's `ctx.storage.sql` (no `cloudflare:*` import needed). */
export interface SqlStorageLike {
  exec(
    query: string,
    ...bindings: unknown[]
  ): { raw(): IterableIterator<unknown[]>; readonly rowsWritten: number; toArray(): unknown[] };
}

/** Structural view of `ctx.storage` with the synchronous transaction helper. */
export interface DurableObjectStorageLike {
  sql: SqlStorageLike;
  transactionSync<T>(fn: () => T): T;
}

/** Adapts Durable Object storage (`ctx.storage`) to `SqlDatabase`. */
export function durableObjectSqlDatabase(storage: DurableObjectStorageLike): SqlDatabase {
  const sql = storage.sql;
  let depth = 0;
  return {
    all: (query, params = []) => Array.from(sql.exec(query, ...params).raw()),
    iterate: (query, params = []) => sql.exec(query, ...params).raw(),
    run: (query, params = []) => {
      sql.exec(query, ...params).toArray();
      // rowsWritten counts index rows too (one insert into a table with two indexes "writes" three), so
      // ask SQLite for the number of table rows the statement changed.
      const [changed] = Array.from(sql.exec("SELECT changes()").raw());
      return { changes: Number(changed?.[0] ?? 0) };
    },
    transaction: (fn) => {
      // transactionSync cannot nest; an inner call joins the outer transaction.
      if (depth > 0) return fn();
      depth++;
      try {
        return storage.transactionSync(fn);
      } finally {
        depth--;
      }
    },
  };
}
