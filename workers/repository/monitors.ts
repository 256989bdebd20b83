import { and, asc, eq, gt, isNotNull, lte, or, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { auditLog, type MonitorRow, monitors } from "../db/schema";
import { type Cursor, decodeCursor } from "./pagination";

export type MonitorCreation = { created: true; row: MonitorRow } | { created: false; reason: "name-taken" | "limit" };

/** A tenant's drift monitors, scoped by the tenant of the verified credential. */
export class MonitorRegistry {
  constructor(
    private readonly db: Database,
    readonly tenantId: string,
  ) {}

  /**
   * Inserts the monitor unless the tenant already has `limit` monitors or one of this name: the count,
   * the name check, the insert and its audit row are one statement batch.
   */
  async create(monitor: Omit<MonitorRow, "tenantId">, limit: number, requestId: string): Promise<MonitorCreation> {
    const row: MonitorRow = { ...monitor, tenantId: this.tenantId };
    const allowed = sql`(SELECT count(*) FROM monitors WHERE tenant_id = ${this.tenantId}) < ${limit} AND NOT EXISTS (SELECT 1 FROM monitors WHERE tenant_id = ${this.tenantId} AND name = ${row.name})`;
    const json = (value: unknown) => (value === null ? null : JSON.stringify(value));
    const [inserted] = await this.db.batch([
      // Every column of monitors in declaration order.
      this.db
        .insert(monitors)
        .select(
          sql`SELECT ${row.id}, ${row.tenantId}, ${row.name}, ${JSON.stringify(row.target)}, ${row.sourceKind}, ${row.graph}, ${row.manifestUrl}, ${json(row.headerNames)}, ${row.encryptedHeaders}, ${row.schedule}, ${row.onDrift}, ${row.enabled ? 1 : 0}, ${row.nextRunAt}, ${row.createdAt}, ${row.createdBy}, ${row.updatedAt} WHERE ${allowed}`,
        )
        .returning({ id: monitors.id }),
      this.db
        .insert(auditLog)
        .select(
          sql`SELECT NULL, ${this.tenantId}, ${row.createdBy}, 'monitor.create', ${row.id}, ${requestId || null}, ${JSON.stringify({ name: row.name, source: row.sourceKind })}, ${row.createdAt} WHERE EXISTS (SELECT 1 FROM monitors WHERE id = ${row.id})`,
        ),
    ]);
    if (inserted.length > 0) return { created: true, row };
    const taken = await this.db
      .select({ id: monitors.id })
      .from(monitors)
      .where(and(eq(monitors.tenantId, this.tenantId), eq(monitors.name, row.name)))
      .get();
    return { created: false, reason: taken ? "name-taken" : "limit" };
  }

  async count(): Promise<number> {
    const row = await this.db
      .select({ count: sql<number>`count(*)` })
      .from(monitors)
      .where(eq(monitors.tenantId, this.tenantId))
      .get();
    return Number(row?.count ?? 0);
  }

  async list(limit: number, cursor?: string): Promise<MonitorRow[]> {
    const after: Cursor | undefined = cursor ? decodeCursor(cursor) : undefined;
    return this.db
      .select()
      .from(monitors)
      .where(
        and(
          eq(monitors.tenantId, this.tenantId),
          after
            ? or(
                gt(monitors.createdAt, after.createdAt),
                and(eq(monitors.createdAt, after.createdAt), gt(monitors.id, after.id)),
              )
            : undefined,
        ),
      )
      .orderBy(asc(monitors.createdAt), asc(monitors.id))
      .limit(limit + 1)
      .all();
  }

  async find(id: string): Promise<MonitorRow | undefined> {
    return this.db
      .select()
      .from(monitors)
      .where(and(eq(monitors.tenantId, this.tenantId), eq(monitors.id, id)))
      .get();
  }

  /** Applies the changes; the updated row, or undefined when the tenant has no such monitor (or the name is taken). */
  async update(
    id: string,
    changes: Partial<Omit<MonitorRow, "id" | "tenantId" | "createdAt" | "createdBy">>,
  ): Promise<MonitorRow | undefined> {
    const [row] = await this.db
      .update(monitors)
      .set(changes)
      .where(and(eq(monitors.tenantId, this.tenantId), eq(monitors.id, id)))
      .returning();
    return row;
  }

  async nameTaken(name: string, exceptId: string): Promise<boolean> {
    const row = await this.db
      .select({ id: monitors.id })
      .from(monitors)
      .where(and(eq(monitors.tenantId, this.tenantId), eq(monitors.name, name)))
      .get();
    return row !== undefined && row.id !== exceptId;
  }

  /** Deletes the monitor; false when the tenant has no such monitor. */
  async delete(id: string, actor: string, requestId: string, now: string): Promise<boolean> {
    const [, deleted] = await this.db.batch([
      this.db
        .insert(auditLog)
        .select(
          sql`SELECT NULL, ${this.tenantId}, ${actor}, 'monitor.delete', ${id}, ${requestId || null}, NULL, ${now} WHERE EXISTS (SELECT 1 FROM monitors WHERE tenant_id = ${this.tenantId} AND id = ${id})`,
        ),
      this.db
        .delete(monitors)
        .where(and(eq(monitors.tenantId, this.tenantId), eq(monitors.id, id)))
        .returning({ id: monitors.id }),
    ]);
    return deleted.length > 0;
  }

  /** The enabled monitors that watch new versions of `graph`. */
  async watching(graph: string): Promise<MonitorRow[]> {
    return this.db
      .select()
      .from(monitors)
      .where(
        and(
          eq(monitors.tenantId, this.tenantId),
          eq(monitors.graph, graph),
          eq(monitors.sourceKind, "graph"),
          eq(monitors.enabled, true),
        ),
      )
      .orderBy(asc(monitors.id))
      .all();
  }
}

/** Scheduled monitors due at `now`, across tenants, oldest due first (the cron's page). */
export async function dueMonitors(db: Database, now: string, limit: number): Promise<MonitorRow[]> {
  return db
    .select()
    .from(monitors)
    .where(and(isNotNull(monitors.nextRunAt), lte(monitors.nextRunAt, now)))
    .orderBy(asc(monitors.nextRunAt), asc(monitors.id))
    .limit(limit)
    .all();
}

/**
 * Moves a monitor's next run from `from` to `to` unless something else moved it first (a PATCH of its
 * schedule, or another cron run): true when this call did.
 */
export async function advanceMonitor(db: Database, id: string, from: string, to: string | null): Promise<boolean> {
  const result = await db
    .update(monitors)
    .set({ nextRunAt: to })
    .where(and(eq(monitors.id, id), eq(monitors.nextRunAt, from)));
  return (result.meta.changes ?? 0) > 0;
}
