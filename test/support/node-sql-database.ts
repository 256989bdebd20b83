import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import type { SqlDatabase, SqlValue } from "../../shared/rdf/store/sql-database";

/** `SqlDatabase` over Node's synchronous `node:sqlite`: the stand-in for Durable Object SQLite in tests and tools. */
export function nodeSqlDatabase(path = ":memory:"): SqlDatabase & { close(): void } {
  const db = new DatabaseSync(path);
  // Durable Object SQLite commits without an fsync per statement (durability comes from its replicated
  // log); WAL without per-commit syncs is the closest file-backed stand-in.
  if (path !== ":memory:") db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF");
  const statements = new Map<string, StatementSync>();
  const prepare = (sql: string): StatementSync => {
    let statement = statements.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      statement.setReturnArrays(true);
      statements.set(sql, statement);
    }
    return statement;
  };
  let depth = 0;
  return {
    all: (sql, params = []) => prepare(sql).all(...(params as SQLInputValue[])) as unknown as unknown[][],
    iterate: (sql, params = []) =>
      prepare(sql).iterate(...(params as SQLInputValue[])) as unknown as Iterable<unknown[]>,
    run: (sql, params: readonly SqlValue[] = []) => {
      const result = prepare(sql).run(...(params as SQLInputValue[]));
      return { changes: Number(result.changes) };
    },
    transaction: (fn) => {
      if (depth > 0) return fn();
      depth++;
      db.exec("BEGIN");
      try {
        const result = fn();
        db.exec("COMMIT");
        return result;
      } catch (error) {
        db.exec("ROLLBACK");
        throw error;
      } finally {
        depth--;
      }
    },
    close: () => db.close(),
  };
}
