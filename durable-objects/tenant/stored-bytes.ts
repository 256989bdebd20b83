import type { SchemaComponent } from "../../shared/sql/migrations";
import type { SqlDatabase } from "../../shared/sql/sql-database";

/**
 * What a tenant stores, by kind. Measured by the cron (see the blob collector) and kept here, so that
 * `GET /v1/usage` reads it in the one call it makes to the tenant's object:
 * - `artifacts`: bytes of the retained jobs' artifacts as written (before deduplication);
 * - `packs`, `templateSources`, `attestations`: the blobs in R2 the index and the catalog reference;
 * - `unreferenced`: blobs no record references yet or any more, kept for the collector's grace period;
 * - `events`: the event log's data in this object.
 */
export const STORED_KINDS = [
  "artifacts",
  "packs",
  "templateSources",
  "attestations",
  "unreferenced",
  "events",
] as const;

export type StoredKind = (typeof STORED_KINDS)[number];

export interface StoredBytesRow {
  kind: StoredKind;
  bytes: number;
  /** Artifacts, blobs or events counted. */
  objects: number;
  /** Epoch ms of the measurement. */
  measuredAt: number;
}

export const storedBytesSchema: SchemaComponent = {
  name: "stored-bytes",
  migrations: [
    {
      version: 1,
      description: "stored bytes per kind as last measured",
      up: `
        CREATE TABLE stored_bytes (
          kind TEXT PRIMARY KEY,
          bytes INTEGER NOT NULL,
          objects INTEGER NOT NULL,
          measured_at INTEGER NOT NULL
        ) WITHOUT ROWID;
      `,
    },
  ],
};

/** The tenant's stored bytes per kind, replaced kind by kind as measurements arrive. */
export class StoredBytes {
  constructor(private readonly db: SqlDatabase) {}

  /** Records measured kinds and measures the event log alongside, in one transaction. */
  record(measured: Omit<StoredBytesRow, "measuredAt">[], measuredAt: number): void {
    this.db.transaction(() => {
      const [events] = this.db.query<{ objects: number; bytes: number }>(
        "SELECT count(*) AS objects, coalesce(sum(length(CAST(data AS BLOB))), 0) AS bytes FROM event_log",
      );
      const rows = [...measured, { kind: "events" as const, bytes: events?.bytes ?? 0, objects: events?.objects ?? 0 }];
      for (const row of rows) {
        this.db.run(
          `INSERT INTO stored_bytes (kind, bytes, objects, measured_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (kind) DO UPDATE SET bytes = excluded.bytes, objects = excluded.objects,
             measured_at = excluded.measured_at`,
          [row.kind, row.bytes, row.objects, measuredAt],
        );
      }
    });
  }

  list(): StoredBytesRow[] {
    return this.db
      .query<{ kind: StoredKind; bytes: number; objects: number; measured_at: number }>(
        "SELECT kind, bytes, objects, measured_at FROM stored_bytes ORDER BY kind",
      )
      .map((row) => ({
        kind: row.kind,
        bytes: Number(row.bytes),
        objects: Number(row.objects),
        measuredAt: Number(row.measured_at),
      }));
  }
}

export function isStoredKind(value: unknown): value is StoredKind {
  return typeof value === "string" && (STORED_KINDS as readonly string[]).includes(value);
}
