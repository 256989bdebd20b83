import type { SqlDatabase, SqlRow, SqlValue } from "../shared/sql/sql-database";

/** Adapts a Durable Object's SQLite storage to the runtime-neutral SqlDatabase of `shared/sql`. */
export function sqlDatabaseFromStorage(storage: DurableObjectStorage): SqlDatabase {
  const sql = storage.sql;
  return {
    execScript(script) {
      sql.exec(script);
    },
    query<T extends SqlRow = SqlRow>(query: string, ...bindings: SqlValue[]): T[] {
      return sql.exec(query, ...bindings).toArray() as T[];
    },
    transaction(fn) {
      return storage.transactionSync(fn);
    },
  };
}
