/**
 * What the quad store left in a tenant's SQLite before its tables became the `quad-store` component of the
 * tenant schema: the statements its own migration ran (frozen here), the `rdf_schema` table at version 1,
 * and two versions of graph "people" written by its upload path. Run each statement in turn.
 */
const STILL_PRESENT = 9007199254740991;

export const LEGACY_QUAD_STORE_SQL: readonly string[] = [
  "CREATE TABLE IF NOT EXISTS rdf_schema (version INTEGER NOT NULL)",
  "INSERT INTO rdf_schema (version) VALUES (0)",
  "CREATE TABLE rdf_term (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE)",
  "CREATE TABLE rdf_graph (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, latest INTEGER NOT NULL DEFAULT 0)",
  `CREATE TABLE rdf_graph_version (id INTEGER PRIMARY KEY, graph INTEGER NOT NULL, number INTEGER NOT NULL,
      hash TEXT, triple_count INTEGER NOT NULL, added INTEGER NOT NULL, removed INTEGER NOT NULL,
      created_at TEXT NOT NULL, UNIQUE (graph, number))`,
  `CREATE TABLE rdf_quad (g INTEGER NOT NULL, s INTEGER NOT NULL, p INTEGER NOT NULL, o INTEGER NOT NULL,
      added_in INTEGER NOT NULL, removed_in INTEGER NOT NULL, PRIMARY KEY (g, s, p, o, added_in)) WITHOUT ROWID`,
  "CREATE INDEX rdf_quad_pos ON rdf_quad (g, p, o, s, removed_in)",
  "CREATE INDEX rdf_quad_osp ON rdf_quad (g, o, s, p, removed_in)",
  "CREATE INDEX rdf_quad_added ON rdf_quad (g, added_in) WHERE added_in > 1",
  `CREATE INDEX rdf_quad_removed ON rdf_quad (g, removed_in) WHERE removed_in < ${STILL_PRESENT}`,
  "CREATE TABLE rdf_staging (s INTEGER NOT NULL, p INTEGER NOT NULL, o INTEGER NOT NULL, PRIMARY KEY (s, p, o)) WITHOUT ROWID",
  "CREATE TABLE rdf_staging_remove (s INTEGER NOT NULL, p INTEGER NOT NULL, o INTEGER NOT NULL, PRIMARY KEY (s, p, o)) WITHOUT ROWID",
  "UPDATE rdf_schema SET version = 1",
  `INSERT INTO rdf_term (id, key) VALUES (1, '<http://example.org/alice>'), (2, '<http://example.org/knows>'),
      (3, '<http://example.org/bob>'), (4, '<http://example.org/age>'), (5, '"30"^^<http://www.w3.org/2001/XMLSchema#integer>'),
      (6, '"31"^^<http://www.w3.org/2001/XMLSchema#integer>')`,
  "INSERT INTO rdf_graph (id, name, latest) VALUES (1, 'people', 2)",
  `INSERT INTO rdf_graph_version (graph, number, hash, triple_count, added, removed, created_at) VALUES
      (1, 1, 'sha256:${"1".repeat(64)}', 2, 2, 0, '2026-01-01T00:00:00.000Z'),
      (1, 2, 'sha256:${"2".repeat(64)}', 2, 1, 1, '2026-01-02T00:00:00.000Z')`,
  `INSERT INTO rdf_quad (g, s, p, o, added_in, removed_in) VALUES
      (1, 1, 2, 3, 1, ${STILL_PRESENT}), (1, 1, 4, 5, 1, 2), (1, 1, 4, 6, 2, ${STILL_PRESENT})`,
];
