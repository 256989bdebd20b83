import { MAX_PINNED_GRAPH_VERSIONS } from "../../durable-objects/tenant-object";
import { planLimits } from "../../shared/plans";
import { database } from "../db/client";
import { JobLedger } from "../repository/jobs";
import { tenantObject } from "../tenant-object-stub";
import { liveTenantPage, nextPosition, readCursor, writeCursor } from "./tenant-cursor";

/** Tenants whose graph versions one cron run prunes; the next run goes on from where this one stopped. */
export const GRAPH_RETENTION_TENANTS_PER_RUN = 20;
const TASK = "graph-version-retention";

export interface GraphVersionRetentionRun {
  tenants: number;
  /** Versions dropped across them. */
  versions: number;
  /** Tenants skipped (their jobs pin more versions than one call carries) or failed: left for the next pass. */
  skipped: number;
  failed: number;
  nextPosition: string;
}

/**
 * Drops one tenant's graph versions beyond the plan's `keptGraphVersions` newest per graph, except every
 * version a retained job's lock pins (so each retained job can still be replayed and explained), within
 * the tenant object's bound of rows per call. Run after job retention: a version an expired job pinned goes
 * with it. A job started with an old version between the read of the pins and the prune may find its
 * version gone: it fails with that reason, as for a version that had expired before.
 */
export async function pruneTenantGraphVersions(
  env: Env,
  tenant: { id: string; plan: string; jurisdiction: string | null },
): Promise<{ versions: number; more: boolean } | null> {
  const pinned = await new JobLedger(database(env.DB), tenant.id).lockedGraphVersions(MAX_PINNED_GRAPH_VERSIONS + 1);
  if (pinned.length > MAX_PINNED_GRAPH_VERSIONS) return null;
  const pruned = await tenantObject(env, tenant).pruneGraphVersions({
    keepNewest: planLimits(tenant.plan).keptGraphVersions,
    pinned,
  });
  return { versions: pruned.versions, more: pruned.more };
}

/** Graph version retention for the next `tenantsPerRun` tenants in id order after the stored cursor. */
export async function pruneGraphVersions(
  env: Env,
  scheduledTime: number,
  tenantsPerRun = GRAPH_RETENTION_TENANTS_PER_RUN,
): Promise<GraphVersionRetentionRun> {
  const db = database(env.DB);
  const after = await readCursor(db, TASK);
  const page = await liveTenantPage(db, after, tenantsPerRun);
  const run = { tenants: 0, versions: 0, skipped: 0, failed: 0 };
  let unfinished: number | undefined;
  for (const [position, tenant] of page.entries()) {
    run.tenants += 1;
    try {
      const outcome = await pruneTenantGraphVersions(env, tenant);
      if (outcome === null) {
        run.skipped += 1;
        console.warn(
          JSON.stringify({
            level: "warn",
            msg: "graph version retention skipped: too many pinned versions",
            tenant: tenant.id,
          }),
        );
        continue;
      }
      run.versions += outcome.versions;
      if (outcome.more) {
        unfinished = position;
        break;
      }
    } catch (error) {
      run.failed += 1;
      console.error(
        JSON.stringify({
          level: "error",
          msg: "graph version retention failed",
          tenant: tenant.id,
          reason: String(error),
        }),
      );
    }
  }
  const next = nextPosition(after, page, tenantsPerRun, unfinished);
  await writeCursor(db, TASK, next, scheduledTime);
  return { ...run, nextPosition: next };
}
