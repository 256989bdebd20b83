import { joiningTransactions, type SqlDatabase, type SqlRow, type SqlValue } from "../shared/sql/sql-database";

/** Adapts a Durable Object's SQLite storage (`ctx.storage`) to the runtime-neutral SqlDatabase. */
export function sqlDatabaseFromStorage(storage: DurableObjectStorage): SqlDatabase {
  const sql = storage.sql;
  return {
    execScript(script) {
      sql.exec(script);
    },
    query: <T extends SqlRow = SqlRow>(query: string, params: readonly SqlValue[] = []) =>
      sql.exec(query, ...params).toArray() as T[],
    all: (query, params = []) => Array.from(sql.exec(query, ...params).raw()),
    iterate: (query, params = []) => sql.exec(query, ...params).raw(),
    run: (query, params = []) => {
      sql.exec(query, ...params).toArray();
      // rowsWritten counts index rows too (one insert into a table with two indexes "writes" three), so
      // ask SQLite for the number of table rows the statement changed.
      const [changed] = Array.from(sql.exec("SELECT changes()").raw());
      return { changes: Number(changed?.[0] ?? 0) };
    },
    transaction: joiningTransactions((fn) => storage.transactionSync(fn)),
  };
}
