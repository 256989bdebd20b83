import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { joiningTransactions, type SqlDatabase, type SqlRow, type SqlValue } from "../shared/sql/sql-database";

/**
 * `SqlDatabase` over Node's synchronous `node:sqlite`: the `kgen` command line's database, and the stand-in for Durable Object SQLite in tests,
 * benchmarks and conformance runners.
 */
export function nodeSqlDatabase(path = ":memory:"): SqlDatabase & { close(): void } {
  const db = new DatabaseSync(path);
  // Durable Object SQLite commits without an fsync per statement (durability comes from its replicated
  // log); WAL without per-commit syncs is the closest file-backed stand-in.
  if (path !== ":memory:") db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF");
  const cached = (returnArrays: boolean) => {
    const statements = new Map<string, StatementSync>();
    return (sql: string): StatementSync => {
      let statement = statements.get(sql);
      if (!statement) {
        statement = db.prepare(sql);
        statement.setReturnArrays(returnArrays);
        statements.set(sql, statement);
      }
      return statement;
    };
  };
  const arrays = cached(true);
  const objects = cached(false);
  // node:sqlite binds blobs as typed arrays only.
  const bind = (params: readonly SqlValue[]) =>
    params.map((value) => (value instanceof ArrayBuffer ? new Uint8Array(value) : value)) as SQLInputValue[];
  return {
    execScript: (script) => db.exec(script),
    query: <T extends SqlRow = SqlRow>(sql: string, params: readonly SqlValue[] = []) =>
      objects(sql).all(...bind(params)) as T[],
    all: (sql, params = []) => arrays(sql).all(...bind(params)) as unknown as unknown[][],
    iterate: (sql, params = []) => arrays(sql).iterate(...bind(params)) as unknown as Iterable<unknown[]>,
    run: (sql, params = []) => ({ changes: Number(arrays(sql).run(...bind(params)).changes) }),
    transaction: joiningTransactions((fn) => {
      db.exec("BEGIN");
      try {
        const result = fn();
        db.exec("COMMIT");
        return result;
      } catch (error) {
        db.exec("ROLLBACK");
        throw error;
      }
    }),
    close: () => db.close(),
  };
}
