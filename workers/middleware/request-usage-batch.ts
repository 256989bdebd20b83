import type { RecordRequestsInput, RequestUsage } from "../../durable-objects/tenant-object";
import { dayPeriod } from "../../shared/plans";
import type { TenantSnapshot } from "../context";
import { tenantObject } from "../tenant-object-stub";

type TenantAddress = Pick<TenantSnapshot, "id" | "jurisdiction">;

/** Bounds the batch's memory: counts of further tenants are dropped (and logged) until the next flush. */
const MAX_PENDING_TENANTS = 10_000;

/**
 * Request counts gathered in this isolate and written to each tenant's object in one call per
 * tenant, at most `delayMs` after the first count of a batch (in waitUntil, off the request path).
 * A write that fails puts its counts back for the next flush.
 */
export class RequestUsageBatch {
  private readonly pending = new Map<string, { tenant: TenantAddress; counts: Map<string, RequestUsage> }>();
  private flushing: Promise<void> | undefined;

  add(tenant: TenantAddress, routeClass: string, status: number, nowMs: number): void {
    this.merge(tenant, [
      {
        day: dayPeriod(nowMs),
        routeClass,
        requests: 1,
        clientErrors: status >= 400 && status < 500 ? 1 : 0,
        serverErrors: status >= 500 ? 1 : 0,
      },
    ]);
  }

  /** Removes and returns one tenant's pending counts, for a call to its object that carries them. */
  take(tenantId: string, nowMs: number): RecordRequestsInput | undefined {
    const entry = this.pending.get(tenantId);
    if (!entry) return undefined;
    this.pending.delete(tenantId);
    return { now: nowMs, counts: [...entry.counts.values()] };
  }

  /** Puts counts that could not be written back into the batch. */
  restore(tenant: TenantAddress, counts: RequestUsage[]): void {
    this.merge(tenant, counts);
  }

  /** Forgets a deleted tenant's counts. */
  drop(tenantId: string): void {
    this.pending.delete(tenantId);
  }

  /** Schedules one flush per batch: the first request after a flush starts the next timer. */
  scheduleFlush(
    env: Env,
    ctx: { waitUntil(promise: Promise<unknown>): void },
    delayMs: number,
    clock: () => number,
  ): void {
    if (this.flushing || this.pending.size === 0) return;
    const flushing = new Promise<void>((resolve) => setTimeout(resolve, delayMs))
      .then(() => this.flush(env, clock()))
      .finally(() => {
        this.flushing = undefined;
      });
    this.flushing = flushing;
    ctx.waitUntil(flushing);
  }

  /** Settles when no flush is scheduled or running. */
  async idle(): Promise<void> {
    await this.flushing;
  }

  /** Writes every tenant's pending counts, one call per tenant. */
  async flush(env: Env, nowMs: number): Promise<void> {
    const tenants = [...this.pending.values()].map((entry) => entry.tenant);
    await Promise.all(
      tenants.map(async (tenant) => {
        const record = this.take(tenant.id, nowMs);
        if (!record) return;
        try {
          await tenantObject(env, tenant).recordRequests(record);
        } catch (error) {
          this.restore(tenant, record.counts);
          console.error(
            JSON.stringify({ level: "error", msg: "usage flush failed", tenant: tenant.id, error: String(error) }),
          );
        }
      }),
    );
  }

  private merge(tenant: TenantAddress, counts: RequestUsage[]): void {
    let entry = this.pending.get(tenant.id);
    if (!entry) {
      if (this.pending.size >= MAX_PENDING_TENANTS) {
        console.error(JSON.stringify({ level: "error", msg: "usage batch full", tenant: tenant.id }));
        return;
      }
      entry = { tenant, counts: new Map() };
      this.pending.set(tenant.id, entry);
    }
    for (const count of counts) {
      const name = `${count.day} ${count.routeClass}`;
      const sum = entry.counts.get(name);
      entry.counts.set(
        name,
        sum
          ? {
              ...sum,
              requests: sum.requests + count.requests,
              clientErrors: sum.clientErrors + count.clientErrors,
              serverErrors: sum.serverErrors + count.serverErrors,
            }
          : count,
      );
    }
  }
}

/** This isolate's batch. */
export const requestUsageBatch = new RequestUsageBatch();
