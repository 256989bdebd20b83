/** A value SQLite can bind or return (Durable Object SQL and node:sqlite both fit). */
export type SqlValue = string | number | bigint | null | ArrayBuffer | Uint8Array;

export type SqlRow = Record<string, SqlValue>;

/**
 * The synchronous SQLite surface shared code needs: the Durable Object's `ctx.storage.sql`
 * and Node's `node:sqlite` DatabaseSync both adapt to it.
 */
export interface SqlDatabase {
  /** Runs a script of one or more `;`-separated statements without bindings (DDL). */
  execScript(script: string): void;
  /** Runs one statement with positional `?` bindings and returns its rows. */
  query<T extends SqlRow = SqlRow>(sql: string, ...bindings: SqlValue[]): T[];
  /** Runs `fn` atomically: everything it wrote is rolled back if it throws. May nest. */
  transaction<T>(fn: () => T): T;
}
