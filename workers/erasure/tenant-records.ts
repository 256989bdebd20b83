import { getTableName, type SQL, sql } from "drizzle-orm";
import type { SQLiteColumn, SQLiteTable } from "drizzle-orm/sqlite-core";
import type { Database } from "../db/client";
import {
  apiKeys,
  artifacts,
  auditLog,
  generatorSettings,
  jobBatches,
  jobs,
  members,
  signingKeys,
  templates,
  triggerDeliveries,
  triggers,
} from "../db/schema";

/** Rows one D1 statement of an erasure deletes at most. */
export const RECORDS_PAGE_SIZE = 1000;

export interface TenantTable {
  name: string;
  table: SQLiteTable;
  /** The condition selecting the tenant's rows, through an index. */
  owned: (tenantId: string) => SQL;
}

const byTenantId = (table: SQLiteTable, tenantId: SQLiteColumn): TenantTable => ({
  name: getTableName(table),
  table,
  owned: (id) => sql`${tenantId} = ${id}`,
});

/**
 * Every D1 table holding a tenant's data, in the order an erasure empties them: rows that reference
 * another table's rows (artifacts → jobs, deliveries → triggers) go first, so no delete cascades into an
 * unbounded number of rows. The `tenants` row itself goes last (the erasure's `tenant` phase).
 * Kept on purpose: `tenant_erasures` (the record of the erasure) and the operator's `tenant.delete`
 * audit entry, which names the tenant only by id.
 */
export const TENANT_TABLES: readonly TenantTable[] = [
  byTenantId(artifacts, artifacts.tenantId),
  byTenantId(jobBatches, jobBatches.tenantId),
  byTenantId(jobs, jobs.tenantId),
  {
    name: getTableName(triggerDeliveries),
    table: triggerDeliveries,
    // No index leads from a tenant to its deliveries; the trigger id (the primary key's first column) does.
    owned: (id) =>
      sql`${triggerDeliveries.triggerId} in (select ${triggers.id} from ${triggers} where ${triggers.tenantId} = ${id})`,
  },
  byTenantId(triggers, triggers.tenantId),
  byTenantId(templates, templates.tenantId),
  byTenantId(generatorSettings, generatorSettings.tenantId),
  byTenantId(signingKeys, signingKeys.tenantId),
  byTenantId(apiKeys, apiKeys.tenantId),
  byTenantId(members, members.tenantId),
  byTenantId(auditLog, auditLog.tenantId),
];

/** Deletes up to RECORDS_PAGE_SIZE of the tenant's rows in one table, in one statement; returns how many. */
export async function deleteRecordsPage(db: Database, entry: TenantTable, tenantId: string): Promise<number> {
  const result = await db.run(
    sql`delete from ${entry.table} where rowid in (select rowid from ${entry.table} where ${entry.owned(tenantId)} limit ${RECORDS_PAGE_SIZE})`,
  );
  return result.meta.changes ?? 0;
}
