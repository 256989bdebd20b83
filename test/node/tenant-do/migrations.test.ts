import { DatabaseSync } from "node:sqlite";
import { describe, expect, it } from "vitest";
import { TENANT_SCHEMA } from "../../../durable-objects/tenant/tenant-schema";
import { sqlDatabaseFromSync } from "../../../shared/sql/database-sync-adapter";
import {
  applySchemaMigrations,
  readSchemaVersions,
  type SchemaComponent,
  SchemaMigrationError,
} from "../../../shared/sql/migrations";
import type { SqlDatabase } from "../../../shared/sql/sql-database";

function memoryDb(): SqlDatabase {
  return sqlDatabaseFromSync(new DatabaseSync(":memory:"));
}

const notes: SchemaComponent = {
  name: "notes",
  migrations: [
    { version: 1, description: "notes table", up: "CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT NOT NULL)" },
    {
      version: 2,
      description: "seed",
      up: (db) => {
        db.query("INSERT INTO note (body) VALUES (?)", "hello");
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

describe("sqlDatabaseFromSync transactions", () => {
  it("nests and rolls back only the failing inner part", () => {
    const db = memoryDb();
    db.execScript("CREATE TABLE t (x INTEGER)");
    db.transaction(() => {
      db.query("INSERT INTO t VALUES (1)");
      expect(() =>
        db.transaction(() => {
          db.query("INSERT INTO t VALUES (2)");
          throw new Error("inner");
        }),
      ).toThrow("inner");
    });
    expect(db.query("SELECT x FROM t")).toEqual([{ x: 1 }]);
  });
});
