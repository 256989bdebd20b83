import type { SqlDatabase, SqlRow, SqlValue } from "./sql-database";

/** The part of Node's `node:sqlite` DatabaseSync the adapter uses (typed structurally: no `node:` import here). */
export interface DatabaseSyncLike {
  exec(sql: string): void;
  prepare(sql: string): { all(...bindings: (string | number | bigint | null | Uint8Array)[]): unknown[] };
}

/** Adapts a `node:sqlite` DatabaseSync (Node tests, runners, CLI) to SqlDatabase. */
export function sqlDatabaseFromSync(db: DatabaseSyncLike): SqlDatabase {
  let depth = 0;
  return {
    execScript(script) {
      db.exec(script);
    },
    query<T extends SqlRow = SqlRow>(sql: string, ...bindings: SqlValue[]): T[] {
      // node:sqlite binds blobs as typed arrays only.
      const nodeBindings = bindings.map((value) => (value instanceof ArrayBuffer ? new Uint8Array(value) : value));
      return db.prepare(sql).all(...nodeBindings) as T[];
    },
    transaction(fn) {
      // Savepoints nest, unlike BEGIN; the Durable Object's transactionSync nests the same way.
      const savepoint = `kgen_tx_${depth++}`;
      db.exec(`SAVEPOINT ${savepoint}`);
      try {
        const result = fn();
        db.exec(`RELEASE ${savepoint}`);
        return result;
      } catch (err) {
        db.exec(`ROLLBACK TO ${savepoint}`);
        db.exec(`RELEASE ${savepoint}`);
        throw err;
      } finally {
        depth--;
      }
    },
  };
}
