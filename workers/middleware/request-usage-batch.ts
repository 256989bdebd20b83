import {
  MAX_REQUEST_COUNTS,
  type RecordRequestsInput,
  type RequestUsage,
  ROUTE_CLASS,
} from "../../durable-objects/tenant/request-usage";
import { dayPeriod } from "../../shared/plans";
import type { TenantSnapshot } from "../context";
import { DelayedFlush, type WaitUntil } from "../observability/delayed-flush";
import { tenantObject } from "../tenant-object-stub";

type TenantAddress = Pick<TenantSnapshot, "id" | "jurisdiction">;

/** Bounds the batch's memory: counts of further tenants are dropped (and logged) until the next flush. */
const MAX_PENDING_TENANTS = 10_000;

/**
 * Request counts gathered in this isolate and written to each tenant's object in one call per
 * tenant, at most `delayMs` after the first count of a batch (in waitUntil, off the request path).
 * A write that fails puts its counts back for the next flush (counting twice in the rare case where
 * the write succeeded but its answer was lost, rather than dropping a batch whenever a call fails).
 */
export class RequestUsageBatch {
  private readonly pending = new Map<string, { tenant: TenantAddress; counts: Map<string, RequestUsage> }>();
  private readonly flushing = new DelayedFlush();

  add(tenant: TenantAddress, routeClass: string, status: number, nowMs: number): void {
    // One malformed count would make the tenant object refuse the whole batch, every time.
    if (!ROUTE_CLASS.test(routeClass) || status < 100 || status > 599) {
      console.error(JSON.stringify({ level: "error", msg: "unmeterable request", routeClass, status }));
      return;
    }
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

  /** Adds work a request did (SPARQL queries and their milliseconds, render milliseconds) to its day's count. */
  addWork(
    tenant: TenantAddress,
    routeClass: string,
    nowMs: number,
    work: Pick<RequestUsage, "sparqlQueries" | "sparqlMs" | "renderMs">,
  ): void {
    if (!ROUTE_CLASS.test(routeClass)) return;
    const counted = Object.fromEntries(
      Object.entries(work).map(([name, amount]) => [name, Math.max(0, Math.round(amount ?? 0))]),
    );
    this.merge(tenant, [
      { day: dayPeriod(nowMs), routeClass, requests: 0, clientErrors: 0, serverErrors: 0, ...counted },
    ]);
  }

  /** Removes and returns up to MAX_REQUEST_COUNTS of a tenant's pending counts, for one call to its object. */
  take(tenantId: string, nowMs: number): RecordRequestsInput | undefined {
    const entry = this.pending.get(tenantId);
    if (!entry) return undefined;
    const names = [...entry.counts.keys()].slice(0, MAX_REQUEST_COUNTS);
    const counts = names.map((name) => entry.counts.get(name) as RequestUsage);
    for (const name of names) entry.counts.delete(name);
    if (entry.counts.size === 0) this.pending.delete(tenantId);
    return { now: nowMs, counts };
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
  scheduleFlush(env: Env, ctx: WaitUntil, delayMs: number, clock: () => number): void {
    if (this.pending.size === 0) return;
    this.flushing.schedule(ctx, delayMs, () => this.flush(env, clock()));
  }

  /** Settles when no flush is scheduled or running. */
  idle(): Promise<void> {
    return this.flushing.idle();
  }

  /** Writes every tenant's pending counts: one call per tenant (per MAX_REQUEST_COUNTS counts). */
  async flush(env: Env, nowMs: number): Promise<void> {
    const tenants = [...this.pending.values()].map((entry) => entry.tenant);
    await Promise.all(tenants.map((tenant) => this.flushTenant(env, tenant, nowMs)));
  }

  private async flushTenant(env: Env, tenant: TenantAddress, nowMs: number): Promise<void> {
    for (let record = this.take(tenant.id, nowMs); record; record = this.take(tenant.id, nowMs)) {
      try {
        await tenantObject(env, tenant).recordRequests(record);
      } catch (error) {
        // A refused batch (RangeError, TypeError) would be refused again: only other failures are retried.
        const refused = error instanceof RangeError || error instanceof TypeError;
        if (!refused) this.restore(tenant, record.counts);
        const msg = refused ? "usage batch refused" : "usage flush failed";
        console.error(JSON.stringify({ level: "error", msg, tenant: tenant.id, error: String(error) }));
        return;
      }
    }
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
              ...sumOfWork(sum, count),
            }
          : count,
      );
    }
  }
}

const WORK = ["sparqlQueries", "sparqlMs", "renderMs"] as const;

function sumOfWork(a: RequestUsage, b: RequestUsage): Partial<RequestUsage> {
  const sum: Partial<RequestUsage> = {};
  for (const name of WORK) {
    if (a[name] !== undefined || b[name] !== undefined) sum[name] = (a[name] ?? 0) + (b[name] ?? 0);
  }
  return sum;
}

/** This isolate's batch. */
export const requestUsageBatch = new RequestUsageBatch();
