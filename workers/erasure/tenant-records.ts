import { getTableName, type SQL, sql } from "drizzle-orm";
import type { SQLiteColumn, SQLiteTable } from "drizzle-orm/sqlite-core";
import { database } from "../db/client";
import {
  apiKeys,
  artifacts,
  auditLog,
  generatorSettings,
  jobBatches,
  jobs,
  members,
  monitors,
  planChanges,
  releasedBlobs,
  signingKeys,
  templates,
  triggerDeliveries,
  triggers,
  usageMonthly,
} from "../db/schema";
import { LegacyArtifactRows } from "../repository/legacy-artifacts";

/** Rows one D1 statement of an erasure deletes at most. */
export const RECORDS_PAGE_SIZE = 1000;

export interface TenantTable {
  name: string;
  /** Deletes up to RECORDS_PAGE_SIZE of the tenant's rows in one statement; returns how many. */
  erasePage: (env: Env, tenantId: string) => Promise<number>;
}

/** Deletes one page of the rows `owned` selects (it must select them through an index). */
function tableOf(table: SQLiteTable, owned: (tenantId: string) => SQL): TenantTable {
  return {
    name: getTableName(table),
    erasePage: async (env, tenantId) => {
      const result = await database(env.DB).run(
        sql`delete from ${table} where rowid in (select rowid from ${table} where ${owned(tenantId)} limit ${RECORDS_PAGE_SIZE})`,
      );
      return result.meta.changes ?? 0;
    },
  };
}

const byTenantId = (table: SQLiteTable, tenantId: SQLiteColumn) => tableOf(table, (id) => sql`${tenantId} = ${id}`);

/**
 * Every D1 table holding a tenant's data, in the order an erasure empties them: rows that reference
 * another table's rows (artifacts → jobs, deliveries → triggers) go first, so no delete cascades into an
 * unbounded number of rows. The `tenants` row itself goes last (the erasure's `tenant` phase).
 * Kept on purpose: `tenant_erasures` (the record of the erasure) and the operator's `tenant.delete`
 * audit entry, which names the tenant only by id.
 */
export const TENANT_TABLES: readonly TenantTable[] = [
  // Artifact rows still in D1 from before the index moved into the tenant's object; the object's own rows
  // go with its storage in the `object` phase.
  {
    name: getTableName(artifacts),
    erasePage: (env, tenantId) => new LegacyArtifactRows(database(env.DB), tenantId).erasePage(RECORDS_PAGE_SIZE),
  },
  byTenantId(jobBatches, jobBatches.tenantId),
  byTenantId(jobs, jobs.tenantId),
  // No index leads from a tenant to its deliveries; the trigger id (the primary key's first column) does.
  tableOf(
    triggerDeliveries,
    (id) =>
      sql`${triggerDeliveries.triggerId} in (select ${triggers.id} from ${triggers} where ${triggers.tenantId} = ${id})`,
  ),
  byTenantId(triggers, triggers.tenantId),
  byTenantId(templates, templates.tenantId),
  byTenantId(generatorSettings, generatorSettings.tenantId),
  byTenantId(signingKeys, signingKeys.tenantId),
  byTenantId(apiKeys, apiKeys.tenantId),
  byTenantId(members, members.tenantId),
  byTenantId(releasedBlobs, releasedBlobs.tenantId),
  byTenantId(monitors, monitors.tenantId),
  byTenantId(auditLog, auditLog.tenantId),
  byTenantId(usageMonthly, usageMonthly.tenantId),
  byTenantId(planChanges, planChanges.tenantId),
];
