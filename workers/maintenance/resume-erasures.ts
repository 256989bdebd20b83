import { database } from "../db/client";
import type { EraseMessage } from "../erasure/erase-consumer";
import { countQueueSent } from "../observability/operator-metrics";
import { TenantErasures } from "../repository/tenant-erasures";

/**
 * An unfinished erasure that has not moved for this long has lost its message: every page, retry and
 * failed attempt updates the record, and retries wait at most 5 minutes.
 */
export const STALE_ERASURE_MS = 15 * 60_000;

/** Erasures one cron run puts back on the queue (one queue send for all of them). */
export const ERASURES_PER_RUN = 50;

/** Cron: queues again the erasures that stopped moving; returns their tenant ids. */
export async function resumeStaleErasures(env: Env, scheduledTime: number): Promise<string[]> {
  const cutoff = new Date(scheduledTime - STALE_ERASURE_MS).toISOString();
  const ids = await new TenantErasures(database(env.DB)).takeStale(
    cutoff,
    ERASURES_PER_RUN,
    new Date(scheduledTime).toISOString(),
  );
  if (ids.length > 0) {
    await env.ERASE_QUEUE.sendBatch(ids.map((tenantId) => ({ body: { tenantId } satisfies EraseMessage })));
    countQueueSent("erase", ids.length);
  }
  return ids;
}
