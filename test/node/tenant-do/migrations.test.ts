import { describe, expect, it } from "vitest";
import { nodeSqlDatabase } from "../../../cli/node-sql-database";
import { TENANT_SCHEMA } from "../../../durable-objects/tenant/tenant-schema";
import {
  applySchemaMigrations,
  readSchemaVersions,
  type SchemaComponent,
  SchemaMigrationError,
} from "../../../shared/sql/migrations";
import type { SqlDatabase } from "../../../shared/sql/sql-database";

function memoryDb(): SqlDatabase {
  return nodeSqlDatabase();
}

const notes: SchemaComponent = {
  name: "notes",
  migrations: [
    { version: 1, description: "notes table", up: "CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT NOT NULL)" },
    {
      version: 2,
      description: "seed",
      up: (db) => {
        db.query("INSERT INTO note (body) VALUES (?)", ["hello"]);
      },
    },
  ],
};

const tags: SchemaComponent = {
  name: "tags",
  migrations: [{ version: 1, description: "tags table", up: "CREATE TABLE tag (name TEXT PRIMARY KEY)" }],
};

describe("applySchemaMigrations", () => {
  it("applies each component's migrations once and records one version row per component", () => {
    const db = memoryDb();
    const first = applySchemaMigrations(db, [notes, tags]);
    expect(first.applied.map((m) => `${m.component}@${m.version}`)).toEqual(["notes@1", "notes@2", "tags@1"]);
    expect(first.versions).toEqual({ notes: 2, tags: 1 });
    expect(readSchemaVersions(db)).toEqual({ notes: 2, tags: 1 });

    const second = applySchemaMigrations(db, [notes, tags]);
    expect(second.applied).toEqual([]);
    expect(db.query("SELECT body FROM note")).toEqual([{ body: "hello" }]);
  });

  it("applies only the migrations appended since the last run", () => {
    const db = memoryDb();
    applySchemaMigrations(db, [{ name: "notes", migrations: notes.migrations.slice(0, 1) }]);
    expect(readSchemaVersions(db)).toEqual({ notes: 1 });
    const report = applySchemaMigrations(db, [notes, tags]);
    expect(report.applied.map((m) => `${m.component}@${m.version}`)).toEqual(["notes@2", "tags@1"]);
  });

  it("rolls a failing migration back and keeps the previous version", () => {
    const db = memoryDb();
    const broken: SchemaComponent = {
      name: "notes",
      migrations: [
        notes.migrations[0] as SchemaComponent["migrations"][number],
        { version: 2, description: "half-done", up: "CREATE TABLE extra (x INTEGER); INSERT INTO missing VALUES (1);" },
      ],
    };
    expect(() => applySchemaMigrations(db, [broken])).toThrow(SchemaMigrationError);
    expect(readSchemaVersions(db)).toEqual({ notes: 1 });
    expect(db.query("SELECT name FROM sqlite_master WHERE name = 'extra'")).toEqual([]);
  });

  it("refuses a stored version newer than the code", () => {
    const db = memoryDb();
    applySchemaMigrations(db, [notes]);
    expect(() => applySchemaMigrations(db, [{ name: "notes", migrations: notes.migrations.slice(0, 1) }])).toThrow(
      /newer than this code knows/,
    );
  });

  it("rejects version gaps, duplicate components and bad names before touching the database", () => {
    const db = memoryDb();
    const gap: SchemaComponent = {
      name: "gap",
      migrations: [{ version: 2, description: "skips 1", up: "CREATE TABLE g (x)" }],
    };
    expect(() => applySchemaMigrations(db, [gap])).toThrow(/without gaps/);
    expect(() => applySchemaMigrations(db, [tags, tags])).toThrow(/listed twice/);
    expect(() => applySchemaMigrations(db, [{ name: "Bad Name", migrations: [] }])).toThrow(SchemaMigrationError);
    expect(db.query("SELECT name FROM sqlite_master WHERE name = 'g'")).toEqual([]);
  });

  it("runs the TenantObject schema on node:sqlite too", () => {
    const db = memoryDb();
    const report = applySchemaMigrations(db, TENANT_SCHEMA);
    expect(report.versions["tenant-core"]).toBeGreaterThanOrEqual(1);
    expect(applySchemaMigrations(db, TENANT_SCHEMA).applied).toEqual([]);
  });
});

describe("SqlDatabase transactions (node:sqlite adapter)", () => {
  it("commits everything or, when the body throws, nothing", () => {
    const db = memoryDb();
    db.execScript("CREATE TABLE t (x INTEGER)");
    db.transaction(() => {
      db.run("INSERT INTO t VALUES (?)", [1]);
      db.query("INSERT INTO t VALUES (?)", [2]);
    });
    expect(() =>
      db.transaction(() => {
        db.run("INSERT INTO t VALUES (3)");
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(db.all("SELECT x FROM t ORDER BY x")).toEqual([[1], [2]]);
  });

  it("joins a nested transaction to the outer one: an inner failure that propagates undoes both", () => {
    const db = memoryDb();
    db.execScript("CREATE TABLE t (x INTEGER)");
    expect(() =>
      db.transaction(() => {
        db.run("INSERT INTO t VALUES (1)");
        db.transaction(() => {
          db.run("INSERT INTO t VALUES (2)");
          throw new Error("inner");
        });
      }),
    ).toThrow("inner");
    expect(db.query("SELECT x FROM t")).toEqual([]);
  });

  it("joins a nested transaction to the outer one: an inner failure caught by the outer body undoes nothing", () => {
    const db = memoryDb();
    db.execScript("CREATE TABLE t (x INTEGER)");
    db.transaction(() => {
      db.run("INSERT INTO t VALUES (1)");
      expect(() =>
        db.transaction(() => {
          db.run("INSERT INTO t VALUES (2)");
          throw new Error("inner");
        }),
      ).toThrow("inner");
    });
    expect(db.query("SELECT x FROM t ORDER BY x")).toEqual([{ x: 1 }, { x: 2 }]);
    // The next transaction starts afresh: nothing was left open.
    expect(() =>
      db.transaction(() => {
        db.run("INSERT INTO t VALUES (3)");
        throw new Error("again");
      }),
    ).toThrow("again");
    expect(db.query("SELECT count(*) AS n FROM t")).toEqual([{ n: 2 }]);
  });

  it("reports the table rows a statement changed and binds blobs", () => {
    const db = memoryDb();
    db.execScript("CREATE TABLE t (x INTEGER PRIMARY KEY, b BLOB); CREATE INDEX t_b ON t (b)");
    expect(db.run("INSERT INTO t (x, b) VALUES (1, ?), (2, ?)", [new Uint8Array([1]), new Uint8Array([2])])).toEqual({
      changes: 2,
    });
    db.query("INSERT INTO t (x, b) VALUES (3, ?)", [new Uint8Array([3]).buffer]);
    expect(db.run("DELETE FROM t WHERE x > ?", [1])).toEqual({ changes: 2 });
    expect([...db.iterate("SELECT x FROM t")]).toEqual([[1]]);
  });
});
