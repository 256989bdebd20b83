import type { SchemaComponent } from "../../sql/migrations";
import type { SqlDatabase } from "../../sql/sql-database";

/** `removed_in` of a quad that is still present in the latest version. */
export const STILL_PRESENT = 9007199254740991;

/**
 * The quad store's tables as a component of the tenant schema. Version 1 adopts the tables a store made
 * before this component existed (they came with an `rdf_schema` row at version 1): every statement is
 * create-if-missing, so their rows stay, and the old version table goes.
 */
export const quadStoreSchema: SchemaComponent = {
  name: "quad-store",
  migrations: [
    {
      version: 1,
      description: "term dictionary, graphs, versions, versioned quads and upload staging",
      up: (db: SqlDatabase) => {
        const legacy = db.all("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'rdf_schema'");
        if (legacy.length > 0) {
          const version = Number(db.all("SELECT max(version) FROM rdf_schema")[0]?.[0] ?? 0);
          if (version > 1) throw new Error(`rdf_schema is at version ${version}; only version 1 can be adopted`);
        }
        // rdf_quad_added and rdf_quad_removed are partial: rows of a graph's first version and rows still
        // present are never a diff's range scan target, so bulk uploads do not pay for these indexes.
        db.execScript(`
          CREATE TABLE IF NOT EXISTS rdf_term (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE);
          CREATE TABLE IF NOT EXISTS rdf_graph (
            id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, latest INTEGER NOT NULL DEFAULT 0
          );
          CREATE TABLE IF NOT EXISTS rdf_graph_version (
            id INTEGER PRIMARY KEY, graph INTEGER NOT NULL, number INTEGER NOT NULL, hash TEXT,
            triple_count INTEGER NOT NULL, added INTEGER NOT NULL, removed INTEGER NOT NULL,
            created_at TEXT NOT NULL, UNIQUE (graph, number)
          );
          CREATE TABLE IF NOT EXISTS rdf_quad (
            g INTEGER NOT NULL, s INTEGER NOT NULL, p INTEGER NOT NULL, o INTEGER NOT NULL,
            added_in INTEGER NOT NULL, removed_in INTEGER NOT NULL, PRIMARY KEY (g, s, p, o, added_in)
          ) WITHOUT ROWID;
          CREATE INDEX IF NOT EXISTS rdf_quad_pos ON rdf_quad (g, p, o, s, removed_in);
          CREATE INDEX IF NOT EXISTS rdf_quad_osp ON rdf_quad (g, o, s, p, removed_in);
          CREATE INDEX IF NOT EXISTS rdf_quad_added ON rdf_quad (g, added_in) WHERE added_in > 1;
          CREATE INDEX IF NOT EXISTS rdf_quad_removed ON rdf_quad (g, removed_in) WHERE removed_in < ${STILL_PRESENT};
          CREATE TABLE IF NOT EXISTS rdf_staging (
            s INTEGER NOT NULL, p INTEGER NOT NULL, o INTEGER NOT NULL, PRIMARY KEY (s, p, o)
          ) WITHOUT ROWID;
          CREATE TABLE IF NOT EXISTS rdf_staging_remove (
            s INTEGER NOT NULL, p INTEGER NOT NULL, o INTEGER NOT NULL, PRIMARY KEY (s, p, o)
          ) WITHOUT ROWID;
          DROP TABLE IF EXISTS rdf_schema;
        `);
      },
    },
    {
      version: 2,
      description: "canonical lines sorted by SQLite while a large version is hashed or streamed",
      up: (db: SqlDatabase) => {
        // `line` is the canonical N-Triples line under a key whose byte order is its code-unit order
        // (code-unit-order-key.ts); `run` keeps documents read at the same time apart.
        db.execScript(`
          CREATE TABLE IF NOT EXISTS rdf_canonical_line (
            run INTEGER NOT NULL, line BLOB NOT NULL, PRIMARY KEY (run, line)
          ) WITHOUT ROWID;
        `);
      },
    },
  ],
};
