import { and, asc, eq, getTableColumns, gt, sql } from "drizzle-orm";
import type { ArtifactRecord } from "../../durable-objects/tenant/artifact-index-store";
import type { Database } from "../db/client";
import { artifacts } from "../db/schema";

/**
 * Artifact rows of one tenant still in the platform database's `artifacts` table: written before the
 * index moved into the tenant's object, and not yet moved there by the migration
 * (workers/maintenance/migrate-artifact-index.ts). Read only; the table gets no new rows.
 */
export class LegacyArtifactRows {
  constructor(
    private readonly db: Database,
    readonly tenantId: string,
  ) {}

  async get(id: string): Promise<ArtifactRecord | undefined> {
    const { tenantId: _, ...columns } = getTableColumns(artifacts);
    return this.db
      .select(columns)
      .from(artifacts)
      .where(and(eq(artifacts.tenantId, this.tenantId), eq(artifacts.id, id)))
      .get();
  }

  async list(
    jobId: string,
    limit: number,
    afterPath: string | undefined,
    withAttestation: boolean,
  ): Promise<ArtifactRecord[]> {
    const { tenantId: _, attestation, ...summary } = getTableColumns(artifacts);
    return this.db
      .select({ ...summary, attestation: withAttestation ? attestation : sql<null>`null` })
      .from(artifacts)
      .where(
        and(
          eq(artifacts.tenantId, this.tenantId),
          eq(artifacts.jobId, jobId),
          afterPath === undefined ? undefined : gt(artifacts.path, afterPath),
        ),
      )
      .orderBy(asc(artifacts.path))
      .limit(limit)
      .all();
  }

  async outputPaths(jobId: string): Promise<{ path: string; templatePath: string }[]> {
    return this.db
      .select({ path: artifacts.path, templatePath: artifacts.templatePath })
      .from(artifacts)
      .where(and(eq(artifacts.tenantId, this.tenantId), eq(artifacts.jobId, jobId)))
      .orderBy(asc(artifacts.path))
      .all();
  }

  /**
   * Tenant erasure: deletes up to `limit` of the tenant's rows, in one statement, and returns how many;
   * fewer than `limit` means none are left.
   */
  async erasePage(limit: number): Promise<number> {
    const result = await this.db.run(
      sql`delete from ${artifacts} where rowid in (select rowid from ${artifacts} where ${artifacts.tenantId} = ${this.tenantId} limit ${limit})`,
    );
    return result.meta.changes ?? 0;
  }
}
