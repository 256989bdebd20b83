import { and, asc, eq, gt } from "drizzle-orm";
import type { Database } from "../db/client";
import { maintenanceCursors, type TenantRow, tenants } from "../db/schema";
import { liveTenant } from "../repository/tenants";

/**
 * Cron tasks that work through every tenant a bounded page per run keep where they stopped in
 * `maintenance_cursors`, one row per task; an empty position starts from the first tenant.
 */
export async function readCursor(db: Database, task: string): Promise<string> {
  return (await db.select().from(maintenanceCursors).where(eq(maintenanceCursors.task, task)).get())?.position ?? "";
}

export async function writeCursor(db: Database, task: string, position: string, atMs: number): Promise<void> {
  const updatedAt = new Date(atMs).toISOString();
  await db
    .insert(maintenanceCursors)
    .values({ task, position, updatedAt })
    .onConflictDoUpdate({ target: maintenanceCursors.task, set: { position, updatedAt } });
}

export type TenantOfPage = Pick<TenantRow, "id" | "plan" | "jurisdiction">;

/** The next `limit` live tenants (not being erased) in id order after `after`. */
export async function liveTenantPage(db: Database, after: string, limit: number): Promise<TenantOfPage[]> {
  return db
    .select({ id: tenants.id, plan: tenants.plan, jurisdiction: tenants.jurisdiction })
    .from(tenants)
    .where(and(gt(tenants.id, after), liveTenant))
    .orderBy(asc(tenants.id))
    .limit(limit)
    .all();
}

/**
 * Where the next run starts: at the first tenant of the page left with more to do (`unfinished`, its
 * index), else after the page, or from the start again when the page was the last one.
 */
export function nextPosition(
  after: string,
  page: readonly { id: string }[],
  limit: number,
  unfinished?: number,
): string {
  if (unfinished !== undefined) return unfinished === 0 ? after : (page[unfinished - 1]?.id as string);
  return page.length < limit ? "" : (page[page.length - 1]?.id as string);
}
