import type { SqlDatabase } from "./sql-database";

/** One forward-only schema step. `up` is a DDL script or a function for data migrations. */
export interface SqlMigration {
  version: number;
  description: string;
  up: string | ((db: SqlDatabase) => void);
}

/**
 * A module's own migration list (the tenant core, the quad store, …). Each component keeps its
 * own row in `schema_version`, so modules written apart never collide on version numbers.
 * Versions run 1, 2, 3, … without gaps; never edit a released migration, append a new one.
 */
export interface SchemaComponent {
  name: string;
  migrations: readonly SqlMigration[];
}

export interface AppliedMigration {
  component: string;
  version: number;
  description: string;
}

export interface SchemaMigrationReport {
  /** Migrations run by this call, in order (empty when the schema was already current). */
  applied: AppliedMigration[];
  /** Version of every component after this call. */
  versions: Record<string, number>;
}

export class SchemaMigrationError extends Error {
  readonly component: string;

  constructor(component: string, message: string, options?: { cause?: unknown }) {
    super(`Schema component "${component}": ${message}`, options);
    this.name = "SchemaMigrationError";
    this.component = component;
  }
}

export const SCHEMA_VERSION_TABLE = "schema_version";

const COMPONENT_NAME = /^[a-z][a-z0-9_-]{0,63}$/;

/**
 * Brings every component to its latest version. Idempotent: a second call applies nothing.
 * Each migration and its version bump commit together, so a failure leaves the previous version.
 */
export function applySchemaMigrations(db: SqlDatabase, components: readonly SchemaComponent[]): SchemaMigrationReport {
  validateComponents(components);
  db.execScript(
    `CREATE TABLE IF NOT EXISTS ${SCHEMA_VERSION_TABLE} (
      component TEXT PRIMARY KEY,
      version INTEGER NOT NULL,
      description TEXT NOT NULL
    )`,
  );
  const applied: AppliedMigration[] = [];
  const versions: Record<string, number> = {};
  for (const component of components) {
    const current = readVersion(db, component.name);
    const latest = component.migrations.length;
    if (current > latest) {
      throw new SchemaMigrationError(
        component.name,
        `stored schema version ${current} is newer than this code knows (${latest}); refusing to run older code on it`,
      );
    }
    for (const migration of component.migrations.slice(current)) {
      try {
        db.transaction(() => {
          if (typeof migration.up === "string") db.execScript(migration.up);
          else migration.up(db);
          db.query(
            `INSERT INTO ${SCHEMA_VERSION_TABLE} (component, version, description) VALUES (?, ?, ?)
             ON CONFLICT (component) DO UPDATE SET version = excluded.version, description = excluded.description`,
            [component.name, migration.version, migration.description],
          );
        });
      } catch (err) {
        throw new SchemaMigrationError(
          component.name,
          `migration ${migration.version} (${migration.description}) failed: ${err instanceof Error ? err.message : String(err)}`,
          { cause: err },
        );
      }
      applied.push({ component: component.name, version: migration.version, description: migration.description });
    }
    versions[component.name] = latest;
  }
  return { applied, versions };
}

/** Stored version per component (0 rows → empty object). */
export function readSchemaVersions(db: SqlDatabase): Record<string, number> {
  const versions: Record<string, number> = {};
  const rows = db.query<{ component: string; version: number }>(
    `SELECT component, version FROM ${SCHEMA_VERSION_TABLE} ORDER BY component`,
  );
  for (const row of rows) versions[row.component] = Number(row.version);
  return versions;
}

function readVersion(db: SqlDatabase, component: string): number {
  const rows = db.query<{ version: number }>(`SELECT version FROM ${SCHEMA_VERSION_TABLE} WHERE component = ?`, [
    component,
  ]);
  return rows.length === 0 ? 0 : Number(rows[0]?.version);
}

function validateComponents(components: readonly SchemaComponent[]): void {
  const seen = new Set<string>();
  for (const component of components) {
    if (!COMPONENT_NAME.test(component.name)) {
      throw new SchemaMigrationError(component.name, "name must match [a-z][a-z0-9_-]*");
    }
    if (seen.has(component.name)) throw new SchemaMigrationError(component.name, "listed twice");
    seen.add(component.name);
    component.migrations.forEach((migration, index) => {
      if (migration.version !== index + 1) {
        throw new SchemaMigrationError(
          component.name,
          `migration at position ${index + 1} has version ${migration.version}; versions must run 1, 2, 3, … without gaps`,
        );
      }
    });
  }
}
