import { and, asc, eq, gt, isNull, lt, or, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { auditLog, type TriggerDeliveryRow, type TriggerRow, tenants, triggerDeliveries, triggers } from "../db/schema";
import { type Cursor, decodeCursor } from "./pagination";
import { asLiveTenant, type LiveTenantRow, liveTenant } from "./tenants";

/** Triggers one tenant may have. */
export const MAX_TRIGGERS_PER_TENANT = 25;

/**
 * A claimed delivery whose action never finished (the isolate died) may be claimed again after this
 * long, so the sender's redelivery is not refused forever. Longer than any request may run.
 */
export const STALE_DELIVERY_CLAIM_MS = 15 * 60 * 1000;

export type TriggerCreation = { created: true; row: TriggerRow } | { created: false; reason: "name-taken" | "limit" };

/** A tenant's triggers, scoped by the tenant of the verified credential. */
export class TriggerRegistry {
  constructor(
    private readonly db: Database,
    readonly tenantId: string,
  ) {}

  /**
   * Inserts the trigger unless the tenant already has MAX_TRIGGERS_PER_TENANT or one of this name; the
   * count, the name check, the insert and its audit row are one statement batch.
   */
  async create(trigger: Omit<TriggerRow, "tenantId">, requestId: string): Promise<TriggerCreation> {
    const row: TriggerRow = { ...trigger, tenantId: this.tenantId };
    const allowed = sql`(SELECT count(*) FROM triggers WHERE tenant_id = ${this.tenantId}) < ${MAX_TRIGGERS_PER_TENANT} AND NOT EXISTS (SELECT 1 FROM triggers WHERE tenant_id = ${this.tenantId} AND name = ${row.name})`;
    const filter = row.filter === null ? null : JSON.stringify(row.filter);
    const [inserted] = await this.db.batch([
      // Every column of triggers in declaration order.
      this.db
        .insert(triggers)
        .select(
          sql`SELECT ${row.id}, ${row.tenantId}, ${row.name}, ${row.verify}, ${JSON.stringify(row.action)}, ${filter}, ${row.encryptedSecret}, ${row.createdAt}, ${row.createdBy} WHERE ${allowed}`,
        )
        .returning({ id: triggers.id }),
      this.db
        .insert(auditLog)
        .select(
          sql`SELECT NULL, ${this.tenantId}, ${row.createdBy}, 'trigger.create', ${row.id}, ${requestId || null}, ${JSON.stringify({ name: row.name, verify: row.verify })}, ${row.createdAt} WHERE EXISTS (SELECT 1 FROM triggers WHERE id = ${row.id})`,
        ),
    ]);
    if (inserted.length > 0) return { created: true, row };
    const taken = await this.db
      .select({ id: triggers.id })
      .from(triggers)
      .where(and(eq(triggers.tenantId, this.tenantId), eq(triggers.name, row.name)))
      .get();
    return { created: false, reason: taken ? "name-taken" : "limit" };
  }

  async count(): Promise<number> {
    const row = await this.db
      .select({ count: sql<number>`count(*)` })
      .from(triggers)
      .where(eq(triggers.tenantId, this.tenantId))
      .get();
    return Number(row?.count ?? 0);
  }

  async list(limit: number, cursor?: string): Promise<TriggerRow[]> {
    const after: Cursor | undefined = cursor ? decodeCursor(cursor) : undefined;
    return this.db
      .select()
      .from(triggers)
      .where(
        and(
          eq(triggers.tenantId, this.tenantId),
          after
            ? or(
                gt(triggers.createdAt, after.createdAt),
                and(eq(triggers.createdAt, after.createdAt), gt(triggers.id, after.id)),
              )
            : undefined,
        ),
      )
      .orderBy(asc(triggers.createdAt), asc(triggers.id))
      .limit(limit + 1)
      .all();
  }

  async find(id: string): Promise<TriggerRow | undefined> {
    return this.db
      .select()
      .from(triggers)
      .where(and(eq(triggers.tenantId, this.tenantId), eq(triggers.id, id)))
      .get();
  }

  /** Deletes the trigger and its deliveries; false when the tenant has no such trigger. */
  async delete(id: string, actor: string, requestId: string, now: string): Promise<boolean> {
    const [, , deleted] = await this.db.batch([
      this.db
        .insert(auditLog)
        .select(
          sql`SELECT NULL, ${this.tenantId}, ${actor}, 'trigger.delete', ${id}, ${requestId || null}, NULL, ${now} WHERE EXISTS (SELECT 1 FROM triggers WHERE tenant_id = ${this.tenantId} AND id = ${id})`,
        ),
      this.db
        .delete(triggerDeliveries)
        .where(and(eq(triggerDeliveries.tenantId, this.tenantId), eq(triggerDeliveries.triggerId, id))),
      this.db
        .delete(triggers)
        .where(and(eq(triggers.tenantId, this.tenantId), eq(triggers.id, id)))
        .returning({ id: triggers.id }),
    ]);
    return deleted.length > 0;
  }
}

/**
 * The trigger a public hook URL names, with its tenant: the one trigger query that cannot be
 * tenant-scoped, because it establishes the tenant (as an API key's hash does).
 */
export async function findTriggerForDelivery(
  db: Database,
  id: string,
): Promise<{ trigger: TriggerRow; tenant: LiveTenantRow } | undefined> {
  const row = await db
    .select({ trigger: triggers, tenant: tenants })
    .from(triggers)
    .innerJoin(tenants, eq(tenants.id, triggers.tenantId))
    .where(and(eq(triggers.id, id), liveTenant))
    .get();
  return row ? { trigger: row.trigger, tenant: asLiveTenant(row.tenant) } : undefined;
}

/**
 * Delivery ids are remembered this long: senders redeliver within hours or days (GitHub offers
 * redelivery for three days), and the rows grow with every delivery.
 */
export const TRIGGER_DELIVERY_RETENTION_DAYS = 30;

/** Forgets deliveries received more than TRIGGER_DELIVERY_RETENTION_DAYS ago (cron); returns how many. */
export async function purgeTriggerDeliveries(db: Database, nowMs: number): Promise<number> {
  const cutoff = new Date(nowMs - TRIGGER_DELIVERY_RETENTION_DAYS * 86_400_000).toISOString();
  const purged = await db
    .delete(triggerDeliveries)
    .where(lt(triggerDeliveries.receivedAt, cutoff))
    .returning({ deliveryId: triggerDeliveries.deliveryId });
  return purged.length;
}

export type DeliveryClaim = { claimed: true } | { claimed: false; existing: TriggerDeliveryRow };

/** The deliveries of one trigger, for idempotency: one row per delivery id, claimed before any work. */
export class TriggerDeliveryLedger {
  constructor(
    private readonly db: Database,
    private readonly trigger: Pick<TriggerRow, "id" | "tenantId">,
  ) {}

  /**
   * Claims the delivery id in one statement: inserted when new, taken over when an earlier claim went
   * stale without finishing; otherwise the row that holds it. Two concurrent deliveries of one id
   * cannot both claim it.
   */
  async claim(deliveryId: string, nowMs: number, attempts = 2): Promise<DeliveryClaim> {
    const now = new Date(nowMs).toISOString();
    const staleBefore = new Date(nowMs - STALE_DELIVERY_CLAIM_MS).toISOString();
    const claimed = await this.db
      .insert(triggerDeliveries)
      .values({ triggerId: this.trigger.id, deliveryId, tenantId: this.trigger.tenantId, receivedAt: now })
      .onConflictDoUpdate({
        target: [triggerDeliveries.triggerId, triggerDeliveries.deliveryId],
        set: { receivedAt: now },
        setWhere: and(isNull(triggerDeliveries.completedAt), lt(triggerDeliveries.receivedAt, staleBefore)),
      })
      .returning({ deliveryId: triggerDeliveries.deliveryId });
    if (claimed.length > 0) return { claimed: true };
    const existing = await this.find(deliveryId);
    // Released between the two statements (its action was rejected): claim it as a new delivery would.
    if (!existing && attempts > 1) return this.claim(deliveryId, nowMs, attempts - 1);
    if (!existing) throw new Error(`delivery ${deliveryId} could not be claimed`);
    return { claimed: false, existing };
  }

  async find(deliveryId: string): Promise<TriggerDeliveryRow | undefined> {
    return this.db
      .select()
      .from(triggerDeliveries)
      .where(and(eq(triggerDeliveries.triggerId, this.trigger.id), eq(triggerDeliveries.deliveryId, deliveryId)))
      .get();
  }

  /** Marks the delivery done, with the job it started (or none). */
  async complete(deliveryId: string, jobId: string | null, nowMs: number): Promise<void> {
    await this.db
      .update(triggerDeliveries)
      .set({ jobId, completedAt: new Date(nowMs).toISOString() })
      .where(and(eq(triggerDeliveries.triggerId, this.trigger.id), eq(triggerDeliveries.deliveryId, deliveryId)));
  }

  /** Gives an unfinished claim up (its action was rejected), so the sender's redelivery is tried afresh. */
  async release(deliveryId: string): Promise<void> {
    await this.db
      .delete(triggerDeliveries)
      .where(
        and(
          eq(triggerDeliveries.triggerId, this.trigger.id),
          eq(triggerDeliveries.deliveryId, deliveryId),
          isNull(triggerDeliveries.completedAt),
        ),
      );
  }
}
