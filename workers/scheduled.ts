import { and, isNotNull, lt } from "drizzle-orm";
import { database } from "./db/client";
import { apiKeys } from "./db/schema";
import { type ArtifactMigrationRun, migrateArtifactIndex } from "./maintenance/migrate-artifact-index";
import { type EventRetentionRun, pruneEventLogs } from "./maintenance/prune-event-logs";
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
  artifactMigration: ArtifactMigrationRun;
}> {
  const cutoff = new Date(scheduledTime - EXPIRED_KEY_RETENTION_DAYS * 86_400_000).toISOString();
  const purged = await database(env.DB)
    .delete(apiKeys)
    .where(and(isNotNull(apiKeys.expiresAt), lt(apiKeys.expiresAt, cutoff)))
    .returning({ id: apiKeys.id });
  const purgedTriggerDeliveries = await purgeTriggerDeliveries(database(env.DB), scheduledTime);
  const eventRetention = await pruneEventLogs(env, scheduledTime);
  const artifactMigration = await migrateArtifactIndex(env, scheduledTime);
  console.log(
    JSON.stringify({
      level: "info",
      msg: "scheduled maintenance",
      purgedApiKeys: purged.length,
      purgedTriggerDeliveries,
      eventRetention,
      artifactMigration,
    }),
  );
  return { purgedApiKeys: purged.length, purgedTriggerDeliveries, eventRetention, artifactMigration };
}
