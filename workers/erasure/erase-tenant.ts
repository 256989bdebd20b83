import { database } from "../db/client";
import type { TenantErasureRow } from "../db/schema";
import { type ErasureProgress, TenantErasures } from "../repository/tenant-erasures";
import { TenantDirectory } from "../repository/tenants";
import { ContentStore } from "../storage/content-store";
import { tenantObject } from "../tenant-object-stub";
import { RECORDS_PAGE_SIZE, TENANT_TABLES } from "./tenant-records";

/**
 * Pages one queue message works through before handing the rest to a new message: each page is a few
 * round trips (one D1 statement, or one R2 list and delete, plus the record update), so a message stays
 * well inside a consumer invocation's time and subrequest limits.
 */
export const PAGES_PER_MESSAGE = 20;

/** `more`: pages are left for another message; `stopped`: nothing to do here (finished, failed, or moved on by another delivery). */
export type ErasureRun = "done" | "more" | "stopped";

/**
 * Runs up to `maxPages` pages of a tenant's erasure from where its record stands, recording each page
 * before the next, so a retried or redelivered message goes on from there instead of starting over.
 */
export async function eraseTenantPages(env: Env, tenantId: string, maxPages = PAGES_PER_MESSAGE): Promise<ErasureRun> {
  const erasures = new TenantErasures(database(env.DB));
  let record: TenantErasureRow | null = (await erasures.find(tenantId)) ?? null;
  for (let page = 0; page < maxPages; page++) {
    if (!record || record.status === "completed" || record.status === "failed") return "stopped";
    const progress = await erasePage(env, record);
    record = await erasures.advance(record, progress, new Date().toISOString());
    if (!record) return "stopped";
    if (record.status === "completed") return "done";
  }
  return "more";
}

/** One bounded step of the phase the record is in; what it did, for the record. */
async function erasePage(env: Env, record: TenantErasureRow): Promise<ErasureProgress> {
  switch (record.phase) {
    case "records": {
      const index = record.cursor === null ? 0 : TENANT_TABLES.findIndex((table) => table.name === record.cursor);
      const table = TENANT_TABLES[index];
      if (!table) throw new Error(`the erasure's cursor names no tenant table: "${record.cursor}"`);
      const deleted = await table.erasePage(env, record.tenantId);
      // A page short of full means the table holds no more of the tenant's rows.
      if (deleted === RECORDS_PAGE_SIZE) return { phase: "records", cursor: table.name, d1RowsDeleted: deleted };
      const next = TENANT_TABLES[index + 1];
      return next
        ? { phase: "records", cursor: next.name, d1RowsDeleted: deleted }
        : { phase: "blobs", cursor: null, d1RowsDeleted: deleted };
    }
    case "blobs": {
      const deleted = await new ContentStore(env.ARTIFACTS, record.tenantId).erasePage();
      return deleted > 0
        ? { phase: "blobs", cursor: null, r2ObjectsDeleted: deleted }
        : { phase: "object", cursor: null };
    }
    case "object":
      await tenantObject(env, { id: record.tenantId, jurisdiction: record.jurisdiction }).deleteAllData();
      return { phase: "tenant", cursor: null };
    case "tenant": {
      const removed = await new TenantDirectory(database(env.DB)).removeErased(record.tenantId);
      return { phase: "done", cursor: null, d1RowsDeleted: removed ? 1 : 0 };
    }
    case "done":
      throw new Error("an erasure in phase done is completed");
  }
}
