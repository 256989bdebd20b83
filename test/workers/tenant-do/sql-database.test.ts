import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sqlDatabaseFromStorage } from "../../../durable-objects/durable-object-sql-database";

describe("SqlDatabase over Durable Object storage", () => {
  it("follows the one transaction rule: a nested transaction joins the outer one", async () => {
    const stub = env.TENANT.get(env.TENANT.idFromName("sql-database-transactions"));
    const seen = await runInDurableObject(stub, (_instance, state) => {
      const db = sqlDatabaseFromStorage(state.storage);
      db.execScript("CREATE TABLE t (x INTEGER PRIMARY KEY, b BLOB); CREATE INDEX t_b ON t (b)");
      const values = () => db.all("SELECT x FROM t ORDER BY x").flat();
      let propagated = "";
      try {
        db.transaction(() => {
          db.run("INSERT INTO t (x) VALUES (1)");
          db.transaction(() => {
            db.run("INSERT INTO t (x) VALUES (2)");
            throw new Error("inner");
          });
        });
      } catch (error) {
        propagated = (error as Error).message;
      }
      const afterPropagated = values();
      db.transaction(() => {
        db.run("INSERT INTO t (x) VALUES (3)");
        try {
          db.transaction(() => {
            db.run("INSERT INTO t (x) VALUES (4)");
            throw new Error("caught");
          });
        } catch {}
      });
      const afterCaught = values();
      const inserted = db.run("INSERT INTO t (x, b) VALUES (5, ?), (6, ?)", [new Uint8Array([1]), new Uint8Array([2])]);
      const rows = db.query<{ x: number }>("SELECT x FROM t WHERE x > ?", [4]);
      return { propagated, afterPropagated, afterCaught, inserted, rows };
    });
    expect(seen).toEqual({
      propagated: "inner",
      afterPropagated: [],
      afterCaught: [3, 4],
      // Table rows only, though each insert also writes an index row.
      inserted: { changes: 2 },
      rows: [{ x: 5 }, { x: 6 }],
    });
  });
});
