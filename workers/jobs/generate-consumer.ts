import { unwrap } from "../../durable-objects/tenant/rpc-outcome";
import { parseLock } from "../../shared/generate/lock";
import { type PlanName, planLimits } from "../../shared/plans";
import { database } from "../db/client";
import { JobLedger } from "../repository/jobs";
import { TenantDirectory } from "../repository/tenants";
import { tenantObject } from "../tenant-object-stub";
import { ArtifactWriter, tenantSigner } from "./artifact-writer";
import { jobFailureReason } from "./job-failure-reason";
import { recordJobProgress } from "./job-progress";
import { completeJob, failJob, type GenerateMessage, jobRequest, MAX_QUEUED_ARTIFACTS } from "./run-job";

/** Delay before the n-th retry: 2, 4, 8, … seconds, at most five minutes. */
export const retryDelaySeconds = (attempts: number) => Math.min(300, 2 ** Math.max(1, attempts));

/**
 * One unit batch of a queued job. Idempotent: artifact rows have ids derived from (job, path), quota
 * reservations and skipped counts are keyed by the batch, so a redelivered message changes nothing.
 */
export async function processGenerateMessage(env: Env, message: GenerateMessage): Promise<void> {
  const tenant = await new TenantDirectory(database(env.DB)).findById(message.tenantId);
  if (!tenant) return; // tenant deleted: nothing left to generate for
  const ledger = new JobLedger(database(env.DB), tenant.id);
  const job = await ledger.find(message.jobId);
  if (!job || job.status === "completed" || job.status === "failed") return;
  const lock = parseLock(job.lock);
  const stub = tenantObject(env, tenant);
  const request = await jobRequest(env, tenant, lock, job.params, MAX_QUEUED_ARTIFACTS);
  const rendered = unwrap(await stub.jobRenderBatch(request, message.batch));
  const batchKey = `${job.id}:${message.batch.template}:${message.batch.start}`;
  const bytes = rendered.artifacts.reduce((sum, artifact) => sum + artifact.size, 0);
  const limit = planLimits(tenant.plan as PlanName).artifactBytes;
  const reservation = await stub.reserveQuota({
    counter: "artifactBytes",
    amount: bytes,
    limit,
    idempotencyKey: batchKey,
  });
  if (!reservation.granted) {
    await failJob(env, tenant, job.id, `artifact bytes quota (${limit}) exceeded`);
    return;
  }
  const writer = new ArtifactWriter(env, tenant.id, job.id, lock, job.lockHash, await tenantSigner(env, tenant.id));
  await recordJobProgress(
    env,
    tenant,
    job.id,
    batchKey,
    await writer.write(rendered, batchKey, new Date().toISOString()),
  );
  await completeJob(env, tenant, job.id, { acrossBatches: true });
}

export async function consumeGenerateBatch(batch: MessageBatch<GenerateMessage>, env: Env): Promise<void> {
  // Messages are independent unit batches: process them concurrently, ack or retry each on its own.
  await Promise.all(
    batch.messages.map(async (message) => {
      try {
        await processGenerateMessage(env, message.body);
        message.ack();
      } catch (error) {
        console.error(
          JSON.stringify({
            level: "error",
            msg: "generate batch failed",
            jobId: message.body.jobId,
            attempts: message.attempts,
            reason: String(error),
            stack: (error as Error)?.stack,
          }),
        );
        await recordLastError(env, message.body, jobFailureReason(error));
        message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
      }
    }),
  );
}

/** Messages that used up their retries: the job fails with the last reason recorded. */
export async function consumeGenerateDeadLetters(batch: MessageBatch<GenerateMessage>, env: Env): Promise<void> {
  for (const message of batch.messages) {
    const tenant = await new TenantDirectory(database(env.DB)).findById(message.body.tenantId);
    if (tenant) {
      const job = await new JobLedger(database(env.DB), tenant.id).find(message.body.jobId);
      const reason = job?.error ?? "a batch could not be generated";
      await failJob(env, tenant, message.body.jobId, `dead-lettered after retries: ${reason}`);
    }
    message.ack();
  }
}

async function recordLastError(env: Env, message: GenerateMessage, reason: string): Promise<void> {
  try {
    await new JobLedger(database(env.DB), message.tenantId).update(message.jobId, {
      error: reason.slice(0, 2000),
      updatedAt: new Date().toISOString(),
    });
  } catch {
    // The retry still happens; losing the reason only makes the eventual failure less specific.
  }
}
