import type { SchemaComponent } from "../../shared/sql/migrations";
import type { SqlDatabase } from "../../shared/sql/sql-database";

/** Prefixes kept per version: enough for any hand-written document, bounded against hostile ones. */
export const MAX_PREFIXES_PER_VERSION = 200;
/** Longest namespace IRI kept; longer declarations are not worth a prefixed name. */
export const MAX_PREFIX_NAMESPACE_CHARS = 2048;

/** The prefixes each graph version was written with, for Turtle and TriG output. */
export const graphPrefixesSchema: SchemaComponent = {
  name: "graph-prefixes",
  migrations: [
    {
      version: 1,
      description: "prefix declarations of each graph version",
      up: `
        CREATE TABLE graph_version_prefix (
          graph TEXT NOT NULL,
          version INTEGER NOT NULL,
          prefix TEXT NOT NULL,
          namespace TEXT NOT NULL,
          PRIMARY KEY (graph, version, prefix)
        ) WITHOUT ROWID;
      `,
    },
  ],
};

/**
 * `declared` (in declaration order; a later declaration of a prefix wins) on top of `inherited`, bounded by
 * MAX_PREFIXES_PER_VERSION: inherited prefixes first, then new ones until the bound.
 */
export function mergePrefixes(
  inherited: Record<string, string>,
  declared: readonly (readonly [prefix: string, namespace: string])[],
): Record<string, string> {
  const merged = new Map(Object.entries(inherited));
  for (const [prefix, namespace] of declared) {
    if (namespace.length > MAX_PREFIX_NAMESPACE_CHARS) continue;
    if (!merged.has(prefix) && merged.size >= MAX_PREFIXES_PER_VERSION) continue;
    merged.set(prefix, namespace);
  }
  return Object.fromEntries(merged);
}

/** Reads and writes the graph_version_prefix table of the tenant's SQLite. */
export class GraphPrefixes {
  constructor(private readonly db: SqlDatabase) {}

  /** The prefixes of a version, `{}` when it declared none. */
  of(graph: string, version: number): Record<string, string> {
    const rows = this.db.query<{ prefix: string; namespace: string }>(
      "SELECT prefix, namespace FROM graph_version_prefix WHERE graph = ? AND version = ? ORDER BY prefix",
      [graph, version],
    );
    return Object.fromEntries(rows.map((row) => [row.prefix, row.namespace]));
  }

  /** Sets a new version's prefixes, replacing whatever an earlier graph of the same name left for that number. */
  record(graph: string, version: number, prefixes: Record<string, string>): void {
    this.db.transaction(() => {
      this.db.run("DELETE FROM graph_version_prefix WHERE graph = ? AND version = ?", [graph, version]);
      for (const [prefix, namespace] of Object.entries(prefixes)) {
        this.db.run("INSERT INTO graph_version_prefix (graph, version, prefix, namespace) VALUES (?, ?, ?, ?)", [
          graph,
          version,
          prefix,
          namespace,
        ]);
      }
    });
  }

  /** Drops every version's prefixes of a deleted graph. */
  forget(graph: string): void {
    this.db.run("DELETE FROM graph_version_prefix WHERE graph = ?", [graph]);
  }

  /** Drops the prefixes of a graph's versions before `floor`, except those of `keep` (version retention). */
  forgetBefore(graph: string, floor: number, keep: readonly number[]): void {
    this.db.run(
      "DELETE FROM graph_version_prefix WHERE graph = ? AND version < ? AND version NOT IN (SELECT value FROM json_each(?))",
      [graph, floor, JSON.stringify(keep)],
    );
  }
}
