import { and, isNotNull, lt } from "drizzle-orm";
import { database } from "./db/client";
import { apiKeys } from "./db/schema";
import { type BlobCollectionRun, collectBlobs } from "./maintenance/collect-blobs";
import { expireJobs, type JobRetentionRun } from "./maintenance/expire-jobs";
import { type ArtifactMigrationRun, migrateArtifactIndex } from "./maintenance/migrate-artifact-index";
import { type EventRetentionRun, pruneEventLogs } from "./maintenance/prune-event-logs";
import { type GraphVersionRetentionRun, pruneGraphVersions } from "./maintenance/prune-graph-versions";
import { resumeStaleErasures } from "./maintenance/resume-erasures";
import { rollUpUsage, type UsageRollupRun } from "./maintenance/roll-up-usage";
import { type DueMonitorsRun, enqueueDueMonitors } from "./monitors/enqueue-due-monitors";
import { purgeTriggerDeliveries } from "./repository/triggers";

/** Expired API keys are kept this long (visible in listings as expired), then purged. */
export const EXPIRED_KEY_RETENTION_DAYS = 30;

/** Cron: periodic housekeeping of the control plane. */
export async function runScheduledMaintenance(
  env: Env,
  scheduledTime: number,
): Promise<{
  purgedApiKeys: number;
  purgedTriggerDeliveries: number;
  eventRetention: EventRetentionRun;
  resumedErasures: number;
  jobRetention: JobRetentionRun;
  graphVersionRetention: GraphVersionRetentionRun;
  blobCollection: BlobCollectionRun;
  monitorRuns: DueMonitorsRun;
  artifactMigration: ArtifactMigrationRun;
  usageRollup: UsageRollupRun;
}> {
  const cutoff = new Date(scheduledTime - EXPIRED_KEY_RETENTION_DAYS * 86_400_000).toISOString();
  const purged = await database(env.DB)
    .delete(apiKeys)
    .where(and(isNotNull(apiKeys.expiresAt), lt(apiKeys.expiresAt, cutoff)))
    .returning({ id: apiKeys.id });
  const purgedTriggerDeliveries = await purgeTriggerDeliveries(database(env.DB), scheduledTime);
  const eventRetention = await pruneEventLogs(env, scheduledTime);
  // First: rows still in D1 join the tenant objects before retention and collection read the index.
  const artifactMigration = await migrateArtifactIndex(env, scheduledTime);
  const resumedErasures = (await resumeStaleErasures(env, scheduledTime)).length;
  // Retention first: the blobs of the jobs it expires are released now and collected after their grace period.
  const jobRetention = await expireJobs(env, scheduledTime);
  // After job retention: a version only an expired job pinned goes in the same run.
  const graphVersionRetention = await pruneGraphVersions(env, scheduledTime);
  const blobCollection = await collectBlobs(env, scheduledTime);
  const monitorRuns = await enqueueDueMonitors(env, scheduledTime);
  const usageRollup = await rollUpUsage(env, scheduledTime);
  const run = {
    purgedApiKeys: purged.length,
    purgedTriggerDeliveries,
    eventRetention,
    jobRetention,
    graphVersionRetention,
    blobCollection,
    resumedErasures,
    monitorRuns,
    artifactMigration,
    usageRollup,
  };
  console.log(JSON.stringify({ level: "info", msg: "scheduled maintenance", ...run }));
  return run;
}
