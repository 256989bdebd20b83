import { Parser } from "n3";
import { describe, expect, it } from "vitest";
import { nodeSqlDatabase } from "../../../cli/node-sql-database";
import { TENANT_SCHEMA, tenantCoreSchema } from "../../../durable-objects/tenant/tenant-schema";
import { QuadStore } from "../../../shared/rdf/store/quad-store";
import { quadStoreSchema } from "../../../shared/rdf/store/quad-store-schema";
import { applySchemaMigrations, readSchemaVersions, SchemaMigrationError } from "../../../shared/sql/migrations";
import { LEGACY_QUAD_STORE_SQL } from "../../support/legacy-quad-store-sql";
import { uploadTriples } from "../../support/sparql-store";

/** The components these tests are about: the quad store and the core it is applied after. */
const CORE_AND_STORE = [tenantCoreSchema, quadStoreSchema];

/** A tenant database as the code before the `quad-store` component left it. */
function legacyTenantDatabase() {
  const db = nodeSqlDatabase();
  applySchemaMigrations(db, [tenantCoreSchema]);
  for (const statement of LEGACY_QUAD_STORE_SQL) db.run(statement);
  return db;
}

const tables = (db: ReturnType<typeof nodeSqlDatabase>) =>
  db.all("SELECT name FROM sqlite_master WHERE type IN ('table', 'index') AND name LIKE 'rdf%' ORDER BY name").flat();

/** Columns and indexes (with their columns and partial-index conditions) of every quad store table. */
function shape(db: ReturnType<typeof nodeSqlDatabase>) {
  return tables(db)
    .filter((name) => !String(name).startsWith("rdf_quad_"))
    .map((table) => ({
      table,
      columns: db.all(`SELECT name, type, "notnull", pk FROM pragma_table_info('${table}')`),
      indexes: db
        .all(`SELECT name, "unique", partial FROM pragma_index_list('${table}') ORDER BY name`)
        .map(([name, unique, partial]) => ({
          name: String(name).startsWith("sqlite_autoindex") ? "auto" : name,
          unique,
          partial,
          columns: db.all(`SELECT name FROM pragma_index_info('${name}')`).flat(),
        })),
    }));
}

describe("the quad-store schema component", () => {
  it("creates the store's tables in a new tenant database, once", () => {
    const db = nodeSqlDatabase();
    const report = applySchemaMigrations(db, CORE_AND_STORE);
    expect(report.versions).toEqual({ "tenant-core": 2, "quad-store": 2 });
    expect(tables(db)).toEqual([
      "rdf_canonical_line",
      "rdf_graph",
      "rdf_graph_version",
      "rdf_quad",
      "rdf_quad_added",
      "rdf_quad_osp",
      "rdf_quad_pos",
      "rdf_quad_removed",
      "rdf_staging",
      "rdf_staging_remove",
      "rdf_term",
    ]);
    expect(applySchemaMigrations(db, CORE_AND_STORE).applied).toEqual([]);
  });

  it("adopts the tables of a store made before it existed, keeping every row, and drops rdf_schema", async () => {
    const db = legacyTenantDatabase();
    const rowsBefore = ["rdf_term", "rdf_graph", "rdf_graph_version", "rdf_quad"].map((table) =>
      db.all(`SELECT * FROM ${table} ORDER BY 1, 2`),
    );
    const report = applySchemaMigrations(db, CORE_AND_STORE);
    expect(report.applied.map((m) => `${m.component}@${m.version}`)).toEqual(["quad-store@1", "quad-store@2"]);
    expect(readSchemaVersions(db)).toEqual({ "tenant-core": 2, "quad-store": 2 });
    expect(tables(db)).not.toContain("rdf_schema");
    // Same columns, keys and indexes as a database the component created from nothing.
    const fresh = nodeSqlDatabase();
    applySchemaMigrations(fresh, CORE_AND_STORE);
    expect(shape(db)).toEqual(shape(fresh));
    expect(
      ["rdf_term", "rdf_graph", "rdf_graph_version", "rdf_quad"].map((table) =>
        db.all(`SELECT * FROM ${table} ORDER BY 1, 2`),
      ),
    ).toEqual(rowsBefore);

    const store = new QuadStore(db);
    expect(store.listVersions("people").map((v) => [v.number, v.tripleCount])).toEqual([
      [1, 2],
      [2, 2],
    ]);
    expect([...store.readVersion("people", 1)].map((quad) => quad.object.value).sort()).toEqual([
      "30",
      "http://example.org/bob",
    ]);
    // The adopted store takes writes: the next upload diffs against the old rows.
    const next = await uploadTriples(
      store,
      "people",
      new Parser().parse("<http://example.org/alice> <http://example.org/age> 32 ."),
      { createdAt: "2026-01-03T00:00:00.000Z" },
    );
    expect(next.version).toMatchObject({ number: 3, tripleCount: 1, added: 1, removed: 2 });
  });

  it("refuses an rdf_schema newer than version 1 and leaves the database as it was", () => {
    const db = legacyTenantDatabase();
    db.run("UPDATE rdf_schema SET version = 2");
    expect(() => applySchemaMigrations(db, CORE_AND_STORE)).toThrow(SchemaMigrationError);
    expect(readSchemaVersions(db)).toEqual({ "tenant-core": 2 });
    expect(db.all("SELECT version FROM rdf_schema")).toEqual([[2]]);
  });

  it("is the quad store's only schema: listed in the tenant schema after the core", () => {
    const names = TENANT_SCHEMA.map((component) => component.name);
    expect(names.slice(0, 2)).toEqual(["tenant-core", quadStoreSchema.name]);
    expect(names.filter((name) => name === quadStoreSchema.name)).toHaveLength(1);
  });
});
